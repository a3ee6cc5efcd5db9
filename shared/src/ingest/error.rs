//! What can go wrong while ingesting, said in ingest's own terms. Each variant's message is the
//! text clients get; its status and stable `code` are chosen in one place, at the edge
//! (`crate::error`, section "ingest").

use std::sync::Arc;

use crate::sentry::SentryError;

/// Why an ingest request (any format) was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// No ingest key in the request.
    #[error("an ingest key is required")]
    MissingKey,
    /// The key is malformed, unknown, revoked, or its project is deleted (never tell which).
    #[error("the ingest key is not valid")]
    InvalidKey,
    /// The key was revoked (or its project deleted) after this instance looked it up, and
    /// before the events were stored: nothing was stored, and the answer is [`Self::InvalidKey`]'s.
    #[error("the ingest key is not valid")]
    KeyRevoked,
    /// The Sentry route's project id is not a number, so it names no project.
    #[error("project not found")]
    UnknownProject,
    /// A valid key of another project than the one in the URL.
    #[error("this key does not belong to the project in the URL")]
    ProjectMismatch,
    /// Over the project's per-minute limit; retry after `retry_after` seconds.
    #[error("rate limit exceeded")]
    RateLimited { retry_after: u64 },
    /// The body holds nothing but whitespace.
    #[error("request body is empty")]
    EmptyBody,
    /// The body nests arrays/objects deeper than `limit`.
    #[error("JSON nested deeper than {limit} levels")]
    JsonTooDeep { limit: usize },
    /// The body is not JSON.
    #[error("body is not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// An event (`at`: `event` or `events[i]`) is not a JSON object.
    #[error("{at} must be a JSON object")]
    NotAnObject { at: String },
    /// An event's fields have the wrong types.
    #[error("{at}: {source}")]
    InvalidEvent {
        at: String,
        #[source]
        source: serde_json::Error,
    },
    /// One event of a native body is over `http::MAX_EVENT_BYTES`.
    #[error("one event exceeds 1 MiB")]
    EventTooLarge,
    /// A native array with no event.
    #[error("the array holds no events")]
    EmptyBatch,
    /// A native array with more than `max` events.
    #[error("at most {max} events per request")]
    TooManyEvents { max: usize },
    /// A native event without `error_message` (`at` names the field).
    #[error("{at} is required")]
    MissingErrorMessage { at: String },
    /// A native event without `environment` nor `deployment_id`.
    #[error("{at} is required unless deployment_id is given")]
    MissingEnvironment { at: String },
    /// A native event without `commit_sha` nor `deployment_id`.
    #[error("{at} is required unless deployment_id is given")]
    MissingCommitSha { at: String },
    /// A `commit_sha` that is not 40 hexadecimal characters.
    #[error("{at} must be 40 hexadecimal characters")]
    InvalidCommitSha { at: String },
    /// An `event_id` too long or not printable.
    #[error("event_id must be at most 128 printable characters")]
    InvalidEventId,
    /// A Sentry body that cannot be decoded or parsed (or a compressed native body that cannot
    /// be decoded); the Sentry error says what and how to answer.
    #[error(transparent)]
    Sentry(#[from] SentryError),
    /// A database statement failed (looking up the key, the limit, a deployment, or storing).
    #[error("database query failed")]
    Database(#[source] DbError),
    /// The group-commit writer went away without answering (a bug: it answers every job).
    #[error("the ingest writer stopped before answering")]
    WriterStopped,
}

impl From<sqlx::Error> for IngestError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e.into())
    }
}

impl From<DbError> for IngestError {
    fn from(e: DbError) -> Self {
        Self::Database(e)
    }
}

/// A database error that can be handed to several waiters: one failed group statement
/// (`group`) fails every request written by it, each keeping the same cause.
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct DbError(pub Arc<sqlx::Error>);

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        Self(Arc::new(e))
    }
}

impl DbError {
    /// Whether the database is unreachable or overloaded (a retryable 503), see
    /// [`crate::error::is_unavailable`].
    pub fn is_unavailable(&self) -> bool {
        crate::error::is_unavailable(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiError;

    fn answer(e: IngestError) -> (u16, &'static str, String, Option<u64>) {
        let api = ApiError::from(e);
        (api.status(), api.code(), api.to_string(), api.retry_after())
    }

    #[test]
    fn ingest_errors_keep_their_published_status_code_and_message() {
        let at = || "events[2].commit_sha".to_owned();
        assert_eq!(
            answer(IngestError::MissingKey),
            (
                401,
                "missing_ingest_key",
                "an ingest key is required".into(),
                None
            )
        );
        assert_eq!(
            answer(IngestError::KeyRevoked),
            answer(IngestError::InvalidKey)
        );
        assert_eq!(
            answer(IngestError::UnknownProject),
            (404, "not_found", "project not found".into(), None)
        );
        assert_eq!(
            answer(IngestError::RateLimited { retry_after: 7 }),
            (429, "rate_limited", "rate limit exceeded".into(), Some(7))
        );
        assert_eq!(
            answer(IngestError::InvalidCommitSha { at: at() }),
            (
                422,
                "invalid_commit_sha",
                "events[2].commit_sha must be 40 hexadecimal characters".into(),
                None
            )
        );
        assert_eq!(
            answer(IngestError::TooManyEvents { max: 1000 }),
            (
                413,
                "too_many_events",
                "at most 1000 events per request".into(),
                None
            )
        );
        assert_eq!(
            answer(IngestError::Sentry(SentryError::MissingKey)),
            (401, "missing_sentry_key", "missing sentry key".into(), None)
        );
    }

    #[test]
    fn a_database_error_is_a_retryable_503_when_the_database_is_away_and_an_opaque_500_otherwise() {
        let away = answer(sqlx::Error::PoolTimedOut.into());
        assert_eq!(
            (away.0, away.1, away.3),
            (503, "database_unavailable", Some(5))
        );
        let broken = answer(sqlx::Error::RowNotFound.into());
        assert_eq!(
            (broken.0, broken.1, broken.2.as_str()),
            (500, "internal_error", "internal error")
        );
        assert_eq!(answer(IngestError::WriterStopped).0, 500);
    }

    #[test]
    fn one_failed_statement_shares_its_cause_with_every_request_in_it() {
        let e = DbError::from(sqlx::Error::PoolClosed);
        let (a, b) = (e.clone(), e);
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert!(a.is_unavailable());
    }
}

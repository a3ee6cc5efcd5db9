//! The one place errors become HTTP: every concern's error converts into [`ApiError`], whose
//! `status()` documents each class and whose body is the uniform
//! `{"error": {"code": "snake_case_code", "message": "human text"}}`.
//!
//! Use cases return their concern's own enum, whose variants say what went wrong in the domain
//! (`auth::AuthError`, `projects::ProjectsError`, `hooks::HooksError`,
//! `incidents::IncidentsError`, `sourcemaps::UploadsError`, …); callers branch on those
//! variants. Below the classes, one section per concern maps each variant to its status and stable `code` — clients depend on
//! them, so a code, once published, does not change.

use std::borrow::Cow;

/// An error a handler answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body or a parameter cannot be parsed.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 401: missing or bad credentials.
    #[error("{message}")]
    Unauthorized {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 403: valid credentials that do not cover this object (an ingest key of another project).
    #[error("{message}")]
    Forbidden {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 404: does not exist, or may not be seen by the caller (never tell which).
    #[error("{message}")]
    NotFound {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: conflicts with what exists.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 413: the body, once read or decompressed, is too large.
    #[error("{message}")]
    PayloadTooLarge {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 415: an encoding or media type cairn does not read.
    #[error("{message}")]
    UnsupportedMediaType {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 422: parses, but breaks a rule.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// 429: over the project's rate limit; retry after the given seconds.
    #[error("rate limit exceeded")]
    RateLimited { retry_after: u64 },
    /// 503: a dependency (database, GitHub) is down or not configured; clients retry.
    #[error("{message}")]
    Unavailable {
        code: &'static str,
        message: Cow<'static, str>,
        #[source]
        source: Option<anyhow::Error>,
    },
    /// 500: a bug or an unexpected failure; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

macro_rules! ctor {
    ($fn:ident, $variant:ident) => {
        /// Builds this error class with a stable code and a message.
        pub fn $fn(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
            Self::$variant {
                code,
                message: message.into(),
            }
        }
    };
}

impl ApiError {
    ctor!(bad_request, BadRequest);
    ctor!(unauthorized, Unauthorized);
    ctor!(forbidden, Forbidden);
    ctor!(conflict, Conflict);
    ctor!(too_large, PayloadTooLarge);
    ctor!(unsupported, UnsupportedMediaType);
    ctor!(unprocessable, Unprocessable);

    /// The uniform 404 for anything missing or hidden.
    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound {
            code: "not_found",
            message: format!("{what} not found").into(),
        }
    }

    /// A 503 that tells clients to retry.
    pub fn unavailable(
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
        source: Option<anyhow::Error>,
    ) -> Self {
        Self::Unavailable {
            code,
            message: message.into(),
            source,
        }
    }

    /// The HTTP status of each class.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } => 400,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict { .. } => 409,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType { .. } => 415,
            Self::Unprocessable { .. } => 422,
            Self::RateLimited { .. } => 429,
            Self::Unavailable { .. } => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::PayloadTooLarge { code, .. }
            | Self::UnsupportedMediaType { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Unavailable { code, .. } => code,
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RateLimited { .. } => "rate_limited",
            Self::Internal(_) => "internal_error",
        }
    }

    /// Seconds a client should wait before retrying, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after } => Some(*retry_after),
            Self::Unavailable { .. } => Some(5),
            _ => None,
        }
    }
}

/// `true` for database errors that mean "unreachable or overloaded", which are retryable 503s.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // 08: connection exception; 57P0x: shutdown / cannot connect now; 53300: too many connections;
            // 40001/40P01: serialization failure / deadlock (retry).
            code.starts_with("08")
                || code.starts_with("57P")
                || code == "53300"
                || code == "40001"
                || code == "40P01"
        }
        _ => false,
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        database_failure(is_unavailable(&e), e.into())
    }
}

/// A failed statement: `503 database_unavailable` when the database is unreachable or
/// overloaded (clients retry), else an opaque 500 whose cause is only logged.
fn database_failure(unavailable: bool, cause: anyhow::Error) -> ApiError {
    if unavailable {
        ApiError::unavailable(
            "database_unavailable",
            "the database is unavailable, retry later",
            Some(cause),
        )
    } else {
        ApiError::Internal(cause.context("database query failed"))
    }
}

/// Whether `e` is a unique violation of the named constraint (or any, when `constraint` is None).
pub fn is_unique_violation(e: &sqlx::Error, constraint: Option<&str>) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23505")
                && constraint.is_none_or(|c| db.constraint() == Some(c))
        }
        _ => false,
    }
}

// ==== ingest ====================================================================================
//
// How each `ingest::IngestError` is answered (`POST /v1/events`, `POST /api/{sentry_id}/envelope/`,
// `POST /api/{sentry_id}/store/`). The message is the variant's text; status and code are here.
// Clients and SDKs depend on every code: once published, it does not change.
//
// | variant                          | status | code                                  |
// |----------------------------------|--------|---------------------------------------|
// | MissingKey                       | 401    | missing_ingest_key                    |
// | InvalidKey, KeyRevoked           | 401    | invalid_ingest_key                    |
// | UnknownProject                   | 404    | not_found                             |
// | ProjectMismatch                  | 403    | project_mismatch                      |
// | RateLimited                      | 429    | rate_limited (+ Retry-After)          |
// | EmptyBody                        | 400    | empty_body                            |
// | JsonTooDeep                      | 400    | json_too_deep                         |
// | InvalidJson                      | 400    | invalid_json                          |
// | NotAnObject, InvalidEvent        | 422    | invalid_event                         |
// | EventTooLarge                    | 413    | event_too_large                       |
// | EmptyBatch                       | 422    | empty_batch                           |
// | TooManyEvents                    | 413    | too_many_events                       |
// | MissingErrorMessage              | 422    | missing_error_message                 |
// | MissingEnvironment               | 422    | missing_environment                   |
// | MissingCommitSha                 | 422    | missing_commit_sha                    |
// | InvalidCommitSha                 | 422    | invalid_commit_sha                    |
// | InvalidEventId                   | 422    | invalid_event_id                      |
// | Sentry(e)                        | e.status() | e.code() (see `sentry::SentryError`) |
// | Database, unreachable/overloaded | 503    | database_unavailable (+ Retry-After)  |
// | Database, anything else          | 500    | internal_error                        |
// | WriterStopped                    | 500    | internal_error                        |

impl From<crate::ingest::IngestError> for ApiError {
    fn from(e: crate::ingest::IngestError) -> Self {
        use crate::ingest::IngestError as E;
        let message = e.to_string();
        match e {
            E::MissingKey => ApiError::unauthorized("missing_ingest_key", message),
            E::InvalidKey | E::KeyRevoked => ApiError::unauthorized("invalid_ingest_key", message),
            E::UnknownProject => ApiError::not_found("project"),
            E::ProjectMismatch => ApiError::forbidden("project_mismatch", message),
            E::RateLimited { retry_after } => ApiError::RateLimited { retry_after },
            E::EmptyBody => ApiError::bad_request("empty_body", message),
            E::JsonTooDeep { .. } => ApiError::bad_request("json_too_deep", message),
            E::InvalidJson(_) => ApiError::bad_request("invalid_json", message),
            E::NotAnObject { .. } | E::InvalidEvent { .. } => {
                ApiError::unprocessable("invalid_event", message)
            }
            E::EventTooLarge => ApiError::too_large("event_too_large", message),
            E::EmptyBatch => ApiError::unprocessable("empty_batch", message),
            E::TooManyEvents { .. } => ApiError::too_large("too_many_events", message),
            E::MissingErrorMessage { .. } => {
                ApiError::unprocessable("missing_error_message", message)
            }
            E::MissingEnvironment { .. } => ApiError::unprocessable("missing_environment", message),
            E::MissingCommitSha { .. } => ApiError::unprocessable("missing_commit_sha", message),
            E::InvalidCommitSha { .. } => ApiError::unprocessable("invalid_commit_sha", message),
            E::InvalidEventId => ApiError::unprocessable("invalid_event_id", message),
            E::Sentry(e) => e.into(),
            E::Database(e) => e.into(),
            E::WriterStopped => ApiError::Internal(anyhow::Error::new(E::WriterStopped)),
        }
    }
}

/// A failed ingest statement, answered as any other (`From<sqlx::Error>`).
impl From<crate::ingest::DbError> for ApiError {
    fn from(e: crate::ingest::DbError) -> Self {
        database_failure(e.is_unavailable(), e.into())
    }
}

/// Ingest handlers and the ingest-key extractor answer with their own error.
impl axum::response::IntoResponse for crate::ingest::IngestError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}

/// A Sentry body cairn cannot read: the status [`SentryError::status`] documents, its code.
///
/// [`SentryError::status`]: crate::sentry::SentryError::status
impl From<crate::sentry::SentryError> for ApiError {
    fn from(e: crate::sentry::SentryError) -> Self {
        let (code, message) = (e.code(), e.to_string());
        match e.status() {
            401 => ApiError::unauthorized(code, message),
            413 => ApiError::too_large(code, message),
            415 => ApiError::unsupported(code, message),
            422 => ApiError::unprocessable(code, message),
            _ => ApiError::bad_request(code, message),
        }
    }
}

// ==== end ingest ================================================================================

// ───── auth: sessions, sign-in, repo access ──────────────────────────────────────────────────

/// Each [`AuthError`](crate::auth::AuthError) as HTTP. Clients depend on these codes.
///
/// | variant               | status | code                    |
/// |-----------------------|--------|-------------------------|
/// | `MissingSession`      | 401    | `missing_session`       |
/// | `InvalidSession`      | 401    | `invalid_session`       |
/// | `GitHubTokenRefused`  | 401    | `invalid_github_token`  |
/// | `CodeRefused`         | 400    | `invalid_oauth_code`    |
/// | `BadState`            | 400    | `invalid_oauth_state`   |
/// | `AccessDenied`        | 400    | `oauth_access_denied`   |
/// | `NotAuthorized`       | 400    | `oauth_error`           |
/// | `NoAccess(what)`      | 404    | `not_found` ("{what} not found": never tell which) |
/// | `NotRepoAdmin`        | 403    | `not_repo_admin`        |
/// | `NotRepoWriter`       | 403    | `not_repo_writer`       |
/// | `SsoRequired`         | 403    | `github_sso_required` (never cached) |
/// | `ReturnToNotAllowed`  | 422    | `return_to_not_allowed` |
/// | `OtherBrowser`        | 400    | `oauth_browser_mismatch` |
/// | `SignInRateLimited`   | 429    | `rate_limited` (+ `Retry-After`) |
/// | `GitHubNotConfigured` | 503    | `github_not_configured` |
/// | `GitHubUnavailable`   | 503    | `github_unavailable`    |
/// | `GitHubRateLimited`   | 503    | `github_rate_limited` (never cached) |
/// | `BadUrl`              | 500    | `internal_error`        |
/// | `Database`            | 503 `database_unavailable` or 500, as every database error |
impl From<crate::auth::AuthError> for ApiError {
    fn from(e: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError as E;
        let message = e.to_string();
        match e {
            E::MissingSession => Self::unauthorized("missing_session", message),
            E::InvalidSession => Self::unauthorized("invalid_session", message),
            E::GitHubTokenRefused => Self::unauthorized("invalid_github_token", message),
            E::CodeRefused(_) => Self::bad_request("invalid_oauth_code", message),
            E::BadState => Self::bad_request("invalid_oauth_state", message),
            E::AccessDenied => Self::bad_request("oauth_access_denied", message),
            E::NotAuthorized => Self::bad_request("oauth_error", message),
            E::NoAccess(what) => Self::not_found(what),
            E::NotRepoAdmin => Self::forbidden("not_repo_admin", message),
            E::NotRepoWriter => Self::forbidden("not_repo_writer", message),
            E::SsoRequired => Self::forbidden("github_sso_required", message),
            E::ReturnToNotAllowed => Self::unprocessable("return_to_not_allowed", message),
            E::OtherBrowser => Self::bad_request("oauth_browser_mismatch", message),
            E::SignInRateLimited { retry_after } => Self::RateLimited { retry_after },
            E::GitHubNotConfigured => Self::unavailable("github_not_configured", message, None),
            E::GitHubUnavailable(src) => {
                Self::unavailable("github_unavailable", message, Some(src))
            }
            E::GitHubRateLimited => Self::unavailable("github_rate_limited", message, None),
            E::BadUrl(src) => Self::Internal(src.into()),
            E::Database(src) => src.into(),
        }
    }
}

// ───── projects: projects, their keys, the audit log ─────────────────────────────────────────

/// Each [`ProjectsError`](crate::projects::ProjectsError) as HTTP.
///
/// | variant                  | status | code                |
/// |--------------------------|--------|---------------------|
/// | `InvalidRepo`            | 422    | `invalid_repo`      |
/// | `InvalidParameter(name)` | 422    | `invalid_parameter` |
/// | `ProjectExists`          | 409    | `project_exists`    |
/// | `ProjectNotFound`        | 404    | `not_found`         |
/// | `KeyNotFound`            | 404    | `not_found`         |
/// | `UploadTokenNotFound`    | 404    | `not_found`         |
/// | `Auth`                   | as [`AuthError`](crate::auth::AuthError) |
/// | `Database`               | 503 `database_unavailable` or 500 |
impl From<crate::projects::ProjectsError> for ApiError {
    fn from(e: crate::projects::ProjectsError) -> Self {
        use crate::projects::ProjectsError as E;
        let message = e.to_string();
        match e {
            E::InvalidRepo(_) => Self::unprocessable("invalid_repo", message),
            E::InvalidParameter(_) => Self::unprocessable("invalid_parameter", message),
            E::ProjectExists => Self::conflict("project_exists", message),
            E::ProjectNotFound => Self::not_found("project"),
            E::KeyNotFound => Self::not_found("key"),
            E::UploadTokenNotFound => Self::not_found("upload token"),
            E::Auth(e) => e.into(),
            E::Database(e) => e.into(),
        }
    }
}

// ───── hooks: Vercel hooks and their deliveries ──────────────────────────────────────────────

/// Each [`HooksError`](crate::hooks::HooksError) as HTTP. A delivery is checked in this order:
/// hook (404), size (413), signature (401), body (400, 422).
///
/// | variant                            | status | code                |
/// |------------------------------------|--------|---------------------|
/// | `InvalidSecret`                    | 422    | `invalid_secret`    |
/// | `HookNotFound`                     | 404    | `not_found`         |
/// | `DeliveryTooLarge`                 | 413    | `payload_too_large` |
/// | `Vercel(MissingSignature)`         | 401    | `missing_signature` |
/// | `Vercel(BadSignature)`             | 401    | `invalid_signature` |
/// | `Vercel(InvalidJson)`              | 400    | `invalid_json`      |
/// | `Vercel(InvalidPayload)`           | 422    | `invalid_payload`   |
/// | `SecretUnreadable`                 | 500    | `internal_error`    |
/// | `Auth`, `Projects`                 | as their own enums |
/// | `Database`                         | 503 `database_unavailable` or 500 |
impl From<crate::hooks::HooksError> for ApiError {
    fn from(e: crate::hooks::HooksError) -> Self {
        use crate::hooks::HooksError as E;
        use crate::vercel::VercelError as V;
        let message = e.to_string();
        match e {
            E::InvalidSecret => Self::unprocessable("invalid_secret", message),
            E::HookNotFound => Self::not_found("hook"),
            E::DeliveryTooLarge => crate::http::too_large(),
            E::Vercel(V::MissingSignature) => Self::unauthorized("missing_signature", message),
            E::Vercel(V::BadSignature) => Self::unauthorized("invalid_signature", message),
            E::Vercel(V::InvalidJson(_)) => Self::bad_request("invalid_json", message),
            E::Vercel(V::InvalidPayload(_)) => Self::unprocessable("invalid_payload", message),
            E::SecretUnreadable => Self::Internal(e.into()),
            E::Auth(e) => e.into(),
            E::Projects(e) => e.into(),
            E::Database(e) => e.into(),
        }
    }
}

// ───── incidents: the IDE's queries ──────────────────────────────────────────────────────────

/// Each [`IncidentsError`](crate::incidents::IncidentsError) as HTTP.
///
/// | variant            | status | code                 |
/// |--------------------|--------|----------------------|
/// | `MissingRepo`      | 422    | `missing_repo`       |
/// | `InvalidRepo`      | 422    | `invalid_repo`       |
/// | `InvalidCommitSha` | 422    | `invalid_commit_sha` |
/// | `InvalidStatus`    | 422    | `invalid_status`     |
/// | `InvalidLimit`     | 422    | `invalid_limit`      |
/// | `InvalidCursor`    | 422    | `invalid_cursor`     |
/// | `RepoNotFound`     | 404    | `not_found`          |
/// | `IncidentNotFound` | 404    | `not_found`          |
/// | `StoredRepo`       | 500    | `internal_error`     |
/// | `Auth`             | as [`AuthError`](crate::auth::AuthError) |
/// | `Database`         | 503 `database_unavailable` or 500 |
impl From<crate::incidents::IncidentsError> for ApiError {
    fn from(e: crate::incidents::IncidentsError) -> Self {
        use crate::incidents::IncidentsError as E;
        let message = e.to_string();
        match e {
            E::MissingRepo => Self::unprocessable("missing_repo", message),
            E::InvalidRepo(_) => Self::unprocessable("invalid_repo", message),
            E::InvalidCommitSha(_) => Self::unprocessable("invalid_commit_sha", message),
            E::InvalidStatus => Self::unprocessable("invalid_status", message),
            E::InvalidLimit => Self::unprocessable("invalid_limit", message),
            E::InvalidCursor => Self::unprocessable("invalid_cursor", message),
            E::RepoNotFound => Self::not_found("repo"),
            E::IncidentNotFound => Self::not_found("incident"),
            E::StoredRepo(src) => Self::Internal(src.into()),
            E::Auth(e) => e.into(),
            E::Database(e) => e.into(),
        }
    }
}

// ───── uploads: Sentry's upload API (source maps) ────────────────────────────────────────────

/// Each [`UploadsError`](crate::sourcemaps::UploadsError) as HTTP (the uploads function). A
/// fault inside an uploaded bundle is not here: assemble answers `200` with `state: error`.
///
/// | variant                          | status | code                      |
/// |----------------------------------|--------|---------------------------|
/// | `MissingToken`                   | 401    | `missing_upload_token`    |
/// | `InvalidToken`                   | 401    | `invalid_upload_token`    |
/// | `RequestTooLarge`                | 413    | `payload_too_large`       |
/// | `Chunk(NotMultipart, Malformed, Empty)` | 400 | `invalid_chunk_upload` |
/// | `Chunk(BadName)`                 | 400    | `invalid_chunk_name`      |
/// | `Chunk(BadGzip)`                 | 400    | `invalid_chunk_gzip`      |
/// | `Chunk(ChecksumMismatch)`        | 400    | `chunk_checksum_mismatch` |
/// | `Chunk(TooLarge)`                | 413    | `chunk_too_large`         |
/// | `Assemble(InvalidChecksum)`      | 400    | `invalid_checksum`        |
/// | `Assemble(DistWithoutVersion)`   | 400    | `dist_without_version`    |
/// | `Assemble(WrongProject)`         | 403    | `wrong_project`           |
/// | `InvalidRelease`                 | 400    | `invalid_release`         |
/// | `ReleaseNotFound`                | 404    | `not_found`               |
/// | `Database`                       | 503 `database_unavailable` or 500 |
impl From<crate::sourcemaps::UploadsError> for ApiError {
    fn from(e: crate::sourcemaps::UploadsError) -> Self {
        use crate::sourcemaps::assemble::AssembleError as A;
        use crate::sourcemaps::chunks::ChunkError as C;
        use crate::sourcemaps::UploadsError as E;
        let message = e.to_string();
        match e {
            E::MissingToken => Self::unauthorized("missing_upload_token", message),
            E::InvalidToken => Self::unauthorized("invalid_upload_token", message),
            E::RequestTooLarge => Self::too_large("payload_too_large", message),
            E::Chunk(C::NotMultipart | C::Malformed | C::Empty) => {
                Self::bad_request("invalid_chunk_upload", message)
            }
            E::Chunk(C::BadName(_)) => Self::bad_request("invalid_chunk_name", message),
            E::Chunk(C::BadGzip(_)) => Self::bad_request("invalid_chunk_gzip", message),
            E::Chunk(C::ChecksumMismatch(_)) => {
                Self::bad_request("chunk_checksum_mismatch", message)
            }
            E::Chunk(C::TooLarge(_)) => Self::too_large("chunk_too_large", message),
            E::Assemble(A::InvalidChecksum) => Self::bad_request("invalid_checksum", message),
            E::Assemble(A::DistWithoutVersion) => {
                Self::bad_request("dist_without_version", message)
            }
            E::Assemble(A::WrongProject(_)) => Self::forbidden("wrong_project", message),
            E::Assemble(A::Database(e)) | E::Database(e) => e.into(),
            E::InvalidRelease => Self::bad_request("invalid_release", message),
            E::ReleaseNotFound => Self::not_found("release"),
        }
    }
}

/// The upload-token extractor answers with its own error.
impl axum::response::IntoResponse for crate::sourcemaps::UploadsError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}

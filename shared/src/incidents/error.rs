//! What can go wrong reading or changing incidents. The status and code of each variant are in
//! `crate::error` (its incidents section).

use crate::auth::AuthError;
use crate::domain::DomainError;

/// Why an incidents query or change is refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum IncidentsError {
    /// `GET /v1/incidents` without `repo`.
    #[error("repo=owner/name is required")]
    MissingRepo,
    /// `repo` is not `owner/name`.
    #[error("{0}")]
    InvalidRepo(#[source] DomainError),
    /// `commit` is not a full SHA.
    #[error("{0}")]
    InvalidCommitSha(#[source] DomainError),
    /// A status other than `open` or `resolved`.
    #[error("status must be open or resolved")]
    InvalidStatus,
    /// `limit` is not a number from 1 to 200.
    #[error("limit must be between 1 and 200")]
    InvalidLimit,
    /// `cursor` is not a `next_cursor` cairn gave.
    #[error("cursor is not valid")]
    InvalidCursor,
    /// The repo has no live project.
    #[error("repo not found")]
    RepoNotFound,
    /// No incident has this id.
    #[error("incident not found")]
    IncidentNotFound,
    /// A stored project's repo no longer parses (a bug, or a row written by hand).
    #[error("a stored repo name does not parse")]
    StoredRepo(#[source] DomainError),
    /// The caller is not signed in, may not read the repo, or GitHub failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn each_variant_keeps_its_published_status_and_code() {
        let cases = [
            (IncidentsError::MissingRepo, 422, "missing_repo"),
            (
                IncidentsError::InvalidRepo(DomainError::InvalidRepo),
                422,
                "invalid_repo",
            ),
            (
                IncidentsError::InvalidCommitSha(DomainError::InvalidCommitSha),
                422,
                "invalid_commit_sha",
            ),
            (IncidentsError::InvalidStatus, 422, "invalid_status"),
            (IncidentsError::InvalidLimit, 422, "invalid_limit"),
            (IncidentsError::InvalidCursor, 422, "invalid_cursor"),
            (IncidentsError::RepoNotFound, 404, "not_found"),
            (IncidentsError::IncidentNotFound, 404, "not_found"),
            (
                IncidentsError::StoredRepo(DomainError::InvalidRepo),
                500,
                "internal_error",
            ),
            (
                IncidentsError::Auth(AuthError::NoAccess("repo")),
                404,
                "not_found",
            ),
        ];
        for (e, status, code) in cases {
            let e = ApiError::from(e);
            assert_eq!((e.status(), e.code()), (status, code));
        }
    }
}

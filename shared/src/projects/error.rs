//! What can go wrong with projects and their keys. The status and code of each variant are in
//! `crate::error` (its projects section).

use crate::auth::AuthError;
use crate::domain::DomainError;

/// Why a project operation is refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectsError {
    /// The repo is not `owner/name`.
    #[error("{0}")]
    InvalidRepo(#[source] DomainError),
    /// The repo already has a live project (one per repo).
    #[error("this repo already has a project")]
    ProjectExists,
    /// No live project has this id (or the caller may not see it).
    #[error("project not found")]
    ProjectNotFound,
    /// The project has no key with this id.
    #[error("key not found")]
    KeyNotFound,
    /// The project has no live upload token with this id.
    #[error("upload token not found")]
    UploadTokenNotFound,
    /// A query parameter is not a number in its range.
    #[error("{0} is out of range")]
    InvalidParameter(&'static str),
    /// The caller is not signed in, may not see or administer the repo, or GitHub failed.
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
            (
                ProjectsError::InvalidRepo(DomainError::InvalidRepo),
                422,
                "invalid_repo",
                "repo must look like owner/name",
            ),
            (
                ProjectsError::ProjectExists,
                409,
                "project_exists",
                "this repo already has a project",
            ),
            (
                ProjectsError::ProjectNotFound,
                404,
                "not_found",
                "project not found",
            ),
            (
                ProjectsError::KeyNotFound,
                404,
                "not_found",
                "key not found",
            ),
            (
                ProjectsError::UploadTokenNotFound,
                404,
                "not_found",
                "upload token not found",
            ),
            (
                ProjectsError::InvalidParameter("limit"),
                422,
                "invalid_parameter",
                "limit is out of range",
            ),
            (
                ProjectsError::Auth(AuthError::NotRepoAdmin),
                403,
                "not_repo_admin",
                "you need admin rights on this repo on GitHub",
            ),
        ];
        for (e, status, code, message) in cases {
            let e = ApiError::from(e);
            assert_eq!(
                (e.status(), e.code(), e.to_string().as_str()),
                (status, code, message)
            );
        }
    }
}

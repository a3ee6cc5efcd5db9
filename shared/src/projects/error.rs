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

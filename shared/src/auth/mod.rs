//! Who is calling: cairn sessions for users, repo access checked on GitHub and cached.

pub mod access;
pub mod oauth;
pub mod session;

pub use access::{require_permission, RepoAccess};
pub use session::{authenticate, Caller};

use crate::error::ApiError;
use crate::github::GitHubError;

impl From<GitHubError> for ApiError {
    fn from(e: GitHubError) -> Self {
        match e {
            GitHubError::NotConfigured => ApiError::unavailable(
                "github_not_configured",
                "GitHub sign-in is not configured: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET",
                None,
            ),
            GitHubError::BadCode(_) => ApiError::bad_request(
                "invalid_oauth_code",
                "GitHub refused the authorization code",
            ),
            GitHubError::Unauthorized => {
                ApiError::unauthorized("invalid_github_token", "GitHub refused the token")
            }
            GitHubError::Unavailable(src) => ApiError::unavailable(
                "github_unavailable",
                "GitHub could not be reached, retry later",
                Some(src),
            ),
        }
    }
}

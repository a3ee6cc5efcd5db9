//! What can go wrong signing in, authenticating a session or checking repo access. The status and
//! code of each variant are in `crate::error` (its auth section); the messages here are the ones
//! clients see.

use crate::github::GitHubError;

/// Why a caller is refused, or a sign-in fails.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("Authorization: Bearer <session token> is required")]
    MissingSession,
    /// A bearer that is not a live session: malformed, unknown, expired, or its sealed GitHub
    /// token cannot be opened. Every case reads the same.
    #[error("missing, invalid or expired session token")]
    InvalidSession,
    /// GitHub refused the user's token (or it is not shaped like one).
    #[error("GitHub refused the token")]
    GitHubTokenRefused,
    /// No GitHub OAuth app is configured.
    #[error("GitHub sign-in is not configured: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET")]
    GitHubNotConfigured,
    /// GitHub could not be reached or answered with an error.
    #[error("GitHub could not be reached, retry later")]
    GitHubUnavailable(#[source] anyhow::Error),
    /// GitHub's rate limit for the user's token is used up: no answer, so nothing is known or
    /// cached about their access.
    #[error("GitHub's rate limit for your token is exhausted, retry later")]
    GitHubRateLimited,
    /// The repo's organization enforces SAML single sign-on and the user's GitHub token is not
    /// authorized for it (not cached: authorizing it on GitHub takes effect at once).
    #[error("the repo's organization requires SAML single sign-on: authorize your GitHub token for it on GitHub, then retry")]
    SsoRequired,
    /// GitHub refused the authorization code of the callback.
    #[error("GitHub refused the authorization code")]
    CodeRefused(#[source] GitHubError),
    /// The sign-in state is unknown, used or expired (or the code or state is implausible).
    #[error("unknown, used or expired sign-in state")]
    BadState,
    /// The user declined on GitHub (`error=access_denied` on the callback).
    #[error("GitHub did not authorize the sign-in")]
    AccessDenied,
    /// GitHub sent the callback another error.
    #[error("GitHub did not authorize the sign-in")]
    NotAuthorized,
    /// The sign-in asked to send its token to an address that is not allowed.
    #[error("return_to is not an allowed address")]
    ReturnToNotAllowed,
    /// The callback came from a browser that did not start the sign-in (its binding cookie is
    /// missing or another one); the state is used up all the same.
    #[error("the sign-in must finish in the browser that started it; start again")]
    OtherBrowser,
    /// Too many sign-in requests from this client address this minute.
    #[error("too many sign-in attempts, retry later")]
    SignInRateLimited { retry_after: u64 },
    /// The caller has no access to the repo of this object (answered as if it did not exist).
    #[error("{0} not found")]
    NoAccess(&'static str),
    /// The caller can read the repo but the action needs admin rights.
    #[error("you need admin rights on this repo on GitHub")]
    NotRepoAdmin,
    /// The caller can read the repo but the action (resolving, reopening) needs push access.
    #[error("you need write (push) access to this repo on GitHub")]
    NotRepoWriter,
    /// A URL cairn builds (GitHub's authorize URL, the `return_to` redirect) does not parse.
    #[error("a sign-in URL could not be built")]
    BadUrl(#[from] url::ParseError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<GitHubError> for AuthError {
    fn from(e: GitHubError) -> Self {
        match e {
            GitHubError::NotConfigured => Self::GitHubNotConfigured,
            GitHubError::BadCode(_) => Self::CodeRefused(e),
            GitHubError::Unauthorized => Self::GitHubTokenRefused,
            GitHubError::RateLimited => Self::GitHubRateLimited,
            GitHubError::SsoRequired => Self::SsoRequired,
            GitHubError::Unavailable(src) => Self::GitHubUnavailable(src),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn http(e: AuthError) -> (u16, &'static str, String) {
        let e = ApiError::from(e);
        (e.status(), e.code(), e.to_string())
    }

    #[test]
    fn each_variant_keeps_its_published_status_and_code() {
        let cases = [
            (AuthError::MissingSession, 401, "missing_session"),
            (AuthError::InvalidSession, 401, "invalid_session"),
            (AuthError::GitHubTokenRefused, 401, "invalid_github_token"),
            (
                AuthError::CodeRefused(GitHubError::BadCode("x".into())),
                400,
                "invalid_oauth_code",
            ),
            (AuthError::BadState, 400, "invalid_oauth_state"),
            (AuthError::AccessDenied, 400, "oauth_access_denied"),
            (AuthError::NotAuthorized, 400, "oauth_error"),
            (AuthError::NotRepoAdmin, 403, "not_repo_admin"),
            (AuthError::NotRepoWriter, 403, "not_repo_writer"),
            (AuthError::SsoRequired, 403, "github_sso_required"),
            (AuthError::GitHubRateLimited, 503, "github_rate_limited"),
            (AuthError::ReturnToNotAllowed, 422, "return_to_not_allowed"),
            (AuthError::OtherBrowser, 400, "oauth_browser_mismatch"),
            (
                AuthError::SignInRateLimited { retry_after: 7 },
                429,
                "rate_limited",
            ),
            (AuthError::GitHubNotConfigured, 503, "github_not_configured"),
            (
                AuthError::GitHubUnavailable(anyhow::anyhow!("down")),
                503,
                "github_unavailable",
            ),
            (
                AuthError::Database(sqlx::Error::PoolTimedOut),
                503,
                "database_unavailable",
            ),
            (
                AuthError::Database(sqlx::Error::RowNotFound),
                500,
                "internal_error",
            ),
        ];
        for (e, status, code) in cases {
            let (s, c, _) = http(e);
            assert_eq!((s, c), (status, code));
        }
        assert_eq!(
            http(AuthError::NoAccess("project")),
            (404, "not_found", "project not found".to_owned())
        );
    }

    #[test]
    fn github_failures_become_auth_failures() {
        assert!(matches!(
            AuthError::from(GitHubError::Unauthorized),
            AuthError::GitHubTokenRefused
        ));
        assert!(matches!(
            AuthError::from(GitHubError::NotConfigured),
            AuthError::GitHubNotConfigured
        ));
    }
}

//! What can go wrong connecting a Vercel hook or receiving a delivery. The status and code of each
//! variant are in `crate::error` (its hooks section).

use crate::auth::AuthError;
use crate::projects::ProjectsError;
use crate::vercel::VercelError;

/// Why a hook operation or a delivery is refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum HooksError {
    /// The secret to register does not look like the one Vercel shows.
    #[error("secret must be the webhook secret Vercel showed: 8 to 256 printable characters without spaces")]
    InvalidSecret,
    /// No live hook has this id (or it is another user's).
    #[error("hook not found")]
    HookNotFound,
    /// A delivery over `crate::http::MAX_BODY_BYTES`.
    #[error("request body exceeds 1 MiB")]
    DeliveryTooLarge,
    /// The delivery's signature is missing or wrong, or it is not a webhook delivery.
    #[error(transparent)]
    Vercel(#[from] VercelError),
    /// The hook's stored secret cannot be opened (`CAIRN_SECRET_KEY` changed?).
    #[error("hook secret could not be decrypted (CAIRN_SECRET_KEY changed?)")]
    SecretUnreadable,
    /// Checking the hook owner's rights on GitHub failed (GitHub unreachable: Vercel redelivers).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Creating the deployment's project failed.
    #[error(transparent)]
    Projects(#[from] ProjectsError),
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
            (HooksError::InvalidSecret, 422, "invalid_secret"),
            (HooksError::HookNotFound, 404, "not_found"),
            (HooksError::DeliveryTooLarge, 413, "payload_too_large"),
            (
                HooksError::Vercel(VercelError::MissingSignature),
                401,
                "missing_signature",
            ),
            (
                HooksError::Vercel(VercelError::BadSignature),
                401,
                "invalid_signature",
            ),
            (
                HooksError::Vercel(VercelError::InvalidJson("x".into())),
                400,
                "invalid_json",
            ),
            (
                HooksError::Vercel(VercelError::InvalidPayload("x".into())),
                422,
                "invalid_payload",
            ),
            (HooksError::SecretUnreadable, 500, "internal_error"),
            (
                HooksError::Auth(AuthError::GitHubUnavailable(anyhow::anyhow!("down"))),
                503,
                "github_unavailable",
            ),
            (
                HooksError::Projects(ProjectsError::ProjectExists),
                409,
                "project_exists",
            ),
        ];
        for (e, status, code) in cases {
            let e = ApiError::from(e);
            assert_eq!((e.status(), e.code()), (status, code));
        }
    }
}

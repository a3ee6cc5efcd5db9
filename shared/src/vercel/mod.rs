//! Vercel's webhook protocol, pure: the `x-vercel-signature` check over the raw body and the
//! parsing of a delivery into domain types. No I/O here; `crate::hooks` does the storing.

mod payload;
mod signature;

pub use payload::{parse, Delivery, DeploymentEvent, DeploymentState, EventKind, GitSource};
pub use signature::{sign, verify, SIGNATURE_HEADER};

/// Why a delivery is refused (its status and code: `crate::error`, hooks section).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VercelError {
    /// No `x-vercel-signature` header.
    #[error("the x-vercel-signature header is missing")]
    MissingSignature,
    /// The header is not the HMAC-SHA1 of the body under the hook's secret.
    #[error("the x-vercel-signature header does not match the body")]
    BadSignature,
    /// Signed, but not JSON.
    #[error("the delivery is not valid JSON: {0}")]
    InvalidJson(String),
    /// JSON, but not a webhook delivery (a field missing or of the wrong type).
    #[error("the delivery has the wrong shape: {0}")]
    InvalidPayload(String),
}

//! Vercel's webhook protocol, pure: the `x-vercel-signature` check over the raw body and the
//! parsing of a delivery into domain types. No I/O here; `crate::hooks` does the storing.

mod payload;
mod signature;

pub use payload::{parse, Delivery, DeploymentEvent, DeploymentState, EventKind, GitSource};
pub use signature::{sign, verify, SIGNATURE_HEADER};

use crate::error::ApiError;

/// Why a delivery is refused.
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

impl VercelError {
    /// Stable code of each refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::BadSignature => "invalid_signature",
            Self::InvalidJson(_) => "invalid_json",
            Self::InvalidPayload(_) => "invalid_payload",
        }
    }

    /// 401 for signatures, 400 for a body that does not parse, 422 for the wrong shape.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingSignature | Self::BadSignature => 401,
            Self::InvalidJson(_) => 400,
            Self::InvalidPayload(_) => 422,
        }
    }
}

impl From<VercelError> for ApiError {
    fn from(e: VercelError) -> Self {
        let (code, message) = (e.code(), e.to_string());
        match e.status() {
            401 => ApiError::unauthorized(code, message),
            400 => ApiError::bad_request(code, message),
            _ => ApiError::unprocessable(code, message),
        }
    }
}

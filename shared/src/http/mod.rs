//! The HTTP edge every function shares: the limits on what is read from the network, JSON in
//! and out, the extractors handlers take ([`extract`]), and the response boundary where errors
//! become responses and are logged once ([`edge`]).

pub mod edge;
pub mod extract;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use serde::Serialize;

use crate::error::ApiError;

pub use edge::{finish, health};
pub use extract::{ClientIp, Json, Param, PeerAddr, QueryMap, RawBody};

/// What every handler answers with.
pub type Response = axum::response::Response;

/// Largest body read from the network, as sent (docs/ARCHITECTURE.md, Limits). API Gateway
/// allows more; cairn refuses more with `413 payload_too_large`, on Lambda and locally alike.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest body once decompressed.
pub const MAX_DECOMPRESSED_BYTES: usize = 8 * 1024 * 1024;
/// Largest single event (one native event of an array, one Sentry `event` item or `/store/`
/// body): what one body may be.
pub const MAX_EVENT_BYTES: usize = MAX_BODY_BYTES;
/// Deepest JSON nesting accepted.
pub const MAX_JSON_DEPTH: usize = 64;

/// The refusal of a body over [`MAX_BODY_BYTES`] (the one place its text is written).
pub fn too_large() -> ApiError {
    ApiError::too_large("payload_too_large", "request body exceeds 1 MiB")
}

/// A JSON response with the given status. The body is text, so API Gateway gets it as is.
pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    raw_json(status, body)
}

/// A response whose body is already JSON text.
pub fn raw_json(status: u16, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// An empty response with the given status.
pub fn empty(status: u16) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

/// A redirect that no cache keeps.
pub fn redirect(location: &str) -> Result<Response, ApiError> {
    let location = HeaderValue::from_str(location).map_err(|e| ApiError::Internal(e.into()))?;
    let mut resp = empty(302);
    let headers = resp.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// Deepest nesting of arrays/objects in `bytes`, counted outside strings; stops counting at
/// `limit + 1` so hostile input costs one pass.
pub fn json_depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// What is checked before a JSON body is parsed: `400 empty_body` when there is nothing but
/// whitespace, `400 json_too_deep` past [`MAX_JSON_DEPTH`].
pub fn check_json_text(bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("empty_body", "request body is empty"));
    }
    if json_depth_exceeds(bytes, MAX_JSON_DEPTH) {
        return Err(ApiError::bad_request(
            "json_too_deep",
            "JSON nested deeper than 64 levels",
        ));
    }
    Ok(())
}

/// Parses a JSON body: `400 invalid_json` when it does not parse, `400 json_too_deep` past
/// [`MAX_JSON_DEPTH`]. Shape errors are `422 invalid_body`.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    check_json_text(bytes)?;
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("body is not valid JSON: {e}"))
    })?;
    serde_json::from_value(value).map_err(|e| {
        ApiError::unprocessable("invalid_body", format!("body has the wrong shape: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_counted_outside_strings() {
        assert!(!json_depth_exceeds(br#"{"a": "[[[[[[[["}"#, 3));
        assert!(json_depth_exceeds(b"[[[[", 3));
        assert!(!json_depth_exceeds(b"[[[]]]", 3));
        assert!(!json_depth_exceeds(br#"["\"[[[[["]"#, 2));
    }
}

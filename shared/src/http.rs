//! HTTP helpers shared by every function: JSON bodies in and out, credentials, query strings,
//! and the response boundary where errors are turned into responses and logged once.

use std::collections::HashMap;

use lambda_http::{Body, Request};
use serde::Serialize;

use crate::error::ApiError;

/// What every handler returns.
pub type Response = lambda_http::Response<Body>;

/// Largest body read from the network, as sent (ARCHITECTURE §5).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest body once decompressed.
pub const MAX_DECOMPRESSED_BYTES: usize = 8 * 1024 * 1024;
/// Deepest JSON nesting accepted.
pub const MAX_JSON_DEPTH: usize = 64;

/// A JSON response with the given status. The body is text, so API Gateway gets it as is (a
/// binary body would be base64-encoded on the way out and decoded again by API Gateway).
pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    lambda_http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body))
        .unwrap_or_default()
}

/// An empty response with the given status.
pub fn empty(status: u16) -> Response {
    lambda_http::Response::builder()
        .status(status)
        .body(Body::Empty)
        .unwrap_or_default()
}

/// A redirect.
pub fn redirect(location: &str) -> Response {
    lambda_http::Response::builder()
        .status(302)
        .header("location", location)
        .header("cache-control", "no-store")
        .body(Body::Empty)
        .unwrap_or_default()
}

/// The error body, with `Retry-After` where the class has one.
pub fn error_response(e: &ApiError) -> Response {
    let mut resp = json(
        e.status(),
        &serde_json::json!({"error": {"code": e.code(), "message": e.to_string()}}),
    );
    if let Some(secs) = e.retry_after() {
        if let Ok(v) = secs.to_string().parse() {
            resp.headers_mut().insert("retry-after", v);
        }
    }
    resp
}

/// The response boundary: turns a handler result into a response and logs failures once
/// (5xx as `error!` with the cause, 4xx as `debug!`).
pub fn respond(route: &'static str, result: Result<Response, ApiError>) -> Response {
    match result {
        Ok(resp) => resp,
        Err(e) => {
            let status = e.status();
            if status >= 500 {
                let cause = match &e {
                    ApiError::Internal(src) => format!("{src:#}"),
                    ApiError::Unavailable {
                        source: Some(src), ..
                    } => format!("{src:#}"),
                    other => other.to_string(),
                };
                tracing::error!(route, status, code = e.code(), error = %cause, "request failed");
            } else {
                tracing::debug!(route, status, code = e.code(), "request refused");
            }
            error_response(&e)
        }
    }
}

/// `GET /healthz` on every function: `200 {"status": "ok"}` when the database answers, the
/// uniform `503` (with `Retry-After`) when it does not.
pub async fn health(pool: &sqlx::PgPool) -> Response {
    match crate::db::ping(pool).await {
        Ok(()) => json(200, &serde_json::json!({"status": "ok"})),
        Err(e) => respond("GET /healthz", Err(e.into())),
    }
}

/// The body bytes, whatever the runtime delivered.
pub fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(s) => s.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// A header value as text, if present and printable.
pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The bearer credential from `Authorization`, if any.
pub fn bearer(req: &Request) -> Option<&str> {
    let value = header(req, "authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Query parameters (first value wins), decoded.
pub fn query(req: &Request) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Some(q) = req.uri().query() {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
    }
    out
}

/// The path split into non-empty segments.
pub fn segments(req: &Request) -> Vec<&str> {
    req.uri()
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
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

/// Parses a JSON body: `400 invalid_json` when it does not parse, `413` when too large,
/// `400 json_too_deep` past [`MAX_JSON_DEPTH`]. Shape errors are `422 invalid_body`.
pub fn read_json<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = body_bytes(req);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::too_large(
            "payload_too_large",
            "request body exceeds 1 MiB",
        ));
    }
    parse_json(bytes)
}

/// See [`read_json`].
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

    #[test]
    fn errors_have_uniform_bodies_and_retry_after() {
        let resp = error_response(&ApiError::RateLimited { retry_after: 7 });
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "7");
        let body: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
    }
}

//! The Sentry protocol routes: the key comes from `X-Sentry-Auth`, the `sentry_key` query
//! parameter, or the envelope header's `dsn`; the body may be compressed; every response carries
//! `X-Sentry-Rate-Limits` switching off the traffic cairn does not store, and may be read by a
//! browser SDK from any origin.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::map_response;
use shared::http::{self, Param, RawBody, Response};
use shared::ingest::{self, Ingest, IngestError, Source};
use shared::sentry;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;

/// The Sentry routes, each answer with the headers SDKs read.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(envelope, envelope_preflight))
        .routes(routes!(store, store_preflight))
        .layer(map_response(sentry_headers))
}

/// Categories cairn drops: telling SDKs to stop sending them saves everyone the traffic.
const DISABLED: &str = "86400:transaction;span;profile;replay:organization:disabled";

/// Browser SDKs (`@sentry/browser`, the client side of `@sentry/nextjs`) post from the app's
/// origin without credentials, as a CORS "simple request" (`text/plain`); the answer must allow
/// any origin, and expose the headers the SDK reads, or the browser hides it from the SDK.
const CORS: &[(&str, &str)] = &[
    ("access-control-allow-origin", "*"),
    (
        "access-control-expose-headers",
        "x-sentry-error, x-sentry-rate-limits, retry-after",
    ),
];

/// Adds `X-Sentry-Rate-Limits` (with the project's own limit when this answer is a 429) and
/// the CORS headers to every answer of a Sentry route.
async fn sentry_headers(resp: Response) -> Response {
    with_sentry_headers(resp)
}

/// See [`sentry_headers`]; also for the local server, which may refuse a body before routing.
pub fn with_sentry_headers(mut resp: Response) -> Response {
    let retry_after = (resp.status() == 429)
        .then(|| http::extract::header(resp.headers(), "retry-after").map(str::to_owned))
        .flatten();
    let value = match retry_after {
        Some(secs) => format!("{secs}:error;default:project, {DISABLED}"),
        None => DISABLED.to_owned(),
    };
    let headers = resp.headers_mut();
    if let Ok(v) = value.parse() {
        headers.insert("x-sentry-rate-limits", v);
    }
    for (name, value) in CORS {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    resp
}

/// The headers a preflight allows when the browser names none, or names them unreadably: what
/// the SDKs send themselves (Sentry's auth and tracing headers, the body's type and encoding).
const DEFAULT_ALLOWED_HEADERS: &str = "x-sentry-auth, x-requested-with, origin, accept, \
content-type, content-encoding, authentication, authorization, sentry-trace, baggage";

/// The answer to a CORS preflight (`OPTIONS`), sent by a browser before a POST that is not a
/// "simple request": an SDK given extra transport `headers`, or a `Content-Type` other than
/// `text/plain`. Like Sentry's, it allows POST from any origin, and the headers the browser asks
/// for: the key travels in the DSN, never in a cookie, so allowing any header exposes nothing.
/// Answered before any key or project is looked at (the browser sends none), and cached by the
/// browser for an hour. The layer adds the origin and exposed headers as on every answer.
fn preflight(headers: &HeaderMap) -> Response {
    let asked = http::extract::header(headers, "access-control-request-headers")
        .map(str::trim)
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 1024
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_, ".contains(&b))
        });
    let mut resp = http::empty(200);
    let h = resp.headers_mut();
    h.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("POST, OPTIONS"),
    );
    let allowed = asked
        .and_then(|a| HeaderValue::from_str(a).ok())
        .unwrap_or(HeaderValue::from_static(DEFAULT_ALLOWED_HEADERS));
    h.insert("access-control-allow-headers", allowed);
    h.insert("access-control-max-age", HeaderValue::from_static("3600"));
    h.insert(
        "vary",
        HeaderValue::from_static("Access-Control-Request-Headers"),
    );
    resp
}

fn request_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let header = |name| http::extract::header(headers, name);
    header("x-sentry-auth")
        .and_then(sentry::key_from_auth_header)
        .or_else(|| header("authorization").and_then(sentry::key_from_auth_header))
        .or_else(|| query.and_then(sentry::key_from_query))
}

/// The Sentry routes' one path: `kind` is `envelope` or `store`.
async fn run(
    state: &Ingest,
    headers: &HeaderMap,
    query: Option<&str>,
    raw: &[u8],
    sentry_id: &str,
    kind: &str,
) -> Result<Response, IngestError> {
    let sentry_id: i64 = sentry_id.parse().map_err(|_| IngestError::UnknownProject)?;
    let encoding = http::extract::header(headers, "content-encoding");
    // The key first: from the headers or the query, else (an envelope) from its header line,
    // decoding only that line. Nothing else is decoded or parsed for a request without a good key.
    let key = match request_key(headers, query) {
        Some(key) => Some(key),
        None if kind == "envelope" => sentry::key_from_envelope_header(encoding, raw)?,
        None => None,
    };
    let project = state.authenticate(key.as_deref()).await?;
    if project.sentry_id != sentry_id {
        return Err(IngestError::ProjectMismatch);
    }
    let body = sentry::decode_body(encoding, raw, http::MAX_DECOMPRESSED_BYTES)?;
    let (header_id, events) = if kind == "envelope" {
        let (header, events) = sentry::events_from_envelope(&body)?;
        (header.event_id, events)
    } else {
        let ev = sentry::event_from_store(&body)?;
        (ev.event_id.clone(), vec![ev])
    };
    if events.is_empty() {
        return Ok(http::json(200, &serde_json::json!({"id": header_id})));
    }
    let stored = ingest::ingest(state, &project, events, Source::Sentry).await?;
    let id = stored.first().map(|s| s.event_id.clone()).or(header_id);
    Ok(http::json(200, &serde_json::json!({"id": id})))
}

/// Sentry's answer.
#[derive(utoipa::ToSchema)]
pub struct SentryAccepted {
    /// The event id (null for an envelope without an event).
    pub id: Option<String>,
}

macro_rules! sentry_route {
    ($name:ident, $preflight:ident, $path:literal, $kind:literal, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(post, path = $path, tag = "sentry",
            security(("sentry_auth" = []), ("sentry_key" = []), ()),
            params(("sentry_id" = i64, Path, description = "the project's numeric id from its DSN")),
            request_body(description = "the body as the SDK sends it (any content type), optionally gzip/deflate/br encoded",
                content((String = "application/x-sentry-envelope"), (String = "text/plain"))),
            responses(
                (status = 200, description = "accepted", body = SentryAccepted),
                (status = 400, description = "malformed body", body = shared::openapi::ErrorBody),
                (status = 401, description = "missing or invalid key", body = shared::openapi::ErrorBody),
                (status = 403, description = "the key belongs to another project", body = shared::openapi::ErrorBody),
                (status = 404, description = "no such project", body = shared::openapi::ErrorBody),
                (status = 413, description = "too large", body = shared::openapi::ErrorBody),
                (status = 415, description = "unsupported Content-Encoding", body = shared::openapi::ErrorBody),
                (status = 422, description = "an event breaks a rule", body = shared::openapi::ErrorBody),
                (status = 429, description = "rate limited", body = shared::openapi::ErrorBody),
                (status = 503, description = "database unavailable, retry", body = shared::openapi::ErrorBody)))]
        pub async fn $name(
            State(state): State<AppState>,
            Param(sentry_id): Param<String>,
            uri: axum::http::Uri,
            headers: HeaderMap,
            RawBody(raw): RawBody,
        ) -> Result<Response, IngestError> {
            run(&state, &headers, uri.query(), &raw, &sentry_id, $kind).await
        }

        #[doc = concat!("`OPTIONS ", $path, "`: a browser's CORS preflight (see [`preflight`]).")]
        #[utoipa::path(options, path = $path, tag = "sentry",
            params(("sentry_id" = String, Path, description = "the project's numeric id from its DSN (not checked)")),
            responses((status = 200, description = "POST allowed from any origin, with the headers asked for",
                headers(("access-control-allow-methods" = String), ("access-control-allow-headers" = String),
                        ("access-control-max-age" = String)))))]
        pub async fn $preflight(headers: HeaderMap) -> Response {
            preflight(&headers)
        }
    };
}

sentry_route!(
    envelope,
    envelope_preflight,
    "/api/{sentry_id}/envelope/",
    "envelope",
    "`POST /api/{sentry_id}/envelope/`: the Sentry envelope endpoint."
);
sentry_route!(
    store,
    store_preflight,
    "/api/{sentry_id}/store/",
    "store",
    "`POST /api/{sentry_id}/store/`: Sentry's legacy store endpoint."
);

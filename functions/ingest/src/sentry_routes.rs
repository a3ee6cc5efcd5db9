//! The Sentry protocol routes: the key comes from `X-Sentry-Auth`, the `sentry_key` query
//! parameter, or the envelope header's `dsn`; the body may be compressed; every response carries
//! `X-Sentry-Rate-Limits` switching off the traffic cairn does not store, and may be read by a
//! browser SDK from any origin.

use lambda_http::http::HeaderValue;
use lambda_http::Request;
use shared::http::{self, Response};
use shared::ingest::{self, Source};
use shared::sentry;
use shared::{ApiError, App};

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

fn with_limits(mut resp: Response, extra: Option<String>) -> Response {
    let value = match extra {
        Some(e) => format!("{e}, {DISABLED}"),
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

/// Adds the Sentry routes' headers (`X-Sentry-Rate-Limits`, CORS) to an answer given to a Sentry
/// route before its handler ran (the local server refuses an oversize body while reading it):
/// SDKs read them on every answer.
pub fn with_sentry_headers(path: &str, resp: Response) -> Response {
    if path.starts_with("/api/") {
        with_limits(resp, None)
    } else {
        resp
    }
}

/// Handles `POST /api/{sentry_id}/envelope/` and `.../store/`.
async fn handle(app: &App, req: &Request, sentry_id: &str, kind: &str) -> Response {
    let route = if kind == "envelope" {
        "POST /api/{id}/envelope/"
    } else {
        "POST /api/{id}/store/"
    };
    let result = run(app, req, sentry_id, kind).await;
    let extra = match &result {
        Err(ApiError::RateLimited { retry_after }) => {
            Some(format!("{retry_after}:error;default:project"))
        }
        _ => None,
    };
    with_limits(http::respond(route, result), extra)
}

fn request_key(req: &Request) -> Option<String> {
    http::header(req, "x-sentry-auth")
        .and_then(sentry::key_from_auth_header)
        .or_else(|| http::header(req, "authorization").and_then(sentry::key_from_auth_header))
        .or_else(|| req.uri().query().and_then(sentry::key_from_query))
}

async fn run(app: &App, req: &Request, sentry_id: &str, kind: &str) -> Result<Response, ApiError> {
    let raw = http::body_bytes(req);
    if raw.len() > http::MAX_BODY_BYTES {
        return Err(ApiError::too_large(
            "payload_too_large",
            "request body exceeds 1 MiB",
        ));
    }
    let sentry_id: i64 = sentry_id
        .parse()
        .map_err(|_| ApiError::not_found("project"))?;
    let body = sentry::decode_body(
        http::header(req, "content-encoding"),
        raw,
        http::MAX_DECOMPRESSED_BYTES,
    )?;
    let (header_id, events, dsn_key) = if kind == "envelope" {
        let (header, events) = sentry::events_from_envelope(&body)?;
        let dsn_key = header
            .dsn
            .as_deref()
            .and_then(sentry::key_from_dsn)
            .map(|(k, _)| k);
        (header.event_id, events, dsn_key)
    } else {
        let ev = sentry::event_from_store(&body)?;
        (ev.event_id.clone(), vec![ev], None)
    };
    let key = request_key(req).or(dsn_key);
    let project = ingest::authenticate_key(app, key.as_deref()).await?;
    if project.sentry_id != sentry_id {
        return Err(ApiError::forbidden(
            "project_mismatch",
            "this key does not belong to the project in the URL",
        ));
    }
    if events.is_empty() {
        return Ok(http::json(200, &serde_json::json!({"id": header_id})));
    }
    let stored = ingest::ingest(app, &project, events, Source::Sentry).await?;
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
    ($name:ident, $path:literal, $kind:literal, $what:literal) => {
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
        pub async fn $name(app: &App, req: &Request, sentry_id: &str) -> Response {
            handle(app, req, sentry_id, $kind).await
        }
    };
}

sentry_route!(
    envelope,
    "/api/{sentry_id}/envelope/",
    "envelope",
    "`POST /api/{sentry_id}/envelope/`: the Sentry envelope endpoint."
);
sentry_route!(
    store,
    "/api/{sentry_id}/store/",
    "store",
    "`POST /api/{sentry_id}/store/`: Sentry's legacy store endpoint."
);

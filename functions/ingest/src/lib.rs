//! The ingest function: `POST /v1/events` (cairn's JSON) and the Sentry protocol
//! (`POST /api/{sentry_id}/envelope/`, `POST /api/{sentry_id}/store/`). Every format is parsed
//! into `ErrorEvent`s and handed to the one `shared::ingest::ingest` use case.

pub mod sentry_routes;

use lambda_http::{http::Method, Request};
use shared::http::{self, Response};
use shared::ingest::{self, Source};
use shared::{ApiError, App};

/// The routes this function serves (method, path template), as in `template.yaml`.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/events"),
    ("POST", "/api/{sentry_id}/envelope/"),
    ("POST", "/api/{sentry_id}/store/"),
    ("GET", "/healthz"),
];

/// Handles one request; never fails (client faults are 4xx responses).
pub async fn handle(app: &App, req: Request) -> Response {
    let segs: Vec<String> = http::segments(&req)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (req.method(), segs.as_slice()) {
        (&Method::POST, ["v1", "events"]) => {
            http::respond("POST /v1/events", native(app, &req).await)
        }
        (_, ["v1", "events"]) => http::respond("/v1/events", Err(ApiError::MethodNotAllowed)),
        (&Method::POST, ["api", id, "envelope"]) => sentry_routes::envelope(app, &req, id).await,
        (&Method::POST, ["api", id, "store"]) => sentry_routes::store(app, &req, id).await,
        (&Method::GET, ["healthz"]) => health(app).await,
        _ => http::respond("ingest", Err(ApiError::not_found("route"))),
    }
}

/// The OpenAPI description of this function's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(native, health, sentry_routes::envelope, sentry_routes::store))]
pub struct Doc;

/// A single event's answer.
#[derive(utoipa::ToSchema)]
pub struct Accepted {
    pub event_id: String,
    pub incident_id: String,
}

/// An array's answer, one entry per event in order.
#[derive(utoipa::ToSchema)]
pub struct AcceptedBatch {
    pub events: Vec<Accepted>,
}

/// One event or an array of events.
#[derive(utoipa::ToSchema)]
pub enum EventsBody {
    One(Box<ingest::native::NativeEvent>),
    Many(Vec<ingest::native::NativeEvent>),
}

/// `GET /healthz`: 200 when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "the database answers"),
              (status = 503, description = "the database does not answer", body = shared::openapi::ErrorBody)))]
pub async fn health(app: &App) -> Response {
    http::health(&app.pool).await
}

/// `POST /v1/events`: cairn's own format.
#[utoipa::path(post, path = "/v1/events", tag = "ingest", security(("ingest_key" = [])),
    request_body(content = EventsBody, description = "one event object, or an array of at most 1000"),
    responses(
        (status = 202, description = "stored (one event)", body = Accepted),
        (status = 400, description = "not JSON, empty, or nested too deep", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid ingest key", body = shared::openapi::ErrorBody),
        (status = 413, description = "body over 1 MiB (8 MiB decompressed)", body = shared::openapi::ErrorBody),
        (status = 415, description = "unsupported Content-Encoding", body = shared::openapi::ErrorBody),
        (status = 422, description = "an event breaks a rule", body = shared::openapi::ErrorBody),
        (status = 429, description = "rate limited", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable, retry", body = shared::openapi::ErrorBody)))]
async fn native(app: &App, req: &Request) -> Result<Response, ApiError> {
    if http::body_bytes(req).len() > http::MAX_BODY_BYTES {
        return Err(ApiError::too_large(
            "payload_too_large",
            "request body exceeds 1 MiB",
        ));
    }
    let body = shared::sentry::decode_body(
        http::header(req, "content-encoding"),
        http::body_bytes(req),
        http::MAX_DECOMPRESSED_BYTES,
    )?;
    let key = http::bearer(req);
    let project = ingest::authenticate_key(app, key).await?;
    let (events, batch) = ingest::native::parse(&body)?;
    let stored = ingest::ingest(app, &project, events, Source::Native).await?;
    let one = |s: &ingest::Stored| serde_json::json!({"event_id": s.event_id, "incident_id": s.incident_id});
    Ok(if batch {
        http::json(
            202,
            &serde_json::json!({"events": stored.iter().map(one).collect::<Vec<_>>()}),
        )
    } else {
        http::json(202, &stored.first().map(one).unwrap_or_default())
    })
}

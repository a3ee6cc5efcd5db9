//! The ingest function: `POST /v1/events` (cairn's JSON) and the Sentry protocol
//! (`POST /api/{sentry_id}/envelope/`, `POST /api/{sentry_id}/store/`). Every format is parsed
//! into `ErrorEvent`s and handed to the one `shared::ingest::ingest` use case.

mod sentry_routes;

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
        (&Method::POST, ["api", id, kind @ ("envelope" | "store")]) => {
            sentry_routes::handle(app, &req, id, kind).await
        }
        (&Method::GET, ["healthz"]) => health(app).await,
        _ => http::respond("ingest", Err(ApiError::not_found("route"))),
    }
}

/// `GET /healthz`: 200 when the database answers.
pub async fn health(app: &App) -> Response {
    match sqlx_ping(app).await {
        Ok(()) => http::json(200, &serde_json::json!({"status": "ok"})),
        Err(e) => http::respond("GET /healthz", Err(e)),
    }
}

async fn sqlx_ping(app: &App) -> Result<(), ApiError> {
    shared::db::ping(&app.pool).await.map_err(ApiError::from)
}

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

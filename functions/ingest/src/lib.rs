//! The ingest function: `POST /v1/events` (cairn's JSON) and the Sentry protocol
//! (`POST /api/{sentry_id}/envelope/`, `POST /api/{sentry_id}/store/`). Every format is parsed
//! into `ErrorEvent`s and handed to the one `shared::ingest::ingest` use case.

pub mod sentry_routes;

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use shared::http::{self, RawBody, Response};
use shared::ingest::{self, Ingest, IngestError, KeyedProject, Source};
use utoipa_axum::{router::OpenApiRouter, routes};

/// What this function's handlers use: the pool, the key cache, the rate limiter and the
/// group-commit writer, built once per instance.
pub type AppState = Arc<Ingest>;

/// Every route of this function, each declared once with its OpenAPI description.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(native))
        .merge(sentry_routes::api())
}

/// This function's routes with their state (what `main` and `cairn serve` serve).
pub fn router(state: AppState) -> axum::Router {
    api().split_for_parts().0.with_state(state)
}

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
async fn native(
    State(state): State<AppState>,
    project: KeyedProject,
    headers: HeaderMap,
    RawBody(raw): RawBody,
) -> Result<Response, IngestError> {
    let body = shared::sentry::decode_body(
        http::extract::header(&headers, "content-encoding"),
        &raw,
        http::MAX_DECOMPRESSED_BYTES,
    )?;
    let (events, batch) = ingest::native::parse(&body)?;
    let stored = ingest::ingest(&state, &project, events, Source::Native).await?;
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

//! The incidents function: what the VS Code extension asks for. `GET /v1/incidents`,
//! `GET /v1/incidents/{incident_id}`, `PATCH /v1/incidents/{incident_id}`.

use lambda_http::{http::Method, Request};
use serde::Deserialize;
use shared::http::{self, Response};
use shared::{auth, incidents, ApiError, App};

/// The routes this function serves (method, path template), as in `template.yaml`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/incidents"),
    ("GET", "/v1/incidents/{incident_id}"),
    ("PATCH", "/v1/incidents/{incident_id}"),
];

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

/// Handles one request; never fails (client faults are 4xx responses).
pub async fn handle(app: &App, req: Request) -> Response {
    let segs: Vec<String> = http::segments(&req)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (req.method(), segs.as_slice()) {
        (&Method::GET, ["v1", "incidents"]) => {
            http::respond("GET /v1/incidents", list(app, &req).await)
        }
        (&Method::GET, ["v1", "incidents", id]) => {
            http::respond("GET /v1/incidents/{id}", get(app, &req, id).await)
        }
        (&Method::PATCH, ["v1", "incidents", id]) => {
            http::respond("PATCH /v1/incidents/{id}", patch(app, &req, id).await)
        }
        (_, ["v1", "incidents", ..]) => http::respond("incidents", Err(ApiError::MethodNotAllowed)),
        (&Method::GET, ["healthz"]) => health(app).await,
        _ => http::respond("incidents", Err(ApiError::not_found("route"))),
    }
}

async fn health(app: &App) -> Response {
    match shared::db::ping(&app.pool).await {
        Ok(()) => http::json(200, &serde_json::json!({"status": "ok"})),
        Err(e) => http::respond("GET /healthz", Err(e.into())),
    }
}

async fn list(app: &App, req: &Request) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let q = incidents::ListQuery::parse(&http::query(req))?;
    let page = incidents::list(app, &caller, &q).await?;
    Ok(http::json(200, &page))
}

async fn get(app: &App, req: &Request, id: &str) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let (incident, events) = incidents::get(app, &caller, id).await?;
    let mut body = serde_json::to_value(&incident).map_err(|e| ApiError::Internal(e.into()))?;
    body["recent_events"] =
        serde_json::to_value(&events).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(http::json(200, &body))
}

async fn patch(app: &App, req: &Request, id: &str) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let body: StatusBody = http::read_json(req)?;
    let incident = incidents::set_status(app, &caller, id, &body.status).await?;
    Ok(http::json(200, &incident))
}

//! The projects function: projects and keys for signed-in users (`/v1/projects…`), Vercel hook
//! registration (`/v1/hooks…`) and the webhook Vercel calls (`POST /v1/hooks/vercel/{hook_id}`).

use lambda_http::{http::Method, Request};
use serde::Deserialize;
use shared::domain::RepoFullName;
use shared::http::{self, Response};
use shared::{auth, projects, ApiError, App};

/// The routes this function serves (method, path template), as in `template.yaml`.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/projects"),
    ("GET", "/v1/projects"),
    ("GET", "/v1/projects/{project_id}"),
    ("POST", "/v1/projects/{project_id}/keys"),
    ("DELETE", "/v1/projects/{project_id}/keys/{key_id}"),
];

#[derive(Deserialize)]
struct CreateBody {
    repo: String,
}

/// Handles one request; never fails (client faults are 4xx responses).
pub async fn handle(app: &App, req: Request) -> Response {
    let segs: Vec<String> = http::segments(&req)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = req.method().clone();
    match (&m, segs.as_slice()) {
        (&Method::POST, ["v1", "projects"]) => {
            http::respond("POST /v1/projects", create(app, &req).await)
        }
        (&Method::GET, ["v1", "projects"]) => {
            http::respond("GET /v1/projects", list(app, &req).await)
        }
        (&Method::GET, ["v1", "projects", id]) => {
            http::respond("GET /v1/projects/{id}", get(app, &req, id).await)
        }
        (&Method::POST, ["v1", "projects", id, "keys"]) => {
            http::respond("POST /v1/projects/{id}/keys", new_key(app, &req, id).await)
        }
        (&Method::DELETE, ["v1", "projects", id, "keys", key]) => http::respond(
            "DELETE /v1/projects/{id}/keys/{key}",
            revoke(app, &req, id, key).await,
        ),
        (_, ["v1", "projects", ..]) => http::respond("projects", Err(ApiError::MethodNotAllowed)),
        (&Method::GET, ["healthz"]) => match shared::db::ping(&app.pool).await {
            Ok(()) => http::json(200, &serde_json::json!({"status": "ok"})),
            Err(e) => http::respond("GET /healthz", Err(e.into())),
        },
        _ => http::respond("projects", Err(ApiError::not_found("route"))),
    }
}

async fn create(app: &App, req: &Request) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let body: CreateBody = http::read_json(req)?;
    let repo = RepoFullName::parse(&body.repo)
        .map_err(|e| ApiError::unprocessable("invalid_repo", e.to_string()))?;
    let created = projects::create(app, &caller, &repo).await?;
    Ok(http::json(201, &created))
}

async fn list(app: &App, req: &Request) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let list = projects::list(app, &caller).await?;
    Ok(http::json(200, &serde_json::json!({"projects": list})))
}

async fn get(app: &App, req: &Request, id: &str) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let p = projects::find_for(app, &caller, id, shared::github::Permission::Read).await?;
    let mut list = projects::describe(app, &[p.project_id]).await?;
    let one = list.pop().ok_or_else(|| ApiError::not_found("project"))?;
    Ok(http::json(200, &one))
}

async fn new_key(app: &App, req: &Request, id: &str) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let key = projects::new_key(app, &caller, id).await?;
    Ok(http::json(201, &key))
}

async fn revoke(app: &App, req: &Request, id: &str, key_id: &str) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let key = projects::revoke_key(app, &caller, id, key_id).await?;
    Ok(http::json(200, &key))
}

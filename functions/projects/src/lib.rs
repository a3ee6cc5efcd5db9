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

/// `POST /v1/projects` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateBody {
    /// `owner/name` of a GitHub repo the caller administers.
    repo: String,
}

/// `GET /v1/projects` answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ProjectList {
    projects: Vec<projects::ProjectInfo>,
}

/// The OpenAPI description of this function's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, get, new_key, revoke))]
pub struct Doc;

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

/// `POST /v1/projects`: a project for a repo the caller administers, with its first key.
#[utoipa::path(post, path = "/v1/projects", tag = "projects", security(("session" = [])), request_body = CreateBody,
    responses(
        (status = 201, description = "created; the key is shown this once", body = projects::NewKey),
        (status = 400, description = "body is not JSON", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 403, description = "the caller can read but not administer the repo", body = shared::openapi::ErrorBody),
        (status = 404, description = "the repo does not exist or the caller cannot see it", body = shared::openapi::ErrorBody),
        (status = 409, description = "the repo already has a project", body = shared::openapi::ErrorBody),
        (status = 422, description = "bad repo or body shape", body = shared::openapi::ErrorBody),
        (status = 503, description = "database or GitHub unavailable", body = shared::openapi::ErrorBody)))]
async fn create(app: &App, req: &Request) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let body: CreateBody = http::read_json(req)?;
    let repo = RepoFullName::parse(&body.repo)
        .map_err(|e| ApiError::unprocessable("invalid_repo", e.to_string()))?;
    let created = projects::create(app, &caller, &repo).await?;
    Ok(http::json(201, &created))
}

/// `GET /v1/projects`: the projects whose repo the caller can read.
#[utoipa::path(get, path = "/v1/projects", tag = "projects", security(("session" = [])),
    responses((status = 200, description = "the projects", body = ProjectList), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 503, description = "database or GitHub unavailable", body = shared::openapi::ErrorBody)))]
async fn list(app: &App, req: &Request) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let list = projects::list(app, &caller).await?;
    Ok(http::json(200, &ProjectList { projects: list }))
}

/// `GET /v1/projects/{project_id}`.
#[utoipa::path(get, path = "/v1/projects/{project_id}", tag = "projects", security(("session" = [])), params(("project_id" = String, Path, description = "proj_…")),
    responses((status = 200, description = "the project and its keys", body = projects::ProjectInfo), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 404, description = "no such project, or not visible to the caller", body = shared::openapi::ErrorBody), (status = 503, description = "database or GitHub unavailable", body = shared::openapi::ErrorBody)))]
async fn get(app: &App, req: &Request, id: &str) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let p = projects::find_for(app, &caller, id, shared::github::Permission::Read).await?;
    let mut list = projects::describe(app, &[p.project_id]).await?;
    let one = list.pop().ok_or_else(|| ApiError::not_found("project"))?;
    Ok(http::json(200, &one))
}

/// `POST /v1/projects/{project_id}/keys`: another ingest key (for rotation).
#[utoipa::path(post, path = "/v1/projects/{project_id}/keys", tag = "projects", security(("session" = [])), params(("project_id" = String, Path, description = "proj_…")),
    responses((status = 201, description = "the new key, shown this once", body = projects::NewKey), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 403, description = "the caller can read but not administer the repo", body = shared::openapi::ErrorBody), (status = 404, description = "no such project, or not visible to the caller", body = shared::openapi::ErrorBody), (status = 503, description = "database or GitHub unavailable", body = shared::openapi::ErrorBody)))]
async fn new_key(app: &App, req: &Request, id: &str) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let key = projects::new_key(app, &caller, id).await?;
    Ok(http::json(201, &key))
}

/// `DELETE /v1/projects/{project_id}/keys/{key_id}`: revoke; the key stops working at once.
#[utoipa::path(delete, path = "/v1/projects/{project_id}/keys/{key_id}", tag = "projects", security(("session" = [])),
    params(("project_id" = String, Path, description = "proj_…"), ("key_id" = String, Path, description = "key_…")),
    responses((status = 200, description = "the revoked key", body = projects::KeyInfo), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 403, description = "the caller can read but not administer the repo", body = shared::openapi::ErrorBody),
              (status = 404, description = "no such project or key, or not visible", body = shared::openapi::ErrorBody), (status = 503, description = "database or GitHub unavailable", body = shared::openapi::ErrorBody)))]
async fn revoke(app: &App, req: &Request, id: &str, key_id: &str) -> Result<Response, ApiError> {
    let caller = auth::authenticate(app, req).await?;
    let key = projects::revoke_key(app, &caller, id, key_id).await?;
    Ok(http::json(200, &key))
}

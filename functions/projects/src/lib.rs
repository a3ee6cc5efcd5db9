//! The projects function: projects, keys and upload tokens (`upload_tokens`) for signed-in users
//! (`/v1/projects…`), Vercel hook registration (`/v1/hooks…`) and the webhook Vercel calls
//! (`POST /v1/hooks/vercel/{hook_id}`).

pub mod upload_tokens;

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use shared::auth::{Auth, AuthState, Caller};
use shared::config::Config;
use shared::domain::RepoFullName;
use shared::http::{self, Json, Param, QueryMap, RawBody, Response};
use shared::projects::ProjectsError;
use shared::{hooks, projects, ApiError};
use utoipa_axum::{router::OpenApiRouter, routes};

/// What this function's handlers use: the auth checks (and, through them, the pool), and
/// cairn's public URL, which DSNs and hook URLs point at.
pub struct ProjectsState {
    pub auth: Auth,
    pub public_url: String,
}

impl AuthState for ProjectsState {
    fn auth(&self) -> &Auth {
        &self.auth
    }
}

/// This function's state, shared by every request of an instance.
pub type AppState = Arc<ProjectsState>;

/// Builds this function's state from configuration and the instance's auth checks.
pub fn state(config: &Config, auth: Auth) -> AppState {
    Arc::new(ProjectsState {
        auth,
        public_url: config.public_url.clone(),
    })
}

/// Every route of this function, each declared once with its OpenAPI description.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update))
        .routes(routes!(new_key))
        .routes(routes!(revoke))
        .routes(routes!(audit))
        .routes(routes!(connect_hook, list_hooks))
        .routes(routes!(remove_hook))
        .routes(routes!(vercel_delivery))
        .merge(upload_tokens::api())
}

/// This function's routes with their state (what `main` and `cairn serve` serve).
pub fn router(state: AppState) -> axum::Router {
    api().split_for_parts().0.with_state(state)
}

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

/// `POST /v1/hooks` body. No `Debug`: it holds the secret until it is wrapped.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ConnectBody {
    /// The signing secret Vercel showed when the webhook was created.
    secret: String,
}

/// `GET /v1/projects/{project_id}/audit` answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    entries: Vec<projects::AuditEntry>,
    /// Pass as `before` for the next page; null on the last.
    next_before: Option<i64>,
}

/// `GET /v1/hooks` answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HookList {
    hooks: Vec<hooks::HookInfo>,
}

/// `POST /v1/projects`: a project for a repo the caller administers, with its first key.
#[utoipa::path(post, path = "/v1/projects", tag = "projects", security(("session" = [])), request_body = CreateBody,
    responses(
        (status = 201, description = "created; the key is shown this once", body = projects::NewKey),
        (status = 400, description = "body is not JSON", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 403, description = "the caller can read but not administer the repo (`not_repo_admin`), or the repo's organization requires SAML single sign-on (`github_sso_required`)", body = shared::openapi::ErrorBody),
        (status = 404, description = "the repo does not exist or the caller cannot see it", body = shared::openapi::ErrorBody),
        (status = 409, description = "the repo already has a project", body = shared::openapi::ErrorBody),
        (status = 422, description = "bad repo or body shape", body = shared::openapi::ErrorBody),
        (status = 503, description = "database or GitHub unavailable, or GitHub's rate limit for the caller's token used up (`github_rate_limited`)", body = shared::openapi::ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateBody>,
) -> Result<Response, ApiError> {
    let repo = RepoFullName::parse(&body.repo).map_err(ProjectsError::InvalidRepo)?;
    let created = projects::create(&s.auth, &s.public_url, &caller, &repo).await?;
    Ok(http::json(201, &created))
}

/// `GET /v1/projects`: the projects whose repo the caller can read.
#[utoipa::path(get, path = "/v1/projects", tag = "projects", security(("session" = [])),
    responses((status = 200, description = "the projects", body = ProjectList), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 503, description = "database or GitHub unavailable, or GitHub's rate limit for the caller's token used up (`github_rate_limited`)", body = shared::openapi::ErrorBody)))]
async fn list(State(s): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let list = projects::list(&s.auth, &s.public_url, &caller).await?;
    Ok(http::json(200, &ProjectList { projects: list }))
}

/// `GET /v1/projects/{project_id}`.
#[utoipa::path(get, path = "/v1/projects/{project_id}", tag = "projects", security(("session" = [])), params(("project_id" = String, Path, description = "proj_…")),
    responses((status = 200, description = "the project and its keys", body = projects::ProjectInfo), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 403, description = "the repo's organization requires SAML single sign-on and the caller's GitHub token is not authorized for it (`github_sso_required`)", body = shared::openapi::ErrorBody), (status = 404, description = "no such project, or not visible to the caller", body = shared::openapi::ErrorBody), (status = 503, description = "database or GitHub unavailable, or GitHub's rate limit for the caller's token used up (`github_rate_limited`)", body = shared::openapi::ErrorBody)))]
async fn get(
    State(s): State<AppState>,
    caller: Caller,
    Param(id): Param<String>,
) -> Result<Response, ApiError> {
    let one = projects::get(&s.auth, &s.public_url, &caller, &id).await?;
    Ok(http::json(200, &one))
}

/// `PATCH /v1/projects/{project_id}`: change the project's settings (admins only).
#[utoipa::path(patch, path = "/v1/projects/{project_id}", tag = "projects", security(("session" = [])), params(("project_id" = String, Path, description = "proj_…")),
    request_body = projects::Settings,
    responses((status = 200, description = "the project as it now is", body = projects::ProjectInfo),
              (status = 400, description = "body is not JSON", body = shared::openapi::ErrorBody),
              (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody),
              (status = 403, description = "the caller can read but not administer the repo", body = shared::openapi::ErrorBody),
              (status = 404, description = "no such project, or not visible to the caller", body = shared::openapi::ErrorBody),
              (status = 422, description = "body has the wrong shape", body = shared::openapi::ErrorBody),
              (status = 503, description = "database or GitHub unavailable", body = shared::openapi::ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Param(id): Param<String>,
    Json(settings): Json<projects::Settings>,
) -> Result<Response, ApiError> {
    let one = projects::update(&s.auth, &s.public_url, &caller, &id, &settings).await?;
    Ok(http::json(200, &one))
}

/// `POST /v1/projects/{project_id}/keys`: another ingest key (for rotation).
#[utoipa::path(post, path = "/v1/projects/{project_id}/keys", tag = "projects", security(("session" = [])), params(("project_id" = String, Path, description = "proj_…")),
    responses((status = 201, description = "the new key, shown this once", body = projects::NewKey), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 403, description = "the caller can read but not administer the repo (`not_repo_admin`), or the repo's organization requires SAML single sign-on (`github_sso_required`)", body = shared::openapi::ErrorBody), (status = 404, description = "no such project, or not visible to the caller", body = shared::openapi::ErrorBody), (status = 503, description = "database or GitHub unavailable, or GitHub's rate limit for the caller's token used up (`github_rate_limited`)", body = shared::openapi::ErrorBody)))]
async fn new_key(
    State(s): State<AppState>,
    caller: Caller,
    Param(id): Param<String>,
) -> Result<Response, ApiError> {
    let key = projects::new_key(&s.auth, &s.public_url, &caller, &id).await?;
    Ok(http::json(201, &key))
}

/// `DELETE /v1/projects/{project_id}/keys/{key_id}`: revoke; the key stops working at once.
#[utoipa::path(delete, path = "/v1/projects/{project_id}/keys/{key_id}", tag = "projects", security(("session" = [])),
    params(("project_id" = String, Path, description = "proj_…"), ("key_id" = String, Path, description = "key_…")),
    responses((status = 200, description = "the revoked key", body = projects::KeyInfo), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 403, description = "the caller can read but not administer the repo (`not_repo_admin`), or the repo's organization requires SAML single sign-on (`github_sso_required`)", body = shared::openapi::ErrorBody),
              (status = 404, description = "no such project or key, or not visible", body = shared::openapi::ErrorBody), (status = 503, description = "database or GitHub unavailable, or GitHub's rate limit for the caller's token used up (`github_rate_limited`)", body = shared::openapi::ErrorBody)))]
async fn revoke(
    State(s): State<AppState>,
    caller: Caller,
    Param((id, key_id)): Param<(String, String)>,
) -> Result<Response, ApiError> {
    let key = projects::revoke_key(&s.auth, &caller, &id, &key_id).await?;
    Ok(http::json(200, &key))
}

/// `POST /v1/hooks`: connects a Vercel team by registering its webhook secret (stored sealed).
#[utoipa::path(post, path = "/v1/hooks", tag = "hooks", security(("session" = [])), request_body = ConnectBody,
    responses(
        (status = 201, description = "connected; paste `url` into Vercel's webhook settings", body = hooks::NewHook),
        (status = 400, description = "body is not JSON", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody),
        (status = 422, description = "missing or implausible secret", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn connect_hook(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<ConnectBody>,
) -> Result<Response, ApiError> {
    let secret = hooks::parse_secret(body.secret)?;
    let hook = hooks::connect(&s.auth, &s.public_url, &caller, &secret).await?;
    Ok(http::json(201, &hook))
}

/// `GET /v1/hooks`: the caller's hooks, never their secrets.
#[utoipa::path(get, path = "/v1/hooks", tag = "hooks", security(("session" = [])),
    responses((status = 200, description = "the caller's hooks", body = HookList), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn list_hooks(State(s): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let list = hooks::list(s.auth.pool(), &s.public_url, &caller).await?;
    Ok(http::json(200, &HookList { hooks: list }))
}

/// `DELETE /v1/hooks/{hook_id}`: removes one of the caller's hooks; its deliveries are refused.
#[utoipa::path(delete, path = "/v1/hooks/{hook_id}", tag = "hooks", security(("session" = [])), params(("hook_id" = String, Path, description = "hook_…")),
    responses((status = 200, description = "the removed hook", body = hooks::HookInfo), (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody), (status = 404, description = "no such hook, or not the caller's", body = shared::openapi::ErrorBody), (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn remove_hook(
    State(s): State<AppState>,
    caller: Caller,
    Param(id): Param<String>,
) -> Result<Response, ApiError> {
    let hook = hooks::remove(s.auth.pool(), &s.public_url, &caller, &id).await?;
    Ok(http::json(200, &hook))
}

/// `POST /v1/hooks/vercel/{hook_id}`: the webhook Vercel calls, authenticated by the
/// `x-vercel-signature` of the raw body (HMAC-SHA1 with the hook's secret), not a session.
#[utoipa::path(post, path = "/v1/hooks/vercel/{hook_id}", tag = "hooks",
    params(("hook_id" = String, Path, description = "hook_…"), ("x-vercel-signature" = String, Header, description = "lowercase hex HMAC-SHA1 of the raw body, keyed with the hook's secret")),
    request_body(content = Object, description = "a Vercel webhook delivery: {id, type, createdAt, region, payload}", content_type = "application/json"),
    responses(
        (status = 200, description = "recorded, a duplicate (redelivery) or ignored (not a deployment event); `reason` says why a deployment has no project", body = hooks::Receipt),
        (status = 400, description = "signed, but not JSON", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or wrong signature", body = shared::openapi::ErrorBody),
        (status = 404, description = "no such hook, or removed", body = shared::openapi::ErrorBody),
        (status = 413, description = "body over 1 MiB", body = shared::openapi::ErrorBody),
        (status = 422, description = "signed JSON that is not a webhook delivery", body = shared::openapi::ErrorBody),
        (status = 503, description = "database or GitHub unavailable; Vercel redelivers", body = shared::openapi::ErrorBody)))]
async fn vercel_delivery(
    State(s): State<AppState>,
    Param(hook_id): Param<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let signature = http::extract::header(&headers, shared::vercel::SIGNATURE_HEADER);
    let receipt = hooks::receive(&s.auth, &hook_id, &body, signature).await?;
    Ok(http::json(200, &receipt))
}

/// `GET /v1/projects/{project_id}/audit`: who did what, newest first (project admins only).
#[utoipa::path(get, path = "/v1/projects/{project_id}/audit", tag = "projects", security(("session" = [])),
    params(("project_id" = String, Path, description = "proj_…"),
           ("before" = Option<i64>, Query, description = "next_before of the previous page"),
           ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses(
        (status = 200, description = "audit entries", body = AuditPage),
        (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody),
        (status = 403, description = "the caller can read but not administer the repo (`not_repo_admin`), or the repo's organization requires SAML single sign-on (`github_sso_required`)", body = shared::openapi::ErrorBody),
        (status = 404, description = "no such project, or not visible to the caller", body = shared::openapi::ErrorBody),
        (status = 422, description = "a bad parameter", body = shared::openapi::ErrorBody),
        (status = 503, description = "database or GitHub unavailable, or GitHub's rate limit for the caller's token used up (`github_rate_limited`)", body = shared::openapi::ErrorBody)))]
async fn audit(
    State(s): State<AppState>,
    caller: Caller,
    Param(id): Param<String>,
    QueryMap(q): QueryMap,
) -> Result<Response, ApiError> {
    let page = projects::AuditQuery::parse(&q)?;
    let entries = projects::audit_log(&s.auth, &caller, &id, &page).await?;
    let next_before = (entries.len() as i64 == page.limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(http::json(
        200,
        &AuditPage {
            entries,
            next_before,
        },
    ))
}

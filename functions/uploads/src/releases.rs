//! The release calls the upload tools make by default (`releases new`, `finalize`, `deploys new`,
//! `set-commits`): each answered as Sentry would, so that a build never fails on them. A release
//! is recorded for the token's project (with its commit when the version names one); deploys and
//! commits are acknowledged and not kept (cairn learns deployments from Vercel).

use axum::extract::State;
use serde::Deserialize;
use shared::http::{self, Json, Param, Response};
use shared::sourcemaps::releases::{self, MAX_VERSION};
use shared::sourcemaps::tokens::TokenProject;
use shared::sourcemaps::UploadsError;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{AppState, OrgPath, Uploader};

/// The release routes.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(new_release))
        .routes(routes!(new_project_release))
        .routes(routes!(get_release, update_release))
        .routes(routes!(new_deploy))
        .routes(routes!(release_commits))
        .routes(routes!(previous_with_commits))
        .routes(routes!(list_repos))
}

/// What `releases new` (and `update_release` with a version) posts.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewRelease {
    pub version: String,
    #[serde(default, rename = "dateReleased")]
    pub date_released: Option<String>,
}

/// What `finalize` and `set-commits` put (anything else is ignored).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdatedRelease {
    #[serde(default, rename = "dateReleased")]
    pub date_released: Option<String>,
}

/// A release as sentry-cli reads one (its `ReleaseInfo`).
fn release_info(project: &TokenProject, version: &str, released: bool) -> serde_json::Value {
    let now = chrono_now();
    serde_json::json!({
        "version": version, "url": null, "dateCreated": now,
        "dateReleased": if released { serde_json::Value::from(now) } else { serde_json::Value::Null },
        "lastEvent": null, "newGroups": 0,
        "projects": [{"slug": project.repo_name, "name": project.repo_name}],
    })
}

fn chrono_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn record(
    state: &AppState,
    project: &TokenProject,
    version: &str,
    finalized: bool,
) -> Result<(), UploadsError> {
    let version = version.trim();
    if version.is_empty() || version.len() > MAX_VERSION || version.contains('/') {
        return Err(UploadsError::InvalidRelease);
    }
    releases::record(&state.pool, &project.project_id, version, finalized).await?;
    Ok(())
}

/// `releases new`, by either path: recorded, and answered as the release now is.
async fn create(
    state: &AppState,
    project: &TokenProject,
    body: &NewRelease,
) -> Result<Response, UploadsError> {
    let released = body.date_released.is_some();
    record(state, project, &body.version, released).await?;
    Ok(http::json(
        201,
        &release_info(project, body.version.trim(), released),
    ))
}

/// `POST /api/0/organizations/{org}/releases/`: `releases new`.
#[utoipa::path(post, path = "/api/0/organizations/{org}/releases/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner")), request_body = NewRelease,
    responses(
        (status = 201, description = "recorded (again: unchanged)"),
        (status = 400, description = "not JSON, or a bad version", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn new_release(
    State(state): State<AppState>,
    Uploader(project): Uploader,
    Param(_): Param<OrgPath>,
    Json(body): Json<NewRelease>,
) -> Result<Response, UploadsError> {
    create(&state, &project, &body).await
}

/// `POST /api/0/projects/{org}/{project}/releases/`: `releases new` of older clients.
#[utoipa::path(post, path = "/api/0/projects/{org}/{project}/releases/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner"), ("project" = String, Path, description = "the repository name")),
    request_body = NewRelease,
    responses(
        (status = 201, description = "recorded (again: unchanged)"),
        (status = 400, description = "not JSON, or a bad version", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn new_project_release(
    State(state): State<AppState>,
    Uploader(project): Uploader,
    Param(_): Param<(String, String)>,
    Json(body): Json<NewRelease>,
) -> Result<Response, UploadsError> {
    create(&state, &project, &body).await
}

/// `GET /api/0/organizations/{org}/releases/{version}/`: `releases info`.
#[utoipa::path(get, path = "/api/0/organizations/{org}/releases/{version}/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner"), ("version" = String, Path, description = "the release")),
    responses(
        (status = 200, description = "the release"),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody),
        (status = 404, description = "no such release", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn get_release(
    State(state): State<AppState>,
    Uploader(project): Uploader,
    Param((_org, version)): Param<(String, String)>,
) -> Result<Response, UploadsError> {
    let found = releases::finalized(&state.pool, &project.project_id, &version).await?;
    match found {
        Some(finalized) => Ok(http::json(
            200,
            &release_info(&project, &version, finalized),
        )),
        None => Err(UploadsError::ReleaseNotFound),
    }
}

/// `PUT /api/0/organizations/{org}/releases/{version}/`: `finalize` and `set-commits`.
#[utoipa::path(put, path = "/api/0/organizations/{org}/releases/{version}/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner"), ("version" = String, Path, description = "the release")),
    request_body = UpdatedRelease,
    responses(
        (status = 200, description = "recorded"),
        (status = 400, description = "not JSON, or a bad version", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn update_release(
    State(state): State<AppState>,
    Uploader(project): Uploader,
    Param((_org, version)): Param<(String, String)>,
    Json(body): Json<UpdatedRelease>,
) -> Result<Response, UploadsError> {
    let released = body.date_released.is_some();
    record(&state, &project, &version, released).await?;
    Ok(http::json(200, &release_info(&project, &version, released)))
}

/// `POST /api/0/organizations/{org}/releases/{version}/deploys/`: `deploys new`, echoed.
#[utoipa::path(post, path = "/api/0/organizations/{org}/releases/{version}/deploys/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner"), ("version" = String, Path, description = "the release")),
    responses(
        (status = 201, description = "acknowledged"),
        (status = 400, description = "not JSON", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody)))]
async fn new_deploy(
    Uploader(_): Uploader,
    Param(_): Param<(String, String)>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let field = |k: &str| body.get(k).cloned().unwrap_or(serde_json::Value::Null);
    let env = body
        .get("environment")
        .and_then(|v| v.as_str())
        .unwrap_or("production");
    http::json(
        201,
        &serde_json::json!({"environment": env, "name": field("name"), "url": field("url"),
                            "dateStarted": field("dateStarted"), "dateFinished": field("dateFinished")}),
    )
}

/// `GET /api/0/organizations/{org}/releases/{version}/commits/`: none kept.
#[utoipa::path(get, path = "/api/0/organizations/{org}/releases/{version}/commits/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner"), ("version" = String, Path, description = "the release")),
    responses((status = 200, description = "an empty list"),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody)))]
async fn release_commits(Uploader(_): Uploader, Param(_): Param<(String, String)>) -> Response {
    http::json(200, &serde_json::json!([]))
}

/// `GET /api/0/organizations/{org}/releases/{version}/previous-with-commits/`: none.
#[utoipa::path(get, path = "/api/0/organizations/{org}/releases/{version}/previous-with-commits/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner"), ("version" = String, Path, description = "the release")),
    responses((status = 200, description = "no previous release"),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody)))]
async fn previous_with_commits(
    Uploader(_): Uploader,
    Param(_): Param<(String, String)>,
) -> Response {
    http::json(200, &serde_json::json!({}))
}

/// `GET /api/0/organizations/{org}/repos/`: what `set-commits --auto` matches against (none).
#[utoipa::path(get, path = "/api/0/organizations/{org}/repos/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner")),
    responses((status = 200, description = "an empty list"),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody)))]
async fn list_repos(Uploader(_): Uploader, Param(_): Param<OrgPath>) -> Response {
    http::json(200, &serde_json::json!([]))
}

//! The uploads function: Sentry's upload API, as `sentry-cli sourcemaps upload`, the bundler
//! plugins and `@sentry/nextjs` call it with an upload token (`sntrys_…`): the chunk-upload
//! options and chunks, bundle assembly, the organization they read first, and the release calls
//! they make on the way ([`releases`]). Each handler hands its work to `shared::sourcemaps`.
//!
//! The `{org}` of every path is the repository owner when sentry-cli reads it from the token;
//! what an upload may touch is decided by the token alone (its one project), so another org slug
//! is not refused.

pub mod releases;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use http_body_util::{BodyExt, Limited};
use shared::config::Config;
use shared::http::{self, Json, Param, Response};
use shared::sourcemaps::assemble::{self, AssembleRequest, AssembleResponse};
use shared::sourcemaps::chunks::{self, ChunkOptions};
use shared::sourcemaps::tokens::TokenProject;
use shared::sourcemaps::{Uploads, UploadsError};
use sqlx::PgPool;
use utoipa_axum::{router::OpenApiRouter, routes};

/// This function's state, shared by every request of an instance.
pub type AppState = Arc<Uploads>;

/// Builds this function's state from configuration and the instance's pool.
pub fn state(config: &Config, pool: PgPool) -> AppState {
    Arc::new(Uploads::new(config, pool))
}

/// Every route of this function, each declared once with its OpenAPI description.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(organization))
        .routes(routes!(chunk_options, upload_chunks))
        .routes(routes!(assemble_bundle))
        .merge(releases::api())
}

/// This function's routes with their state (what `main` and `cairn serve` serve).
pub fn router(state: AppState) -> axum::Router {
    api().split_for_parts().0.with_state(state)
}

/// The project of the upload token in `Authorization: Bearer …`: `401` without a live one.
pub struct Uploader(pub TokenProject);

impl FromRequestParts<AppState> for Uploader {
    type Rejection = UploadsError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UploadsError> {
        let raw = http::extract::bearer(&parts.headers);
        state.uploader(raw).await.map(Self)
    }
}

/// The `{org}` path segment.
#[derive(serde::Deserialize)]
pub struct OrgPath {
    pub org: String,
}

/// `GET /api/0/organizations/{org}/`: what uploaders read before anything else.
#[utoipa::path(get, path = "/api/0/organizations/{org}/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner")),
    responses(
        (status = 200, description = "the organization, as Sentry describes one"),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn organization(
    State(state): State<AppState>,
    Uploader(project): Uploader,
    Param(_): Param<OrgPath>,
) -> Response {
    http::json(
        200,
        &serde_json::json!({
            "id": project.project_id,
            "slug": project.repo_owner,
            "name": project.repo_owner,
            "dateCreated": "2024-01-01T00:00:00Z",
            "isEarlyAdopter": false,
            "require2FA": false,
            "requireEmailVerification": false,
            "features": [],
            "links": {"organizationUrl": state.public_url, "regionUrl": state.public_url},
        }),
    )
}

/// `GET /api/0/organizations/{org}/chunk-upload/`: how to upload.
#[utoipa::path(get, path = "/api/0/organizations/{org}/chunk-upload/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner")),
    responses(
        (status = 200, description = "chunk size, request limits, compression, capabilities", body = ChunkOptions),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn chunk_options(
    State(state): State<AppState>,
    Uploader(_): Uploader,
    Param(OrgPath { org }): Param<OrgPath>,
) -> Response {
    http::json(
        200,
        &ChunkOptions::new(&state.public_url, &org, &state.limits),
    )
}

/// `POST /api/0/organizations/{org}/chunk-upload/`: chunks as `multipart/form-data`, one part
/// each (`file_gzip` or `file`, named by the SHA-1 of the uncompressed chunk).
#[utoipa::path(post, path = "/api/0/organizations/{org}/chunk-upload/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner")),
    request_body(content_type = "multipart/form-data", description = "chunks, one part each"),
    responses(
        (status = 200, description = "stored"),
        (status = 400, description = "not a form, or a chunk that does not match its name or is not gzip", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody),
        (status = 413, description = "a chunk or the request is over the chunk size", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn upload_chunks(
    State(state): State<AppState>,
    Uploader(project): Uploader,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, UploadsError> {
    // One chunk, gzip's few bytes of overhead, and the form around it (never past the 1 MiB
    // every body is held to).
    let limit = (state.limits.chunk + 64 * 1024).min(http::MAX_BODY_BYTES);
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(UploadsError::RequestTooLarge),
    };
    let content_type = http::extract::header(&headers, "content-type").unwrap_or_default();
    let chunks = chunks::parse_upload(content_type, &bytes, &state.limits)?;
    chunks::store(&state.pool, &project.project_id, &chunks).await?;
    Ok(http::empty(200))
}

/// `POST /api/0/organizations/{org}/artifactbundle/assemble/`: a bundle from its chunks.
#[utoipa::path(post, path = "/api/0/organizations/{org}/artifactbundle/assemble/", tag = "uploads", security(("upload_token" = [])),
    params(("org" = String, Path, description = "the repository owner")),
    request_body = AssembleRequest,
    responses(
        (status = 200, description = "`not_found` with the missing chunks, `ok`, or `error` with a detail", body = AssembleResponse),
        (status = 400, description = "not JSON, or checksums that are not SHA-1", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid upload token", body = shared::openapi::ErrorBody),
        (status = 403, description = "names a project that is not the token's", body = shared::openapi::ErrorBody),
        (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn assemble_bundle(
    State(state): State<AppState>,
    Uploader(project): Uploader,
    Json(req): Json<AssembleRequest>,
) -> Result<Response, UploadsError> {
    let done = assemble::assemble(&state.pool, &project, req, &state.limits).await?;
    Ok(http::json(200, &done.response))
}

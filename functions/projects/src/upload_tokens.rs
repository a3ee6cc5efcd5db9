//! A project's upload tokens (`/v1/projects/{project_id}/upload-tokens…`), for its admins: the
//! credential `sentry-cli`, the bundler plugins and `@sentry/nextjs` upload source maps with.

use axum::extract::State;
use serde::Deserialize;
use shared::auth::Caller;
use shared::http::{self, Param, RawBody, Response};
use shared::sourcemaps::tokens::TokenInfo;
use shared::{projects, ApiError};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;

/// The upload-token routes.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_upload_token, list_upload_tokens))
        .routes(routes!(revoke_upload_token))
}

/// `POST /v1/projects/{project_id}/upload-tokens` body (optional: an empty body is `{}`).
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CreateBody {
    /// A label for the token (where it is used, e.g. `vercel`), at most 100 characters.
    #[serde(default)]
    name: Option<String>,
}

/// `GET /v1/projects/{project_id}/upload-tokens` answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TokenList {
    upload_tokens: Vec<TokenInfo>,
}

/// `POST /v1/projects/{project_id}/upload-tokens`: a new upload token, shown this once.
#[utoipa::path(post, path = "/v1/projects/{project_id}/upload-tokens", tag = "projects", security(("session" = [])),
    params(("project_id" = String, Path, description = "proj_…")),
    request_body(content = Option<CreateBody>, description = "optional: a name for the token"),
    responses(
        (status = 201, description = "the token (`SENTRY_AUTH_TOKEN` for uploads), shown this once", body = projects::NewUploadToken),
        (status = 400, description = "body is not JSON", body = shared::openapi::ErrorBody),
        (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody),
        (status = 403, description = "the caller can read but not administer the repo", body = shared::openapi::ErrorBody),
        (status = 404, description = "no such project, or not visible to the caller", body = shared::openapi::ErrorBody),
        (status = 422, description = "a name over 100 characters, or a bad body shape", body = shared::openapi::ErrorBody),
        (status = 503, description = "database or GitHub unavailable", body = shared::openapi::ErrorBody)))]
async fn create_upload_token(
    State(s): State<AppState>,
    caller: Caller,
    Param(id): Param<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let body: CreateBody = if body.iter().all(u8::is_ascii_whitespace) {
        CreateBody::default()
    } else {
        http::parse_json(&body)?
    };
    let new =
        projects::new_upload_token(&s.auth, &s.public_url, &caller, &id, body.name.as_deref())
            .await?;
    Ok(http::json(201, &new))
}

/// `GET /v1/projects/{project_id}/upload-tokens`: the live upload tokens, never the tokens.
#[utoipa::path(get, path = "/v1/projects/{project_id}/upload-tokens", tag = "projects", security(("session" = [])),
    params(("project_id" = String, Path, description = "proj_…")),
    responses(
        (status = 200, description = "the live tokens, newest first", body = TokenList),
        (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody),
        (status = 403, description = "the caller can read but not administer the repo", body = shared::openapi::ErrorBody),
        (status = 404, description = "no such project, or not visible to the caller", body = shared::openapi::ErrorBody),
        (status = 503, description = "database or GitHub unavailable", body = shared::openapi::ErrorBody)))]
async fn list_upload_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Param(id): Param<String>,
) -> Result<Response, ApiError> {
    let upload_tokens = projects::upload_tokens(&s.auth, &caller, &id).await?;
    Ok(http::json(200, &TokenList { upload_tokens }))
}

/// `DELETE /v1/projects/{project_id}/upload-tokens/{token_id}`: revoke; uploads with the token
/// are refused from the next request on.
#[utoipa::path(delete, path = "/v1/projects/{project_id}/upload-tokens/{token_id}", tag = "projects", security(("session" = [])),
    params(("project_id" = String, Path, description = "proj_…"), ("token_id" = String, Path, description = "utok_…")),
    responses(
        (status = 204, description = "revoked"),
        (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody),
        (status = 403, description = "the caller can read but not administer the repo", body = shared::openapi::ErrorBody),
        (status = 404, description = "no such project or live token, or not visible", body = shared::openapi::ErrorBody),
        (status = 503, description = "database or GitHub unavailable", body = shared::openapi::ErrorBody)))]
async fn revoke_upload_token(
    State(s): State<AppState>,
    caller: Caller,
    Param((id, token_id)): Param<(String, String)>,
) -> Result<Response, ApiError> {
    projects::revoke_upload_token(&s.auth, &caller, &id, &token_id).await?;
    Ok(http::empty(204))
}

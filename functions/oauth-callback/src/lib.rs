//! The oauth-callback function: GitHub sign-in (`/v1/auth/github/login`, `/callback`), the
//! token exchange for VS Code (`POST /v1/auth/token`), `GET /v1/me` and sign-out.

use std::sync::Arc;

use axum::extract::State;
use serde::Deserialize;
use shared::auth::{self, oauth, Auth, Caller, OAuth};
use shared::config::Config;
use shared::http::{self, Json, QueryMap, Response};
use shared::ApiError;
use utoipa_axum::{router::OpenApiRouter, routes};

/// What this function's handlers use: the sign-in flow (the auth checks, cairn's public URL and
/// the origins a sign-in may return to).
pub type AppState = Arc<OAuth>;

/// Builds this function's state from configuration and the instance's auth checks.
pub fn state(config: &Config, auth: Auth) -> AppState {
    Arc::new(OAuth::new(config, auth))
}

/// Every route of this function, each declared once with its OpenAPI description.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(callback))
        .routes(routes!(token))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// This function's routes with their state (what `main` and `cairn serve` serve).
pub fn router(state: AppState) -> axum::Router {
    api().split_for_parts().0.with_state(state)
}

/// `POST /v1/auth/token` body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenBody {
    /// A GitHub OAuth token (from VS Code's GitHub sign-in).
    github_token: String,
}

/// The signed-in user.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    user: MeUser,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// The user part of `GET /v1/me`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MeUser {
    github_login: String,
    github_id: i64,
    github_email: Option<String>,
    avatar_url: Option<String>,
}

/// `GET /v1/auth/github/login`: redirect to GitHub's authorize page.
#[utoipa::path(get, path = "/v1/auth/github/login", tag = "auth",
    params(("return_to" = Option<String>, Query, description = "where to send the session token afterwards (allow-listed)")),
    responses(
        (status = 302, description = "to GitHub, with a single-use state and PKCE S256"),
        (status = 422, description = "return_to not allowed", body = shared::openapi::ErrorBody),
        (status = 503, description = "GitHub sign-in not configured, or database unavailable", body = shared::openapi::ErrorBody)))]
async fn login(State(s): State<AppState>, QueryMap(q): QueryMap) -> Result<Response, ApiError> {
    let url = oauth::begin(&s, q.get("return_to").map(String::as_str)).await?;
    http::redirect(&url)
}

/// `GET /v1/auth/github/callback`: GitHub sends the browser back here.
#[utoipa::path(get, path = "/v1/auth/github/callback", tag = "auth",
    params(("code" = Option<String>, Query), ("state" = Option<String>, Query), ("error" = Option<String>, Query)),
    responses(
        (status = 200, description = "signed in", body = shared::auth::session::IssuedSession),
        (status = 302, description = "signed in; the token goes to return_to"),
        (status = 400, description = "bad, used or expired state; refused code", body = shared::openapi::ErrorBody),
        (status = 503, description = "GitHub unavailable or not configured", body = shared::openapi::ErrorBody)))]
async fn callback(State(s): State<AppState>, QueryMap(q): QueryMap) -> Result<Response, ApiError> {
    if let Some(err) = q.get("error") {
        // The user declined on GitHub, or GitHub refused the app.
        return Err(oauth::declined(err).into());
    }
    let code = q.get("code").map(String::as_str).unwrap_or_default();
    let state = q.get("state").map(String::as_str).unwrap_or_default();
    let done = oauth::complete(&s, code, state).await?;
    match done.return_to {
        Some(rt) => {
            let mut url = url::Url::parse(&rt).map_err(|e| ApiError::Internal(e.into()))?;
            url.query_pairs_mut()
                .append_pair("session_token", &done.session.session_token)
                .append_pair("expires_at", &done.session.expires_at.to_rfc3339());
            http::redirect(url.as_str())
        }
        None => Ok(http::json(200, &done.session)),
    }
}

/// `POST /v1/auth/token`: trade a GitHub token for a cairn session.
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth", request_body = TokenBody,
    responses(
        (status = 200, description = "signed in", body = shared::auth::session::IssuedSession),
        (status = 400, description = "body is not JSON", body = shared::openapi::ErrorBody),
        (status = 401, description = "GitHub refused the token", body = shared::openapi::ErrorBody),
        (status = 422, description = "body has the wrong shape", body = shared::openapi::ErrorBody),
        (status = 503, description = "GitHub or the database unavailable", body = shared::openapi::ErrorBody)))]
async fn token(
    State(s): State<AppState>,
    Json(body): Json<TokenBody>,
) -> Result<Response, ApiError> {
    let session = oauth::exchange_github_token(&s.auth, &body.github_token).await?;
    Ok(http::json(200, &session))
}

/// `DELETE /v1/auth/session`: sign out; the token stops working at once.
#[utoipa::path(delete, path = "/v1/auth/session", tag = "auth", security(("session" = [])),
    responses((status = 204, description = "signed out"),
              (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody),
              (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn logout(State(s): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    auth::session::revoke(&s.auth, &caller).await?;
    Ok(http::empty(204))
}

/// `GET /v1/me`: who is signed in.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("session" = [])),
    responses((status = 200, description = "the signed-in user", body = Me),
              (status = 401, description = "missing or invalid session", body = shared::openapi::ErrorBody),
              (status = 503, description = "database unavailable", body = shared::openapi::ErrorBody)))]
async fn me(caller: Caller) -> Result<Response, ApiError> {
    Ok(http::json(
        200,
        &Me {
            user: MeUser {
                github_login: caller.github_login,
                github_id: caller.github_id,
                github_email: caller.github_email,
                avatar_url: caller.avatar_url,
            },
            expires_at: caller.expires_at,
        },
    ))
}

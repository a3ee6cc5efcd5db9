//! The oauth-callback function: GitHub sign-in (`/v1/auth/github/login`, `/callback`), the
//! token exchange for VS Code (`POST /v1/auth/token`), `GET /v1/me` and sign-out.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use serde::Deserialize;
use shared::auth::{self, oauth, Auth, Caller, OAuth};
use shared::config::Config;
use shared::http::{self, ClientIp, Json, QueryMap, Response};
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

/// Adds a `Set-Cookie` header to `resp`.
fn with_cookie(mut resp: Response, cookie: &str) -> Result<Response, ApiError> {
    let value = HeaderValue::from_str(cookie).map_err(|e| ApiError::Internal(e.into()))?;
    resp.headers_mut().append(header::SET_COOKIE, value);
    Ok(resp)
}

/// `GET /v1/auth/github/login`: redirect to GitHub's authorize page.
#[utoipa::path(get, path = "/v1/auth/github/login", tag = "auth",
    params(("return_to" = Option<String>, Query, description = "where to send the session token afterwards (allow-listed: cairn's origin, CAIRN_ALLOWED_RETURN_ORIGINS, vscode://<extension of CAIRN_EDITOR_EXTENSION_IDS>/…); it gets the token in its fragment")),
    responses(
        (status = 302, description = "to GitHub, with a single-use state and PKCE S256; sets the cookie that binds the sign-in to this browser (`__Host-cairn_oauth` over https)"),
        (status = 422, description = "return_to not allowed, or a NUL byte in a parameter", body = shared::openapi::ErrorBody),
        (status = 429, description = "too many sign-ins from this address this minute (Retry-After)", body = shared::openapi::ErrorBody),
        (status = 503, description = "GitHub sign-in not configured, or database unavailable", body = shared::openapi::ErrorBody)))]
async fn login(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    QueryMap(q): QueryMap,
) -> Result<Response, ApiError> {
    let begun = oauth::begin(&s, q.get("return_to").map(String::as_str), client).await?;
    with_cookie(
        http::redirect(&begun.authorize_url)?,
        &s.binding_cookie(&begun.browser_binding),
    )
}

/// `GET /v1/auth/github/callback`: GitHub sends the browser back here.
#[utoipa::path(get, path = "/v1/auth/github/callback", tag = "auth",
    params(("code" = Option<String>, Query), ("state" = Option<String>, Query), ("error" = Option<String>, Query)),
    responses(
        (status = 200, description = "signed in (Cache-Control: no-store)", body = shared::auth::session::IssuedSession),
        (status = 302, description = "signed in; the token goes to return_to, in its fragment (#session_token=…&expires_at=…)"),
        (status = 400, description = "bad, used or expired state; a browser other than the one that started the sign-in; refused code", body = shared::openapi::ErrorBody),
        (status = 422, description = "a NUL byte in a parameter", body = shared::openapi::ErrorBody),
        (status = 503, description = "GitHub unavailable or not configured", body = shared::openapi::ErrorBody)))]
async fn callback(
    State(s): State<AppState>,
    headers: HeaderMap,
    QueryMap(q): QueryMap,
) -> Result<Response, ApiError> {
    let answer = finish_sign_in(&s, &headers, &q).await;
    // Whatever happened, the binding cookie has served: the state is used up or was never good.
    let resp = match answer {
        Ok(r) => r,
        Err(e) => axum::response::IntoResponse::into_response(e),
    };
    with_cookie(resp, &s.clear_binding_cookie())
}

async fn finish_sign_in(
    s: &OAuth,
    headers: &HeaderMap,
    q: &std::collections::HashMap<String, String>,
) -> Result<Response, ApiError> {
    if let Some(err) = q.get("error") {
        // The user declined on GitHub, or GitHub refused the app.
        return Err(oauth::declined(err).into());
    }
    let code = q.get("code").map(String::as_str).unwrap_or_default();
    let state = q.get("state").map(String::as_str).unwrap_or_default();
    let binding = s.binding_from(headers);
    let done = oauth::complete(s, code, state, binding.as_deref()).await?;
    match done.return_to {
        Some(rt) => {
            // The token goes in the fragment: browsers never send it to a server or put it in a
            // Referer, and servers do not log it.
            let mut url = url::Url::parse(&rt).map_err(|e| ApiError::Internal(e.into()))?;
            let fragment = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("session_token", &done.session.session_token)
                .append_pair("expires_at", &done.session.expires_at.to_rfc3339())
                .finish();
            url.set_fragment(Some(&fragment));
            http::redirect(url.as_str())
        }
        None => {
            let mut resp = http::json(200, &done.session);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(resp)
        }
    }
}

/// `POST /v1/auth/token`: trade a GitHub token for a cairn session.
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth", request_body = TokenBody,
    responses(
        (status = 200, description = "signed in", body = shared::auth::session::IssuedSession),
        (status = 400, description = "body is not JSON", body = shared::openapi::ErrorBody),
        (status = 401, description = "GitHub refused the token", body = shared::openapi::ErrorBody),
        (status = 422, description = "body has the wrong shape", body = shared::openapi::ErrorBody),
        (status = 429, description = "too many token exchanges from this address this minute (Retry-After)", body = shared::openapi::ErrorBody),
        (status = 503, description = "GitHub or the database unavailable", body = shared::openapi::ErrorBody)))]
async fn token(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    Json(body): Json<TokenBody>,
) -> Result<Response, ApiError> {
    let session = oauth::exchange_github_token(&s.auth, &body.github_token, client).await?;
    let mut resp = http::json(200, &session);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
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

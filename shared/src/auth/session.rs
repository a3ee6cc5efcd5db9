//! cairn sessions: `cairn_s_…` bearer tokens, stored as SHA-256, with an expiry; the user's
//! GitHub token is kept sealed beside the session.

use chrono::{DateTime, Utc};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::Row;

use crate::app::App;
use crate::crypto;
use crate::domain::SessionToken;
use crate::error::ApiError;
use crate::github::GitHubUser;

/// An authenticated user and their GitHub token. No `Debug`: it holds a secret.
pub struct Caller {
    pub session_id: i64,
    pub user_id: i64,
    pub github_id: i64,
    pub github_login: String,
    pub github_email: Option<String>,
    pub avatar_url: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub github_token: SecretString,
}

/// The signed-in caller of a route: handlers that take a `Caller` answer `401` without one.
impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        authenticate(app, &parts.headers).await
    }
}

/// The session answer of the callback and the token exchange.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedSession {
    pub session_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: SessionUser,
}

/// The user part of a session answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionUser {
    pub github_login: String,
    pub github_id: i64,
}

fn invalid() -> ApiError {
    ApiError::unauthorized(
        "invalid_session",
        "missing, invalid or expired session token",
    )
}

/// Authenticates `Authorization: Bearer cairn_s_…`. Every failure is the same `401`.
pub async fn authenticate(app: &App, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let Some(raw) = crate::http::extract::bearer(headers) else {
        return Err(ApiError::unauthorized(
            "missing_session",
            "Authorization: Bearer <session token> is required",
        ));
    };
    let token = SessionToken::parse(raw).ok_or_else(invalid)?;
    let hash = token.hash();
    let row = sqlx::query(
        "select s.id, s.token_hash, s.user_id, s.github_token_enc, s.expires_at, s.last_used_at,
                u.github_id, u.github_login, u.github_email, u.avatar_url
           from sessions s join users u on u.id = s.user_id
          where s.token_hash = $1 and s.expires_at > now()",
    )
    .bind(&hash)
    .fetch_optional(&app.pool)
    .await?
    .ok_or_else(invalid)?;
    let stored: Vec<u8> = row.get("token_hash");
    if !crypto::ct_eq(&stored, &hash) {
        return Err(invalid());
    }
    let sealed: Vec<u8> = row.get("github_token_enc");
    let github_token = crypto::open(&app.config.secret_key, &sealed)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let session_id: i64 = row.get("id");
    let last_used: DateTime<Utc> = row.get("last_used_at");
    if Utc::now() - last_used > chrono::Duration::minutes(5) {
        // Throttled: one write per session per five minutes, not per request.
        sqlx::query("update sessions set last_used_at = now() where id = $1")
            .bind(session_id)
            .execute(&app.pool)
            .await?;
    }
    Ok(Caller {
        session_id,
        user_id: row.get("user_id"),
        github_id: row.get("github_id"),
        github_login: row.get("github_login"),
        github_email: row.get("github_email"),
        avatar_url: row.get("avatar_url"),
        expires_at: row.get("expires_at"),
        github_token: SecretString::from(github_token),
    })
}

/// Upserts the GitHub user and issues a new session holding their sealed GitHub token.
pub async fn issue(
    app: &App,
    user: &GitHubUser,
    github_token: &SecretString,
) -> Result<IssuedSession, ApiError> {
    use secrecy::ExposeSecret;
    let token = SessionToken::generate();
    let ttl =
        chrono::Duration::from_std(app.config.session_ttl).unwrap_or(chrono::Duration::days(30));
    let expires_at = Utc::now() + ttl;
    let sealed = crypto::seal(
        &app.config.secret_key,
        github_token.expose_secret().as_bytes(),
    );
    let mut tx = app.pool.begin().await?;
    let user_id: i64 = sqlx::query_scalar(
        "insert into users (github_id, github_login, github_email, avatar_url)
         values ($1, $2, $3, $4)
         on conflict (github_id) do update
            set github_login = excluded.github_login,
                github_email = coalesce(excluded.github_email, users.github_email),
                avatar_url = excluded.avatar_url,
                updated_at = now()
         returning id",
    )
    .bind(user.id)
    .bind(&user.login)
    .bind(&user.email)
    .bind(&user.avatar_url)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("insert into sessions (token_hash, user_id, github_token_enc, expires_at) values ($1, $2, $3, $4)")
        .bind(token.hash())
        .bind(user_id)
        .bind(sealed)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    // A new sign-in may carry new rights: forget cached permissions.
    sqlx::query("delete from repo_access where user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(user.id = user_id, "session issued");
    Ok(IssuedSession {
        session_token: token.expose().to_owned(),
        expires_at,
        user: SessionUser {
            github_login: user.login.clone(),
            github_id: user.id,
        },
    })
}

/// Ends a session: its token stops working at once.
pub async fn revoke(app: &App, caller: &Caller) -> Result<(), ApiError> {
    sqlx::query("delete from sessions where id = $1")
        .bind(caller.session_id)
        .execute(&app.pool)
        .await?;
    Ok(())
}

//! cairn sessions: `cairn_s_…` bearer tokens, stored as SHA-256, with an expiry; the user's
//! GitHub token is kept sealed beside the session.

use chrono::{DateTime, Utc};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::Row;

use super::{Auth, AuthError, AuthState};
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

/// The signed-in caller of a route, on any state that lends an [`Auth`]: handlers that take a
/// `Caller` answer `401` without one.
impl<S: AuthState> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Ok(authenticate(state.auth(), &parts.headers).await?)
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

/// Authenticates `Authorization: Bearer cairn_s_…`. Every bad token is the same
/// [`AuthError::InvalidSession`].
pub async fn authenticate(auth: &Auth, headers: &HeaderMap) -> Result<Caller, AuthError> {
    let invalid = || AuthError::InvalidSession;
    let Some(raw) = crate::http::extract::bearer(headers) else {
        return Err(AuthError::MissingSession);
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
    .fetch_optional(&auth.pool)
    .await?
    .ok_or_else(invalid)?;
    let stored: Vec<u8> = row.get("token_hash");
    if !crypto::ct_eq(&stored, &hash) {
        return Err(invalid());
    }
    let sealed: Vec<u8> = row.get("github_token_enc");
    let github_token = auth.open(&sealed).ok_or_else(invalid)?;
    let session_id: i64 = row.get("id");
    let last_used: DateTime<Utc> = row.get("last_used_at");
    if Utc::now() - last_used > chrono::Duration::minutes(5) {
        // Throttled: one write per session per five minutes, not per request.
        sqlx::query("update sessions set last_used_at = now() where id = $1")
            .bind(session_id)
            .execute(&auth.pool)
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
    auth: &Auth,
    user: &GitHubUser,
    github_token: &SecretString,
) -> Result<IssuedSession, AuthError> {
    use secrecy::ExposeSecret;
    let token = SessionToken::generate();
    let ttl = chrono::Duration::from_std(auth.session_ttl).unwrap_or(chrono::Duration::days(30));
    let expires_at = Utc::now() + ttl;
    let sealed = auth.seal(github_token.expose_secret().as_bytes());
    let mut tx = auth.pool.begin().await?;
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
pub async fn revoke(auth: &Auth, caller: &Caller) -> Result<(), AuthError> {
    sqlx::query("delete from sessions where id = $1")
        .bind(caller.session_id)
        .execute(&auth.pool)
        .await?;
    Ok(())
}

//! Vercel hooks. A signed-in user connects a Vercel team by registering the webhook secret Vercel
//! showed them (stored sealed: the HMAC check needs the plaintext) and gets the URL to paste into
//! Vercel; deliveries to that URL are handled in [`delivery`]. Hooks are listed and removed by
//! their owner only; another user's hook is the uniform 404.

mod delivery;
mod error;
mod link;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sqlx::{PgPool, Row};

use crate::auth::{Auth, Caller};
use crate::crypto;
pub use delivery::{receive, Receipt};
pub use error::HooksError;
pub use link::Reason;

/// A freshly connected hook: where Vercel must send deliveries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewHook {
    pub hook_id: String,
    pub url: String,
}

/// A hook as listed (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HookInfo {
    pub hook_id: String,
    pub url: String,
    /// The Vercel team, once a delivery has named it.
    pub team_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_delivery_at: Option<DateTime<Utc>>,
}

/// The webhook URL of a hook: `<CAIRN_PUBLIC_URL>/v1/hooks/vercel/<hook_id>`.
pub fn hook_url(public_url: &str, hook_id: &str) -> String {
    format!(
        "{}/v1/hooks/vercel/{hook_id}",
        public_url.trim_end_matches('/')
    )
}

/// Whether `s` has the shape of a public hook id (`hook_` + 20 lowercase alphanumerics), so
/// garbage in the URL never reaches the database.
pub fn valid_hook_id(s: &str) -> bool {
    s.strip_prefix("hook_").is_some_and(|r| {
        r.len() == 20
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// Parses the secret a user pastes from Vercel: printable, no spaces, 8 to 256 characters.
pub fn parse_secret(raw: String) -> Result<SecretString, HooksError> {
    let secret = SecretString::from(raw);
    let s = secret.expose_secret().trim();
    if !(8..=256).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(HooksError::InvalidSecret);
    }
    Ok(SecretString::from(s.to_owned()))
}

/// Connects a Vercel team for the caller: stores the sealed secret and returns the hook URL
/// (under `public_url`).
pub async fn connect(
    auth: &Auth,
    public_url: &str,
    caller: &Caller,
    secret: &SecretString,
) -> Result<NewHook, HooksError> {
    let hook_id = crypto::public_id("hook");
    let sealed = auth.seal(secret.expose_secret().as_bytes());
    let mut tx = auth.pool().begin().await?;
    sqlx::query("insert into vercel_hooks (hook_id, user_id, secret_enc) values ($1, $2, $3)")
        .bind(&hook_id)
        .bind(caller.user_id)
        .bind(sealed)
        .execute(&mut *tx)
        .await?;
    crate::projects::audit(
        &mut tx,
        None,
        Some(caller.user_id),
        "hook.connected",
        Some(&hook_id),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(hook.id = %hook_id, user.id = caller.user_id, "vercel hook connected");
    Ok(NewHook {
        url: hook_url(public_url, &hook_id),
        hook_id,
    })
}

fn to_info(public_url: &str, r: &sqlx::postgres::PgRow) -> HookInfo {
    let hook_id: String = r.get("hook_id");
    HookInfo {
        url: hook_url(public_url, &hook_id),
        hook_id,
        team_id: r.get("team_id"),
        created_at: r.get("created_at"),
        last_delivery_at: r.get("last_delivery_at"),
    }
}

/// The caller's live hooks, oldest first.
pub async fn list(
    pool: &PgPool,
    public_url: &str,
    caller: &Caller,
) -> Result<Vec<HookInfo>, HooksError> {
    let rows = sqlx::query(
        "select hook_id, team_id, created_at, last_delivery_at from vercel_hooks
          where user_id = $1 and deleted_at is null order by created_at, hook_id",
    )
    .bind(caller.user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|r| to_info(public_url, r)).collect())
}

/// Removes one of the caller's hooks: its deliveries are refused (404) from now on.
pub async fn remove(
    pool: &PgPool,
    public_url: &str,
    caller: &Caller,
    hook_id: &str,
) -> Result<HookInfo, HooksError> {
    if !valid_hook_id(hook_id) {
        return Err(HooksError::HookNotFound);
    }
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "update vercel_hooks set deleted_at = now()
          where hook_id = $1 and user_id = $2 and deleted_at is null
          returning hook_id, team_id, created_at, last_delivery_at",
    )
    .bind(hook_id)
    .bind(caller.user_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(HooksError::HookNotFound)?;
    crate::projects::audit(
        &mut tx,
        None,
        Some(caller.user_id),
        "hook.removed",
        Some(hook_id),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(hook.id = %hook_id, "vercel hook removed");
    Ok(to_info(public_url, &row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_ids_are_checked_before_any_lookup() {
        let id = crypto::public_id("hook");
        assert!(valid_hook_id(&id));
        for bad in [
            "",
            "hook_",
            "hook_ABCDEFGHIJKLMNOPQRST",
            "proj_abcdefghij0123456789",
            "hook_abc'; drop table x",
        ] {
            assert!(!valid_hook_id(bad), "{bad}");
        }
    }

    #[test]
    fn the_hook_url_is_under_the_public_url() {
        assert_eq!(
            hook_url("https://cairn.example/", "hook_x"),
            "https://cairn.example/v1/hooks/vercel/hook_x"
        );
    }

    #[test]
    fn secrets_must_look_like_secrets() {
        assert!(parse_secret("  a1B2c3D4e5F6g7H8i9J0k1L2 ".into()).is_ok());
        for bad in ["", "short", "has a space in it", &"x".repeat(300)] {
            let e = crate::ApiError::from(parse_secret(bad.to_owned()).err().unwrap());
            assert_eq!((e.status(), e.code()), (422, "invalid_secret"), "{bad}");
        }
    }
}

//! Upload tokens: what sentry-cli, the bundler plugins and `@sentry/nextjs` send as
//! `SENTRY_AUTH_TOKEN`. The format is Sentry's org token, `sntrys_` + base64 of a JSON payload
//! (`iat`, `url`, `region_url`, `org`) + `_` + 32 random bytes in unpadded base64, because
//! sentry-cli reads the server URL and the org from the payload: the token alone points it at
//! cairn. The payload is public; the secret is the random part. Only the SHA-256 of the whole token
//! is stored and looked up (then compared in constant time); the token is shown once, when minted.
//! An upload token can upload source maps for its one project and do nothing else.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};

use crate::crypto;

/// Random bytes in a token's secret part (what sentry-cli checks for).
const SECRET_BYTES: usize = 32;
/// Longest token looked at; anything longer is not one.
const MAX_TOKEN_LEN: usize = 2048;

/// An upload token (`sntrys_…`); redacted in `Debug`.
pub struct UploadToken(SecretString);

/// The token's public payload, as Sentry writes it and sentry-cli reads it.
#[derive(Serialize, Deserialize)]
struct Payload {
    /// Issued at, in seconds since the epoch.
    iat: f64,
    /// cairn's public base URL: sentry-cli's `--url`.
    url: String,
    /// The same URL (sentry-cli requires the field; cairn has one region).
    region_url: String,
    /// The org slug: the project's repository owner.
    org: String,
}

impl UploadToken {
    /// The fixed prefix of Sentry org tokens, which sentry-cli recognises.
    pub const PREFIX: &'static str = "sntrys_";

    /// A new token for the org `org` on the cairn at `public_url`.
    pub fn generate(public_url: &str, org: &str, issued_at: DateTime<Utc>) -> Self {
        let payload = Payload {
            iat: issued_at.timestamp_millis() as f64 / 1000.0,
            url: public_url.to_owned(),
            region_url: public_url.to_owned(),
            org: org.to_owned(),
        };
        // Serialising a struct of strings and a float cannot fail.
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let mut secret = [0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        Self(SecretString::from(format!(
            "{}{}_{}",
            Self::PREFIX,
            STANDARD.encode(json),
            STANDARD_NO_PAD.encode(secret)
        )))
    }

    /// Accepts a token of the right shape (prefix, a payload of base64 JSON naming an org, a
    /// secret of 32 bytes); anything else is `None` and never reaches the database.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.len() > MAX_TOKEN_LEN {
            return None;
        }
        let (payload, secret) = s.strip_prefix(Self::PREFIX)?.split_once('_')?;
        let json = STANDARD.decode(payload).ok()?;
        serde_json::from_slice::<Payload>(&json).ok()?;
        let secret = STANDARD_NO_PAD.decode(secret).ok()?;
        (secret.len() == SECRET_BYTES).then(|| Self(SecretString::from(s.to_owned())))
    }

    /// SHA-256 of the whole token: the only form stored and looked up.
    pub fn hash(&self) -> Vec<u8> {
        crypto::sha256(self.0.expose_secret().as_bytes())
    }

    /// The plaintext, to be shown to its owner once.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for UploadToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UploadToken([redacted])")
    }
}

/// An upload token as lists show it (never the token).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub token_id: String,
    /// What its creator called it (e.g. `vercel`), if anything.
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just minted: the plaintext is in `token`, and nowhere else, ever again.
#[derive(Debug)]
pub struct NewToken {
    pub token_id: String,
    pub token: UploadToken,
    pub created_at: DateTime<Utc>,
}

/// The project an upload token may upload for.
#[derive(Debug, Clone)]
pub struct TokenProject {
    pub token_id: String,
    pub project_id: String,
    /// The org slug sentry-cli uses: the repository owner as the project spells it.
    pub repo_owner: String,
    /// The project slug: the repository name.
    pub repo_name: String,
}

/// Mints a token for `project_id` (whose repository owner is `org`) and stores its hash.
pub async fn create(
    db: impl sqlx::PgExecutor<'_>,
    project_id: &str,
    created_by: Option<i64>,
    name: Option<&str>,
    public_url: &str,
    org: &str,
) -> Result<NewToken, sqlx::Error> {
    let token = UploadToken::generate(public_url, org, Utc::now());
    let token_id = crypto::public_id("utok");
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into upload_tokens (token_id, project_id, token_hash, name, created_by)
         values ($1, $2, $3, $4, $5) returning created_at",
    )
    .bind(&token_id)
    .bind(project_id)
    .bind(token.hash())
    .bind(name)
    .bind(created_by)
    .fetch_one(db)
    .await?;
    Ok(NewToken {
        token_id,
        token,
        created_at,
    })
}

/// The project's live tokens, newest first.
pub async fn list(pool: &PgPool, project_id: &str) -> Result<Vec<TokenInfo>, sqlx::Error> {
    let rows = sqlx::query(
        "select token_id, name, created_at, last_used_at from upload_tokens
          where project_id = $1 and revoked_at is null order by created_at desc, token_id",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TokenInfo {
            token_id: r.get("token_id"),
            name: r.get("name"),
            created_at: r.get("created_at"),
            last_used_at: r.get("last_used_at"),
        })
        .collect())
}

/// Revokes a token of `project_id` at once; `false` when there is no such live token.
pub async fn revoke(
    db: impl sqlx::PgExecutor<'_>,
    project_id: &str,
    token_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update upload_tokens set revoked_at = now()
          where project_id = $1 and token_id = $2 and revoked_at is null",
    )
    .bind(project_id)
    .bind(token_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The project of a live token (`None`: malformed, unknown, revoked, or its project deleted),
/// noting that it was used.
pub async fn authenticate(pool: &PgPool, raw: &str) -> Result<Option<TokenProject>, sqlx::Error> {
    let Some(token) = UploadToken::parse(raw) else {
        return Ok(None);
    };
    let hash = token.hash();
    let row = sqlx::query(
        "with t as (
             update upload_tokens set last_used_at = now()
              where token_hash = $1 and revoked_at is null
             returning token_id, token_hash, project_id)
         select t.token_id, t.token_hash, p.project_id, p.repo_owner, p.repo_name
           from t join projects p on p.project_id = t.project_id
          where p.deleted_at is null",
    )
    .bind(&hash)
    .fetch_optional(pool)
    .await?;
    Ok(row
        .filter(|r| crypto::ct_eq(&r.get::<Vec<u8>, _>("token_hash"), &hash))
        .map(|r| TokenProject {
            token_id: r.get("token_id"),
            project_id: r.get("project_id"),
            repo_owner: r.get("repo_owner"),
            repo_name: r.get("repo_name"),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What sentry-cli does with `SENTRY_AUTH_TOKEN` (src/utils/auth_token/org_auth_token.rs):
    /// three `_`-separated parts, a padded-base64 JSON payload with `org`, `url` and
    /// `region_url`, and an unpadded-base64 secret of exactly 32 bytes.
    fn parse_as_sentry_cli(token: &str) -> Option<(String, String)> {
        let mut parts = token.split('_');
        if parts.next()? != "sntrys" {
            return None;
        }
        let payload = STANDARD.decode(parts.next()?).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&payload).ok()?;
        let secret = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
        if parts.next().is_some() || secret.len() != 32 || !v["region_url"].is_string() {
            return None;
        }
        Some((v["url"].as_str()?.to_owned(), v["org"].as_str()?.to_owned()))
    }

    #[test]
    fn upload_tokens_are_sentry_org_tokens_naming_cairn_and_the_org() {
        let token = UploadToken::generate("https://cairn.example.com", "acme", Utc::now());
        assert!(token.expose().starts_with("sntrys_"));
        assert_eq!(
            parse_as_sentry_cli(token.expose()),
            Some(("https://cairn.example.com".into(), "acme".into()))
        );
        assert!(UploadToken::parse(token.expose()).is_some());
        assert_eq!(token.hash().len(), 32);
        assert_eq!(format!("{token:?}"), "UploadToken([redacted])");
        let other = UploadToken::generate("https://cairn.example.com", "acme", Utc::now());
        assert_ne!(token.expose(), other.expose());
    }

    #[test]
    fn malformed_upload_tokens_are_refused() {
        let good = UploadToken::generate("http://127.0.0.1:3000", "acme", Utc::now());
        let (payload, secret) = good.expose()["sntrys_".len()..].split_once('_').unwrap();
        let short_secret = STANDARD_NO_PAD.encode([7u8; 31]);
        let not_json = STANDARD.encode(b"not json");
        for bad in [
            String::new(),
            "sntrys_".into(),
            "cairn_ik_abcdefghijklmnopqrstuvwxyz012345".into(),
            format!("sntryu_{payload}_{secret}"),
            format!("sntrys_{payload}_{short_secret}"),
            format!("sntrys_{not_json}_{secret}"),
            format!("sntrys_{payload}_{secret}_extra"),
            format!("sntrys_{payload}{secret}"),
            format!("sntrys_{}_{secret}", "A".repeat(4000)),
        ] {
            assert!(UploadToken::parse(&bad).is_none(), "{bad}");
        }
    }
}

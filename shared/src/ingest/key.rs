//! Ingest keys: looked up by SHA-256, refused at once when revoked.

use sqlx::Row;

use crate::app::App;
use crate::crypto;
use crate::domain::IngestKey;
use crate::error::ApiError;

/// The project an ingest key belongs to.
#[derive(Debug, Clone)]
pub struct KeyedProject {
    pub key_id: String,
    pub project_id: String,
    pub repo_name: String,
    pub sentry_id: i64,
}

fn invalid() -> ApiError {
    ApiError::unauthorized("invalid_ingest_key", "the ingest key is not valid")
}

/// Authenticates a raw key (`None`: no key was sent).
pub async fn authenticate_key(app: &App, raw: Option<&str>) -> Result<KeyedProject, ApiError> {
    let raw = raw
        .ok_or_else(|| ApiError::unauthorized("missing_ingest_key", "an ingest key is required"))?;
    let key = IngestKey::parse(raw).ok_or_else(invalid)?;
    let hash = key.hash();
    let row = sqlx::query(
        "select k.key_id, k.key_hash, k.project_id, p.repo_name, p.sentry_id
           from ingest_keys k join projects p on p.project_id = k.project_id
          where k.key_hash = $1 and k.revoked_at is null and p.deleted_at is null",
    )
    .bind(&hash)
    .fetch_optional(&app.pool)
    .await?
    .ok_or_else(invalid)?;
    if !crypto::ct_eq(&row.get::<Vec<u8>, _>("key_hash"), &hash) {
        return Err(invalid());
    }
    Ok(KeyedProject {
        key_id: row.get("key_id"),
        project_id: row.get("project_id"),
        repo_name: row.get("repo_name"),
        sentry_id: row.get("sentry_id"),
    })
}

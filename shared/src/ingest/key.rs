//! Ingest keys: looked up by SHA-256, refused at once when revoked.
//!
//! A key's project never changes, so what a key maps to is remembered per instance for
//! [`KEY_CACHE_TTL`] (saving a round trip per request). Revocation stays immediate for
//! everything that stores events: the ingest statement itself checks the key is still active
//! (see `store.rs`). Only requests that store nothing (an envelope holding no event) may be
//! answered for a revoked key, and for at most [`KEY_CACHE_TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::{PgPool, Row};

use super::{Ingest, IngestError};
use crate::crypto;
use crate::domain::IngestKey;

/// The project an ingest key belongs to.
#[derive(Debug, Clone)]
pub struct KeyedProject {
    pub key_id: String,
    pub project_id: String,
    pub repo_name: String,
    pub sentry_id: i64,
    /// The project keeps end users' IP addresses in stored events (it opted in).
    pub store_ip_addresses: bool,
}

/// How long an instance trusts what a key maps to without asking the database.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);
/// Most keys remembered per instance.
const KEY_CACHE_SIZE: usize = 10_000;

/// Keys this instance looked up recently: `sha256(key)` → project and when it was looked up.
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<Vec<u8>, (Instant, KeyedProject)>>,
}

impl KeyCache {
    fn get(&self, hash: &[u8]) -> Option<KeyedProject> {
        let map = self.keys.lock().ok()?;
        let (at, project) = map.get(hash)?;
        (at.elapsed() < KEY_CACHE_TTL).then(|| project.clone())
    }

    fn put(&self, hash: Vec<u8>, project: KeyedProject) {
        if let Ok(mut map) = self.keys.lock() {
            if map.len() >= KEY_CACHE_SIZE {
                map.retain(|_, (at, _)| at.elapsed() < KEY_CACHE_TTL);
            }
            if map.len() < KEY_CACHE_SIZE {
                map.insert(hash, (Instant::now(), project));
            }
        }
    }
}

/// Authenticates a raw key (`None`: no key was sent): from `cache` when it was looked up in the
/// last [`KEY_CACHE_TTL`], else from `pool` (and then remembered).
pub async fn authenticate_key(
    pool: &PgPool,
    cache: &KeyCache,
    raw: Option<&str>,
) -> Result<KeyedProject, IngestError> {
    let raw = raw.ok_or(IngestError::MissingKey)?;
    let key = IngestKey::parse(raw).ok_or(IngestError::InvalidKey)?;
    let hash = key.hash();
    if let Some(project) = cache.get(&hash) {
        return Ok(project);
    }
    let row = sqlx::query(
        "select k.key_id, k.key_hash, k.project_id, p.repo_name, p.sentry_id, p.store_ip_addresses
           from ingest_keys k join projects p on p.project_id = k.project_id
          where k.key_hash = $1 and k.revoked_at is null and p.deleted_at is null",
    )
    .bind(&hash)
    .fetch_optional(pool)
    .await?
    .ok_or(IngestError::InvalidKey)?;
    if !crypto::ct_eq(&row.get::<Vec<u8>, _>("key_hash"), &hash) {
        return Err(IngestError::InvalidKey);
    }
    let project = KeyedProject {
        key_id: row.get("key_id"),
        project_id: row.get("project_id"),
        repo_name: row.get("repo_name"),
        sentry_id: row.get("sentry_id"),
        store_ip_addresses: row.get("store_ip_addresses"),
    };
    cache.put(hash, project.clone());
    Ok(project)
}

/// The project of the ingest key in `Authorization: Bearer …` (`POST /v1/events`): `401` without
/// a valid one, before anything of the body is read.
impl axum::extract::FromRequestParts<std::sync::Arc<Ingest>> for KeyedProject {
    type Rejection = IngestError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        ingest: &std::sync::Arc<Ingest>,
    ) -> Result<Self, IngestError> {
        ingest
            .authenticate(crate::http::extract::bearer(&parts.headers))
            .await
    }
}

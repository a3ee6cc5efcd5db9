//! Ingest keys of a project: minted (shown once, only the hash stored), and revoked.

use sqlx::Row;

use super::{audit, dsn, find_for, KeyInfo, NewKey, ProjectsError};
use crate::auth::{Auth, Caller};
use crate::crypto;
use crate::domain::IngestKey;
use crate::github::Permission;

/// Inserts a new key for a project inside `tx`.
pub(super) async fn mint_key(
    tx: &mut sqlx::PgConnection,
    project_id: &str,
    created_by: Option<i64>,
) -> Result<(String, IngestKey), sqlx::Error> {
    let key = IngestKey::generate();
    let key_id = crypto::public_id("key");
    sqlx::query("insert into ingest_keys (key_id, project_id, key_hash, prefix, created_by) values ($1, $2, $3, $4, $5)")
        .bind(&key_id)
        .bind(project_id)
        .bind(key.hash())
        .bind(key.visible_prefix())
        .bind(created_by)
        .execute(&mut *tx)
        .await?;
    sqlx::query("insert into api_key_usage (key_id, project_id) values ($1, $2)")
        .bind(&key_id)
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
    Ok((key_id, key))
}

/// Mints another key for a project the caller administers.
/// `public_url` is where the key's DSN points.
pub async fn new_key(
    auth: &Auth,
    public_url: &str,
    caller: &Caller,
    project_id: &str,
) -> Result<NewKey, ProjectsError> {
    let p = find_for(auth, caller, project_id, Permission::Admin).await?;
    let mut tx = auth.pool().begin().await?;
    let (key_id, key) = mint_key(&mut tx, &p.project_id, Some(caller.user_id)).await?;
    audit(
        &mut tx,
        Some(&p.project_id),
        Some(caller.user_id),
        "key.created",
        Some(&key_id),
    )
    .await?;
    tx.commit().await?;
    Ok(NewKey {
        dsn: dsn(public_url, key.expose(), p.sentry_id),
        project_id: p.project_id,
        repo: p.repo.to_string(),
        sentry_id: p.sentry_id,
        ingest_key: key.expose().to_owned(),
        key_id,
    })
}

/// A key's uses: what folds counted (`api_key_usage`) plus what is still pending in the fold
/// queue, so an answer never lags behind the events already acknowledged. `{key}` is the SQL
/// expression of the key id; the queue is short (folds drain it continuously).
pub(crate) fn usage_sql(key: &str) -> String {
    format!(
        "(select coalesce((select usage_count from api_key_usage where key_id = {key}), 0)
                 + coalesce(sum(e.n), 0) as usage_count,
                 greatest((select last_used_at from api_key_usage where key_id = {key}), max(b.seen_at))
                   as last_used_at
            from incident_counts_batches b, unnest(b.key_ids, b.counts) as e(key_id, n)
           where e.key_id = {key})"
    )
}

/// Revokes a key: ingest refuses it from the next request on.
pub async fn revoke_key(
    auth: &Auth,
    caller: &Caller,
    project_id: &str,
    key_id: &str,
) -> Result<KeyInfo, ProjectsError> {
    let p = find_for(auth, caller, project_id, Permission::Admin).await?;
    let mut tx = auth.pool().begin().await?;
    let row = sqlx::query(&format!(
        "with k as (
             update ingest_keys set revoked_at = coalesce(revoked_at, now())
              where key_id = $1 and project_id = $2
              returning key_id, prefix, created_at, revoked_at)
         select k.key_id, k.prefix, k.created_at, k.revoked_at, u.usage_count, u.last_used_at
           from k, lateral {} u",
        usage_sql("k.key_id")
    ))
    .bind(key_id)
    .bind(&p.project_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ProjectsError::KeyNotFound)?;
    audit(
        &mut tx,
        Some(&p.project_id),
        Some(caller.user_id),
        "key.revoked",
        Some(key_id),
    )
    .await?;
    tx.commit().await?;
    Ok(KeyInfo {
        key_id: row.get("key_id"),
        prefix: row.get("prefix"),
        created_at: row.get("created_at"),
        revoked_at: row.get("revoked_at"),
        usage_count: row.get("usage_count"),
        last_used_at: row.get("last_used_at"),
    })
}

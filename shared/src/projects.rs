//! Projects and their ingest keys: create (admin on the repo), list, get, mint and revoke keys.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Row};

use crate::app::App;
use crate::auth::{access, require_permission, Caller};
use crate::crypto;
use crate::domain::{IngestKey, RepoFullName};
use crate::error::{is_unique_violation, ApiError};
use crate::github::Permission;

/// A key as listed: never the key itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyInfo {
    pub key_id: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub usage_count: i64,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A project as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectInfo {
    pub project_id: String,
    pub repo: String,
    pub sentry_id: i64,
    pub platform: Option<String>,
    pub vercel_project_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub dsn_host: String,
    pub keys: Vec<KeyInfo>,
}

/// A freshly minted key: shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewKey {
    pub project_id: String,
    pub repo: String,
    pub sentry_id: i64,
    pub ingest_key: String,
    pub key_id: String,
    pub dsn: String,
}

/// A live project row.
pub struct ProjectRow {
    pub project_id: String,
    pub repo: RepoFullName,
    pub sentry_id: i64,
}

/// The Sentry DSN for a key: `http(s)://<key>@<host>/<sentry_id>`.
pub fn dsn(public_url: &str, key: &str, sentry_id: i64) -> String {
    match url::Url::parse(public_url) {
        Ok(mut u) => {
            let _ = u.set_username(key);
            let base = u.as_str().trim_end_matches('/').to_owned();
            format!("{base}/{sentry_id}")
        }
        Err(_) => format!("{public_url}/{sentry_id}"),
    }
}

/// Inserts a new key for a project inside `tx`.
async fn mint_key(
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

/// Records an audit entry inside `tx`.
pub async fn audit(
    tx: &mut sqlx::PgConnection,
    project_id: Option<&str>,
    user_id: Option<i64>,
    action: &str,
    target: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into audit_log (project_id, user_id, action, target) values ($1, $2, $3, $4)",
    )
    .bind(project_id)
    .bind(user_id)
    .bind(action)
    .bind(target)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Inserts a project row (no key) inside `tx`; `409 project_exists` when the repo has one.
pub async fn insert_project(
    tx: &mut sqlx::PgConnection,
    repo: &RepoFullName,
    owner_id: i64,
    vercel_project_id: Option<&str>,
) -> Result<(String, i64), ApiError> {
    let project_id = crypto::public_id("proj");
    let res = sqlx::query(
        "insert into projects (project_id, owner_id, repo_owner, repo_name, repo_full_name, vercel_project_id)
         values ($1, $2, $3, $4, $5, $6) returning sentry_id",
    )
    .bind(&project_id)
    .bind(owner_id)
    .bind(&repo.owner)
    .bind(&repo.name)
    .bind(repo.key())
    .bind(vercel_project_id)
    .fetch_one(&mut *tx)
    .await;
    match res {
        Ok(row) => Ok((project_id, row.get("sentry_id"))),
        Err(e) if is_unique_violation(&e, Some("projects_repo_live_idx")) => Err(
            ApiError::conflict("project_exists", "this repo already has a project"),
        ),
        Err(e) => Err(e.into()),
    }
}

/// Creates a project for a repo the caller administers, with its first key.
pub async fn create(app: &App, caller: &Caller, repo: &RepoFullName) -> Result<NewKey, ApiError> {
    require_permission(app, caller, repo, Permission::Admin, "repo").await?;
    let mut tx = app.pool.begin().await?;
    let (project_id, sentry_id) = insert_project(&mut tx, repo, caller.user_id, None).await?;
    let (key_id, key) = mint_key(&mut tx, &project_id, Some(caller.user_id)).await?;
    audit(
        &mut tx,
        Some(&project_id),
        Some(caller.user_id),
        "project.created",
        Some(&project_id),
    )
    .await?;
    audit(
        &mut tx,
        Some(&project_id),
        Some(caller.user_id),
        "key.created",
        Some(&key_id),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(project.id = %project_id, "project created");
    Ok(NewKey {
        dsn: dsn(&app.config.public_url, key.expose(), sentry_id),
        project_id,
        repo: repo.to_string(),
        sentry_id,
        ingest_key: key.expose().to_owned(),
        key_id,
    })
}

/// Loads a live project by public id.
pub async fn find(pool: &PgPool, project_id: &str) -> Result<Option<ProjectRow>, ApiError> {
    let row = sqlx::query(
        "select project_id, repo_owner, repo_name, sentry_id from projects where project_id = $1 and deleted_at is null",
    )
    .bind(project_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| ProjectRow {
        project_id: r.get("project_id"),
        repo: RepoFullName {
            owner: r.get("repo_owner"),
            name: r.get("repo_name"),
        },
        sentry_id: r.get("sentry_id"),
    }))
}

/// Loads a project the caller has at least `need` on; otherwise the uniform 404 (or 403 when
/// they can read but not administer).
pub async fn find_for(
    app: &App,
    caller: &Caller,
    project_id: &str,
    need: Permission,
) -> Result<ProjectRow, ApiError> {
    let p = find(&app.pool, project_id)
        .await?
        .ok_or_else(|| ApiError::not_found("project"))?;
    require_permission(app, caller, &p.repo, need, "project").await?;
    Ok(p)
}

/// Projects with their keys, for the given ids (in the given order of creation).
pub async fn describe(app: &App, ids: &[String]) -> Result<Vec<ProjectInfo>, ApiError> {
    crate::ingest::fold::fold_pending(&app.pool).await?;
    let rows = sqlx::query(
        "select project_id, repo_owner, repo_name, sentry_id, platform, vercel_project_id, created_at
           from projects where project_id = any($1) and deleted_at is null order by created_at",
    )
    .bind(ids)
    .fetch_all(&app.pool)
    .await?;
    let keys = sqlx::query(
        "select k.key_id, k.project_id, k.prefix, k.created_at, k.revoked_at,
                coalesce(u.usage_count, 0) + coalesce(p.n, 0) as usage_count,
                greatest(u.last_used_at, p.last_seen) as last_used_at
           from ingest_keys k
           left join api_key_usage u on u.key_id = k.key_id
           left join (select e.key_id, sum(e.n) as n, max(b.seen_at) as last_seen
                        from incident_counts_batches b, unnest(b.key_ids, b.counts) as e(key_id, n)
                       group by e.key_id) p on p.key_id = k.key_id
          where k.project_id = any($1) order by k.created_at",
    )
    .bind(ids)
    .fetch_all(&app.pool)
    .await?;
    let dsn_host = url::Url::parse(&app.config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|r| {
            let project_id: String = r.get("project_id");
            ProjectInfo {
                keys: keys
                    .iter()
                    .filter(|k| k.get::<&str, _>("project_id") == project_id)
                    .map(|k| KeyInfo {
                        key_id: k.get("key_id"),
                        prefix: k.get("prefix"),
                        created_at: k.get("created_at"),
                        revoked_at: k.get("revoked_at"),
                        usage_count: k.get("usage_count"),
                        last_used_at: k.get("last_used_at"),
                    })
                    .collect(),
                repo: format!(
                    "{}/{}",
                    r.get::<&str, _>("repo_owner"),
                    r.get::<&str, _>("repo_name")
                ),
                sentry_id: r.get("sentry_id"),
                platform: r.get("platform"),
                vercel_project_id: r.get("vercel_project_id"),
                created_at: r.get("created_at"),
                dsn_host: dsn_host.clone(),
                project_id,
            }
        })
        .collect())
}

/// The projects whose repo the caller can read: the ones they own, and the ones on repos they
/// have been granted access to on GitHub (as last checked; stale answers are checked again).
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<ProjectInfo>, ApiError> {
    let rows = sqlx::query(
        "select p.project_id, p.repo_owner, p.repo_name, p.owner_id
           from projects p
          where p.deleted_at is null
            and (p.owner_id = $1
                 or p.repo_full_name in (select repo_full_name from repo_access where user_id = $1 and permission <> 'none'))
          order by p.created_at",
    )
    .bind(caller.user_id)
    .fetch_all(&app.pool)
    .await?;
    let mut visible = Vec::new();
    for r in rows {
        let repo = RepoFullName {
            owner: r.get("repo_owner"),
            name: r.get("repo_name"),
        };
        if access::permission(app, caller, &repo).await? >= Permission::Read {
            visible.push(r.get::<String, _>("project_id"));
        }
    }
    describe(app, &visible).await
}

/// Mints another key for a project the caller administers.
pub async fn new_key(app: &App, caller: &Caller, project_id: &str) -> Result<NewKey, ApiError> {
    let p = find_for(app, caller, project_id, Permission::Admin).await?;
    let mut tx = app.pool.begin().await?;
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
        dsn: dsn(&app.config.public_url, key.expose(), p.sentry_id),
        project_id: p.project_id,
        repo: p.repo.to_string(),
        sentry_id: p.sentry_id,
        ingest_key: key.expose().to_owned(),
        key_id,
    })
}

/// Revokes a key: ingest refuses it from the next request on.
pub async fn revoke_key(
    app: &App,
    caller: &Caller,
    project_id: &str,
    key_id: &str,
) -> Result<KeyInfo, ApiError> {
    let p = find_for(app, caller, project_id, Permission::Admin).await?;
    let mut tx = app.pool.begin().await?;
    let row = sqlx::query(
        "with k as (
             update ingest_keys set revoked_at = coalesce(revoked_at, now())
              where key_id = $1 and project_id = $2
              returning key_id, prefix, created_at, revoked_at)
         select k.key_id, k.prefix, k.created_at, k.revoked_at,
                coalesce(u.usage_count, 0) as usage_count, u.last_used_at
           from k left join api_key_usage u on u.key_id = k.key_id",
    )
    .bind(key_id)
    .bind(&p.project_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::not_found("key"))?;
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

/// One audit entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// `project.created`, `key.created`, `key.revoked`, `hook.connected`, `hook.removed`,
    /// `incident.resolved`, `incident.reopened`, `incident.regressed`.
    pub action: String,
    /// The id of the object acted on.
    pub target: Option<String>,
    /// GitHub login of who did it; null for cairn itself (a regression reopening an incident).
    pub actor: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The project's audit log, newest first, for its admins. `before`: an entry id to page from.
pub async fn audit_log(
    app: &App,
    caller: &Caller,
    project_id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, ApiError> {
    let p = find_for(app, caller, project_id, Permission::Admin).await?;
    let rows = sqlx::query(
        "select a.id, a.action, a.target, u.github_login, a.created_at
           from audit_log a left join users u on u.id = a.user_id
          where a.project_id = $1 and ($2::bigint is null or a.id < $2)
          order by a.id desc limit $3",
    )
    .bind(&p.project_id)
    .bind(before)
    .bind(limit.clamp(1, 200))
    .fetch_all(&app.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get("id"),
            action: r.get("action"),
            target: r.get("target"),
            actor: r.get("github_login"),
            created_at: r.get("created_at"),
        })
        .collect())
}

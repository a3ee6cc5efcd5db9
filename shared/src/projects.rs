//! Projects and their ingest keys: create (admin on the repo), list, get, mint and revoke keys
//! (`keys`), mint, list and revoke upload tokens (`upload_tokens`), the audit log of what was
//! done to them (`audit`), and which GitHub repository a project belongs to (`repo`).

mod audit;
mod error;
mod keys;
mod repo;
mod settings;
mod upload_tokens;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Row};

use crate::auth::{access, Auth, AuthError, Caller};
use crate::crypto;
use crate::domain::RepoFullName;
use crate::error::is_unique_violation;
use crate::github::{Permission, RepoRef};

pub use audit::{audit, audit_log, AuditEntry, AuditQuery};
pub use error::ProjectsError;
pub use keys::{new_key, revoke_key};
pub use repo::{project_of, require};
pub use settings::{update, Settings};
pub use upload_tokens::{
    new_upload_token, revoke_upload_token, upload_tokens, NewUploadToken, MAX_TOKEN_NAME,
};

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
    /// Stored events keep end users' IP addresses (the project opted in); off by default.
    pub store_ip_addresses: bool,
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
    /// The repo's name as GitHub last reported it.
    pub repo: RepoFullName,
    /// GitHub's repository id; `None` only for a project made before ids were recorded, until
    /// its first check.
    pub github_repo_id: Option<i64>,
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

/// Inserts a project row (no key) for GitHub repository `github_repo_id`, now named `repo`,
/// inside `tx`; [`ProjectsError::ProjectExists`] when the repository has one.
pub async fn insert_project(
    tx: &mut sqlx::PgConnection,
    repo: &RepoFullName,
    github_repo_id: i64,
    owner_id: i64,
    vercel_project_id: Option<&str>,
) -> Result<(String, i64), ProjectsError> {
    let project_id = crypto::public_id("proj");
    let res = sqlx::query(
        "insert into projects (project_id, owner_id, repo_owner, repo_name, repo_full_name, github_repo_id, vercel_project_id)
         values ($1, $2, $3, $4, $5, $6, $7) returning sentry_id",
    )
    .bind(&project_id)
    .bind(owner_id)
    .bind(&repo.owner)
    .bind(&repo.name)
    .bind(repo.key())
    .bind(github_repo_id)
    .bind(vercel_project_id)
    .fetch_one(&mut *tx)
    .await;
    match res {
        Ok(row) => Ok((project_id, row.get("sentry_id"))),
        Err(e) if is_unique_violation(&e, Some("projects_repo_id_live_idx")) => {
            Err(ProjectsError::ProjectExists)
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates a project for a repo the caller administers, with its first key (whose DSN points at
/// `public_url`).
pub async fn create(
    auth: &Auth,
    public_url: &str,
    caller: &Caller,
    repo: &RepoFullName,
) -> Result<NewKey, ProjectsError> {
    let grant =
        access::require(auth, caller, RepoRef::Name(repo), Permission::Admin, "repo").await?;
    let Some(github_repo_id) = grant.repo_id else {
        return Err(AuthError::NoAccess("repo").into());
    };
    if project_of(auth.pool(), repo, &grant).await?.is_some() {
        return Err(ProjectsError::ProjectExists);
    }
    // The name as asked, unless GitHub knows the repo by another (a rename).
    let repo = match &grant.current_name {
        Some(current) if current.key() != repo.key() => current,
        _ => repo,
    };
    let mut tx = auth.pool().begin().await?;
    let (project_id, sentry_id) =
        insert_project(&mut tx, repo, github_repo_id, caller.user_id, None).await?;
    let (key_id, key) = keys::mint_key(&mut tx, &project_id, Some(caller.user_id)).await?;
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
        dsn: dsn(public_url, key.expose(), sentry_id),
        project_id,
        repo: repo.to_string(),
        sentry_id,
        ingest_key: key.expose().to_owned(),
        key_id,
    })
}

/// Loads a live project by public id.
pub async fn find(pool: &PgPool, project_id: &str) -> Result<Option<ProjectRow>, sqlx::Error> {
    let row = sqlx::query(
        "select project_id, repo_owner, repo_name, github_repo_id, sentry_id from projects where project_id = $1 and deleted_at is null",
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
        github_repo_id: r.get("github_repo_id"),
        sentry_id: r.get("sentry_id"),
    }))
}

/// Loads a project the caller has at least `need` on; otherwise
/// [`ProjectsError::ProjectNotFound`], or no access to it (the same 404), or not enough.
pub async fn find_for(
    auth: &Auth,
    caller: &Caller,
    project_id: &str,
    need: Permission,
) -> Result<ProjectRow, ProjectsError> {
    let mut p = find(auth.pool(), project_id)
        .await?
        .ok_or(ProjectsError::ProjectNotFound)?;
    require(auth, caller, &mut p, need, "project").await?;
    Ok(p)
}

/// One project the caller can read, with its keys.
pub async fn get(
    auth: &Auth,
    public_url: &str,
    caller: &Caller,
    project_id: &str,
) -> Result<ProjectInfo, ProjectsError> {
    let p = find_for(auth, caller, project_id, Permission::Read).await?;
    describe(auth.pool(), public_url, &[p.project_id])
        .await?
        .pop()
        .ok_or(ProjectsError::ProjectNotFound)
}

/// Projects with their keys, for the given ids (in the given order of creation); `dsn_host` is
/// `public_url`'s host.
pub async fn describe(
    pool: &PgPool,
    public_url: &str,
    ids: &[String],
) -> Result<Vec<ProjectInfo>, ProjectsError> {
    let rows = sqlx::query(
        "select project_id, repo_owner, repo_name, sentry_id, platform, vercel_project_id, created_at,
                store_ip_addresses
           from projects where project_id = any($1) and deleted_at is null order by created_at",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let keys = sqlx::query(&format!(
        "select k.key_id, k.project_id, k.prefix, k.created_at, k.revoked_at, u.usage_count,
                u.last_used_at
           from ingest_keys k, lateral {} u
          where k.project_id = any($1) order by k.created_at",
        keys::usage_sql("k.key_id")
    ))
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let dsn_host = url::Url::parse(public_url)
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
                store_ip_addresses: r.get("store_ip_addresses"),
                project_id,
            }
        })
        .collect())
}

/// The projects whose repo the caller can read: the ones they own, and the ones on repos this
/// session has been granted access to on GitHub (as last checked; stale answers are checked
/// again).
pub async fn list(
    auth: &Auth,
    public_url: &str,
    caller: &Caller,
) -> Result<Vec<ProjectInfo>, ProjectsError> {
    let rows = sqlx::query(
        "select p.project_id from projects p
          where p.deleted_at is null
            and (p.owner_id = $1
                 or p.github_repo_id in (select github_repo_id from repo_access where session_id = $2 and permission <> 'none')
                 or (p.github_repo_id is null
                     and p.repo_full_name in (select asked from repo_access where session_id = $2 and permission <> 'none')))
          order by p.created_at",
    )
    .bind(caller.user_id)
    .bind(caller.session_id)
    .fetch_all(auth.pool())
    .await?;
    let mut visible = Vec::new();
    for r in rows {
        let Some(mut p) = find(auth.pool(), r.get("project_id")).await? else {
            continue;
        };
        match require(auth, caller, &mut p, Permission::Read, "project").await {
            Ok(_) => visible.push(p.project_id),
            // Not listed: no access, or none until the token is authorized for the
            // organization's SSO (that answer is not cached, so it shows once it is).
            Err(AuthError::NoAccess(_) | AuthError::SsoRequired) => {}
            Err(e) => return Err(e.into()),
        }
    }
    describe(auth.pool(), public_url, &visible).await
}

//! Repo access: read permission to see a project's incidents, admin to create projects and
//! manage keys and hooks. GitHub's answer is cached in Postgres (shared by every instance) for
//! `CAIRN_ACCESS_CACHE_SECONDS`.

use sqlx::Row;

use crate::app::App;
use crate::auth::Caller;
use crate::domain::RepoFullName;
use crate::error::ApiError;
use crate::github::Permission;

/// What the caller may do on a repo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepoAccess(pub Permission);

/// The caller's permission on `repo`, from the cache or GitHub.
pub async fn permission(
    app: &App,
    caller: &Caller,
    repo: &RepoFullName,
) -> Result<Permission, ApiError> {
    let key = repo.key();
    let ttl = app.config.access_cache_ttl.as_secs() as f64;
    let cached = sqlx::query(
        "select permission from repo_access
          where user_id = $1 and repo_full_name = $2
            and checked_at > now() - make_interval(secs => $3)",
    )
    .bind(caller.user_id)
    .bind(&key)
    .bind(ttl)
    .fetch_optional(&app.pool)
    .await?;
    if let Some(row) = cached {
        return Ok(Permission::parse(row.get::<&str, _>("permission")));
    }
    let p = app.github.permission(&caller.github_token, repo).await?;
    sqlx::query(
        "insert into repo_access (user_id, repo_full_name, permission) values ($1, $2, $3)
         on conflict (user_id, repo_full_name) do update set permission = excluded.permission, checked_at = now()",
    )
    .bind(caller.user_id)
    .bind(&key)
    .bind(p.as_str())
    .execute(&app.pool)
    .await?;
    Ok(p)
}

/// Requires at least `need` on `repo`. No access at all is `404` (the repo's project may not be
/// seen); read access without the needed level is `403`.
pub async fn require_permission(
    app: &App,
    caller: &Caller,
    repo: &RepoFullName,
    need: Permission,
    what: &'static str,
) -> Result<Permission, ApiError> {
    let p = permission(app, caller, repo).await?;
    if p >= need {
        Ok(p)
    } else if p == Permission::None {
        Err(ApiError::not_found(what))
    } else {
        Err(ApiError::forbidden(
            "not_repo_admin",
            "you need admin rights on this repo on GitHub",
        ))
    }
}

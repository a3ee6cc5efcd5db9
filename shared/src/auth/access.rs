//! Repo access: read permission to see a project's incidents, admin to create projects and
//! manage keys and hooks. GitHub's answer is cached in Postgres (shared by every instance) for
//! `CAIRN_ACCESS_CACHE_SECONDS`.

use sqlx::Row;

use super::{Auth, AuthError, Caller};
use crate::domain::RepoFullName;
use crate::github::Permission;

/// What the caller may do on a repo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepoAccess(pub Permission);

/// The caller's permission on `repo`, from the cache or GitHub.
pub async fn permission(
    auth: &Auth,
    caller: &Caller,
    repo: &RepoFullName,
) -> Result<Permission, AuthError> {
    let key = repo.key();
    let ttl = auth.access_cache_ttl.as_secs() as f64;
    let cached = sqlx::query(
        "select permission from repo_access
          where user_id = $1 and repo_full_name = $2
            and checked_at > now() - make_interval(secs => $3)",
    )
    .bind(caller.user_id)
    .bind(&key)
    .bind(ttl)
    .fetch_optional(&auth.pool)
    .await?;
    if let Some(row) = cached {
        return Ok(Permission::parse(row.get::<&str, _>("permission")));
    }
    let p = auth.github.permission(&caller.github_token, repo).await?;
    sqlx::query(
        "insert into repo_access (user_id, repo_full_name, permission) values ($1, $2, $3)
         on conflict (user_id, repo_full_name) do update set permission = excluded.permission, checked_at = now()",
    )
    .bind(caller.user_id)
    .bind(&key)
    .bind(p.as_str())
    .execute(&auth.pool)
    .await?;
    Ok(p)
}

/// Requires at least `need` on `repo`. No access at all is [`AuthError::NoAccess`] to `what`
/// (the repo's project may not be seen); read access without the needed level is
/// [`AuthError::NotRepoAdmin`].
pub async fn require_permission(
    auth: &Auth,
    caller: &Caller,
    repo: &RepoFullName,
    need: Permission,
    what: &'static str,
) -> Result<Permission, AuthError> {
    let p = permission(auth, caller, repo).await?;
    if p >= need {
        Ok(p)
    } else if p == Permission::None {
        Err(AuthError::NoAccess(what))
    } else {
        Err(AuthError::NotRepoAdmin)
    }
}

//! Repo access: read permission to see a project's incidents, write (push) to resolve and reopen
//! them, admin to create projects and manage keys. GitHub is asked with the session's own token,
//! by name or by GitHub's numeric repository id, and its definite answers (a 200, a 404) are
//! cached in Postgres per session (shared by every instance): `CAIRN_ACCESS_CACHE_SECONDS` for
//! reading, at most [`RECHECK_ABOVE_READ`] for anything more. A rate limit or an SSO refusal is
//! never cached: the next request asks again.

use std::time::Duration;

use sqlx::Row;

use super::{Auth, AuthError, Caller};
use crate::domain::RepoFullName;
use crate::github::{Permission, RepoRef};

/// How long an answer is trusted for an action above reading (resolving, reopening, keys,
/// projects, the audit log): losing access on GitHub takes effect within this.
pub const RECHECK_ABOVE_READ: Duration = Duration::from_secs(60);

/// What GitHub said the caller's token may do on a repo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub permission: Permission,
    /// GitHub's id of the repo; `None` when it was asked by name and the token may not see it.
    pub repo_id: Option<i64>,
    /// The repo's name as GitHub just reported it (it may have been renamed); `None` when the
    /// answer came from the cache.
    pub current_name: Option<RepoFullName>,
}

/// How long a cached answer is trusted for an action that needs `need`.
fn trusted_for(auth: &Auth, need: Permission) -> Duration {
    if need > Permission::Read {
        auth.access_cache_ttl.min(RECHECK_ABOVE_READ)
    } else {
        auth.access_cache_ttl
    }
}

/// The cache row's `asked` for a lookup.
fn asked(repo: RepoRef<'_>) -> String {
    match repo {
        RepoRef::Name(r) => r.key(),
        RepoRef::Id(id) => format!("#{id}"),
    }
}

/// What the caller's token may do on `repo`, from this session's cache (trusted as long as
/// `need` allows) or GitHub.
pub async fn check(
    auth: &Auth,
    caller: &Caller,
    repo: RepoRef<'_>,
    need: Permission,
) -> Result<Grant, AuthError> {
    let secs = trusted_for(auth, need).as_secs_f64();
    let cached = match repo {
        RepoRef::Name(r) => {
            sqlx::query(
                "select permission, github_repo_id from repo_access
                  where session_id = $1 and asked = $2 and checked_at > now() - make_interval(secs => $3)",
            )
            .bind(caller.session_id)
            .bind(r.key())
            .bind(secs)
            .fetch_optional(&auth.pool)
            .await?
        }
        // Any answer about this repository counts, whatever name it was asked by.
        RepoRef::Id(id) => {
            sqlx::query(
                "select permission, github_repo_id from repo_access
                  where session_id = $1 and github_repo_id = $2 and checked_at > now() - make_interval(secs => $3)
                  order by checked_at desc limit 1",
            )
            .bind(caller.session_id)
            .bind(id)
            .bind(secs)
            .fetch_optional(&auth.pool)
            .await?
        }
    };
    if let Some(row) = cached {
        return Ok(Grant {
            permission: Permission::parse(row.get::<&str, _>("permission")),
            repo_id: row.get("github_repo_id"),
            current_name: None,
        });
    }
    let answer = auth.github.permission(&caller.github_token, repo).await?;
    let repo_id = match (&answer.repo, repo) {
        (Some(r), _) => Some(r.id),
        (None, RepoRef::Id(id)) => Some(id),
        (None, RepoRef::Name(_)) => None,
    };
    if answer.definite {
        sqlx::query(
            "insert into repo_access (session_id, asked, github_repo_id, permission) values ($1, $2, $3, $4)
             on conflict (session_id, asked) do update
                set github_repo_id = excluded.github_repo_id, permission = excluded.permission, checked_at = now()",
        )
        .bind(caller.session_id)
        .bind(asked(repo))
        .bind(repo_id)
        .bind(answer.permission.as_str())
        .execute(&auth.pool)
        .await?;
    }
    Ok(Grant {
        permission: answer.permission,
        repo_id,
        current_name: answer.repo.map(|r| r.full_name),
    })
}

/// Requires at least `need` on `repo`. No access at all is [`AuthError::NoAccess`] to `what`
/// (the repo's project may not be seen); read access where write is needed is
/// [`AuthError::NotRepoWriter`], less than admin where admin is needed
/// [`AuthError::NotRepoAdmin`].
pub async fn require(
    auth: &Auth,
    caller: &Caller,
    repo: RepoRef<'_>,
    need: Permission,
    what: &'static str,
) -> Result<Grant, AuthError> {
    let grant = check(auth, caller, repo, need).await?;
    match grant.permission {
        p if p >= need => Ok(grant),
        Permission::None => Err(AuthError::NoAccess(what)),
        _ if need == Permission::Write => Err(AuthError::NotRepoWriter),
        _ => Err(AuthError::NotRepoAdmin),
    }
}

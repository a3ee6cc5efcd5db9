//! A project belongs to a GitHub repository, known by its numeric id: access to a project is
//! checked by that id (`GET /repositories/{id}`), so a renamed or transferred repo keeps its
//! project and a repo created later under the old name is another repo. The name is only what
//! GitHub last called the repo: updated whenever GitHub reports a new one. Projects made before
//! ids were recorded (migration 0014) are checked by name once, and take the id GitHub gives.

use sqlx::{PgPool, Row};

use super::ProjectRow;
use crate::auth::{access, Auth, AuthError, Caller, Grant};
use crate::domain::RepoFullName;
use crate::error::is_unique_violation;
use crate::github::{Permission, RepoRef};

/// Requires `need` on the project's repo, by its id (by its name, once, for a project that has
/// none yet). Keeps the project's name current when GitHub reports a rename. No access is
/// [`AuthError::NoAccess`] to `what`.
pub async fn require(
    auth: &Auth,
    caller: &Caller,
    p: &mut ProjectRow,
    need: Permission,
    what: &'static str,
) -> Result<Grant, AuthError> {
    let grant = match p.github_repo_id {
        Some(id) => access::require(auth, caller, RepoRef::Id(id), need, what).await?,
        None => {
            let grant = access::require(auth, caller, RepoRef::Name(&p.repo), need, what).await?;
            let Some(id) = grant.repo_id else {
                return Err(AuthError::NoAccess(what));
            };
            if !adopt(auth.pool(), &p.project_id, id).await? {
                // Another project already has this repository: this one was made for an older
                // repo of the same name, which the caller has not been shown to reach.
                return Err(AuthError::NoAccess(what));
            }
            p.github_repo_id = Some(id);
            grant
        }
    };
    if let (Some(id), Some(name)) = (p.github_repo_id, &grant.current_name) {
        rename(auth.pool(), id, name).await?;
        p.repo = name.clone();
    }
    Ok(grant)
}

/// The live project of the repository GitHub answered `grant` about, asked for as `asked`: by
/// id, else a project made before ids were recorded under either name (which takes the id).
/// Renames the project when GitHub reported a new name.
pub async fn project_of(
    pool: &PgPool,
    asked: &RepoFullName,
    grant: &Grant,
) -> Result<Option<String>, sqlx::Error> {
    let Some(id) = grant.repo_id else {
        return Ok(None);
    };
    if let Some(name) = &grant.current_name {
        rename(pool, id, name).await?;
    }
    let by_id = || async {
        sqlx::query_scalar::<_, String>(
            "select project_id from projects where github_repo_id = $1 and deleted_at is null",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    };
    if let Some(project_id) = by_id().await? {
        return Ok(Some(project_id));
    }
    let names: Vec<String> = std::iter::once(asked.key())
        .chain(grant.current_name.as_ref().map(RepoFullName::key))
        .collect();
    let legacy: Option<String> = sqlx::query_scalar(
        "select project_id from projects
          where repo_full_name = any($1) and github_repo_id is null and deleted_at is null
          order by created_at limit 1",
    )
    .bind(&names)
    .fetch_optional(pool)
    .await?;
    match legacy {
        Some(project_id) if adopt(pool, &project_id, id).await? => Ok(Some(project_id)),
        // Adopted by a concurrent request, or another project has the id: look again.
        _ => by_id().await,
    }
}

/// Records the repository id of a project made before ids were; `false` when another live
/// project has that repository already.
async fn adopt(pool: &PgPool, project_id: &str, github_repo_id: i64) -> Result<bool, sqlx::Error> {
    let res = sqlx::query(
        "update projects set github_repo_id = $2
          where project_id = $1 and (github_repo_id is null or github_repo_id = $2)",
    )
    .bind(project_id)
    .bind(github_repo_id)
    .execute(pool)
    .await;
    match res {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(e) if is_unique_violation(&e, Some("projects_repo_id_live_idx")) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Gives the live project of repository `github_repo_id` the name GitHub now reports (a no-op
/// when it has it, in any case: names are case-insensitive, and the case first written stays).
async fn rename(
    pool: &PgPool,
    github_repo_id: i64,
    name: &RepoFullName,
) -> Result<(), sqlx::Error> {
    let renamed = sqlx::query(
        "update projects set repo_owner = $2, repo_name = $3, repo_full_name = $4
          where github_repo_id = $1 and deleted_at is null and repo_full_name <> $4
          returning project_id",
    )
    .bind(github_repo_id)
    .bind(&name.owner)
    .bind(&name.name)
    .bind(name.key())
    .fetch_optional(pool)
    .await?;
    if let Some(row) = renamed {
        tracing::info!(project.id = %row.get::<&str, _>("project_id"), "project follows its renamed repo");
    }
    Ok(())
}

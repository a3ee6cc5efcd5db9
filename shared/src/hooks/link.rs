//! Which cairn project a GitHub-linked deployment belongs to. The hook's owner stands behind
//! every delivery, so a deployment is linked (and a missing project created, with no key) only
//! when that owner owns the repo's project or administers the repo on GitHub — checked with the
//! GitHub token of their latest unexpired session, through the same cached access check as
//! every route (an admin answer is trusted for a minute at most). The project is the one of the
//! GitHub repository the name leads to (by its id), as on every route. Otherwise the deployment
//! is recorded unlinked, and the reason is returned.

use secrecy::SecretString;
use serde::Serialize;
use sqlx::{Connection, PgConnection, Row};

use super::HooksError;
use crate::auth::{access, Auth, AuthError, Caller};
use crate::domain::RepoFullName;
use crate::github::{Permission, RepoRef};
use crate::projects::ProjectsError;

/// Why a deployment was recorded without a project (or a delivery ignored), for the response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
}

impl Reason {
    /// A reason with its stable code and a sentence for the user.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A repo the hook's owner administers and that has no project yet.
pub struct NewProject {
    /// Its name as GitHub reported it (or as the deployment named it).
    pub name: RepoFullName,
    /// GitHub's repository id.
    pub github_repo_id: i64,
}

/// What to do with a deployment's project.
pub enum Plan {
    /// Link to this live project.
    Use(String),
    /// The repo has no project and the hook's owner administers it: create one.
    Create(NewProject),
    /// Record the deployment without a project, for this reason.
    Unlinked(Reason),
}

/// The hook owner as a [`Caller`], from their latest unexpired session (which holds their sealed
/// GitHub token); `None` when they have none, or it cannot be opened.
async fn owner_as_caller(auth: &Auth, user_id: i64) -> Result<Option<Caller>, sqlx::Error> {
    let row = sqlx::query(
        "select s.id, s.github_token_enc, s.expires_at, u.github_id, u.github_login, u.github_email, u.avatar_url
           from sessions s join users u on u.id = s.user_id
          where s.user_id = $1 and s.expires_at > now()
          order by s.created_at desc, s.id desc limit 1",
    )
    .bind(user_id)
    .fetch_optional(auth.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let sealed: Vec<u8> = row.get("github_token_enc");
    let Some(token) = auth.open(&sealed) else {
        return Ok(None);
    };
    Ok(Some(Caller {
        session_id: row.get("id"),
        user_id,
        github_id: row.get("github_id"),
        github_login: row.get("github_login"),
        github_email: row.get("github_email"),
        avatar_url: row.get("avatar_url"),
        expires_at: row.get("expires_at"),
        github_token: SecretString::from(token),
    }))
}

/// Decides the project of a deployment of `repo` reported by a hook of `user_id`. GitHub being
/// unreachable is an error (a 503: Vercel redelivers); every other answer is a plan.
pub async fn plan(auth: &Auth, user_id: i64, repo: &RepoFullName) -> Result<Plan, HooksError> {
    let own: Option<String> = sqlx::query_scalar(
        "select project_id from projects where repo_full_name = $1 and owner_id = $2 and deleted_at is null
          order by created_at desc limit 1",
    )
    .bind(repo.key())
    .bind(user_id)
    .fetch_optional(auth.pool())
    .await?;
    if let Some(project_id) = own {
        return Ok(Plan::Use(project_id));
    }
    let Some(owner) = owner_as_caller(auth, user_id).await? else {
        return Ok(Plan::Unlinked(Reason::new(
            "no_github_session",
            format!("the hook's owner has no active cairn session, so cairn cannot check their rights on {repo} on GitHub; they should sign in again"),
        )));
    };
    match access::check(auth, &owner, RepoRef::Name(repo), Permission::Admin).await {
        Ok(grant) if grant.permission >= Permission::Admin => {
            let Some(github_repo_id) = grant.repo_id else {
                return Err(AuthError::NoAccess("repo").into());
            };
            Ok(
                match crate::projects::project_of(auth.pool(), repo, &grant).await? {
                    Some(project_id) => Plan::Use(project_id),
                    None => Plan::Create(NewProject {
                        // The name as the deployment gave it, unless GitHub knows the repo by
                        // another (a rename).
                        name: grant
                            .current_name
                            .filter(|current| current.key() != repo.key())
                            .unwrap_or_else(|| repo.clone()),
                        github_repo_id,
                    }),
                },
            )
        }
        Ok(_) => Ok(Plan::Unlinked(Reason::new(
            "not_repo_admin",
            format!(
                "{} does not administer {repo} on GitHub, so no project is linked or created",
                owner.github_login
            ),
        ))),
        Err(AuthError::GitHubTokenRefused) => Ok(Plan::Unlinked(Reason::new(
            "github_token_rejected",
            "GitHub refused the hook owner's token; they should sign in to cairn again",
        ))),
        Err(AuthError::SsoRequired) => Ok(Plan::Unlinked(Reason::new(
            "github_sso_required",
            format!("{repo}'s organization requires SAML single sign-on, and the hook owner's GitHub token is not authorized for it"),
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Creates the project for `repo` inside the open transaction, owned by `user_id`, with no key.
/// When a project appeared for the repo meanwhile, links to it instead. `(project_id, created)`.
pub async fn create_or_find(
    conn: &mut PgConnection,
    repo: &NewProject,
    user_id: i64,
    vercel_project_id: Option<&str>,
) -> Result<(String, bool), ProjectsError> {
    let mut savepoint = conn.begin().await?;
    let inserted = crate::projects::insert_project(
        &mut savepoint,
        &repo.name,
        repo.github_repo_id,
        user_id,
        vercel_project_id,
    )
    .await;
    match inserted {
        Ok((project_id, _)) => {
            crate::projects::audit(
                &mut savepoint,
                Some(&project_id),
                Some(user_id),
                "project.created",
                Some(&project_id),
            )
            .await?;
            savepoint.commit().await?;
            Ok((project_id, true))
        }
        Err(ProjectsError::ProjectExists) => {
            savepoint.rollback().await?;
            let id: String = sqlx::query_scalar(
                "select project_id from projects where github_repo_id = $1 and deleted_at is null",
            )
            .bind(repo.github_repo_id)
            .fetch_one(&mut *conn)
            .await?;
            Ok((id, false))
        }
        Err(e) => Err(e),
    }
}

//! The audit log: who did what to a project, its keys and hooks, written in the transaction of
//! the change and read back by the project's admins.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{find_for, ProjectsError};
use crate::auth::{Auth, Caller};
use crate::github::Permission;

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

/// A page of the audit log, parsed from `?before=…&limit=…`.
pub struct AuditQuery {
    /// An entry id to page from (the entries before it).
    pub before: Option<i64>,
    /// 1 to 200, default 50.
    pub limit: i64,
}

impl AuditQuery {
    /// Parses the query string; a value that is not a number in its range is
    /// [`ProjectsError::InvalidParameter`] naming it.
    pub fn parse(q: &HashMap<String, String>) -> Result<Self, ProjectsError> {
        let parse = |name: &'static str, min: i64, max: i64| match q.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .map(Some)
                .ok_or(ProjectsError::InvalidParameter(name)),
        };
        Ok(Self {
            before: parse("before", 1, i64::MAX)?,
            limit: parse("limit", 1, 200)?.unwrap_or(50),
        })
    }
}

/// The project's audit log, newest first, for its admins.
pub async fn audit_log(
    auth: &Auth,
    caller: &Caller,
    project_id: &str,
    page: &AuditQuery,
) -> Result<Vec<AuditEntry>, ProjectsError> {
    let (before, limit) = (page.before, page.limit);
    let p = find_for(auth, caller, project_id, Permission::Admin).await?;
    let rows = sqlx::query(
        "select a.id, a.action, a.target, u.github_login, a.created_at
           from audit_log a left join users u on u.id = a.user_id
          where a.project_id = $1 and ($2::bigint is null or a.id < $2)
          order by a.id desc limit $3",
    )
    .bind(&p.project_id)
    .bind(before)
    .bind(limit.clamp(1, 200))
    .fetch_all(auth.pool())
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

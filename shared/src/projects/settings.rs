//! A project's settings, changed by its admins: for now, whether stored events keep end users'
//! IP addresses (off unless an admin opts in; see `crate::scrub`).

use serde::Deserialize;

use super::{describe, find_for, ProjectInfo, ProjectsError};
use crate::auth::{Auth, Caller};
use crate::github::Permission;

/// `PATCH /v1/projects/{project_id}` body: each field present is set.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Keep end users' IP addresses (`user.ip_address`, client-address headers) in stored
    /// events. Off by default: they are removed before storage.
    pub store_ip_addresses: Option<bool>,
}

/// Applies `settings` to a project the caller administers, audited
/// (`project.ip_addresses_stored` / `project.ip_addresses_removed`); the project as it now is.
pub async fn update(
    auth: &Auth,
    public_url: &str,
    caller: &Caller,
    project_id: &str,
    settings: &Settings,
) -> Result<ProjectInfo, ProjectsError> {
    let p = find_for(auth, caller, project_id, Permission::Admin).await?;
    if let Some(store) = settings.store_ip_addresses {
        let mut tx = auth.pool().begin().await?;
        let changed = sqlx::query(
            "update projects set store_ip_addresses = $2
              where project_id = $1 and store_ip_addresses <> $2",
        )
        .bind(&p.project_id)
        .bind(store)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed > 0 {
            let action = if store {
                "project.ip_addresses_stored"
            } else {
                "project.ip_addresses_removed"
            };
            super::audit(
                &mut tx,
                Some(&p.project_id),
                Some(caller.user_id),
                action,
                None,
            )
            .await?;
        }
        tx.commit().await?;
    }
    describe(auth.pool(), public_url, &[p.project_id])
        .await?
        .pop()
        .ok_or(ProjectsError::ProjectNotFound)
}

//! `POST /v1/hooks/vercel/{hook_id}`: one Vercel delivery. In order: the hook must exist (404),
//! the body fit the cap (413), the signature match the raw bytes (401) — all before parsing —
//! then the delivery is parsed, deduplicated on Vercel's event id (a redelivery is a no-op), and
//! a deployment event upserts its `deployments` row in one transaction with the delivery record,
//! the project it may create, and the commits it gives to events that were waiting for it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, Row};

use super::link::{self, Plan, Reason};
use super::HooksError;
use crate::auth::Auth;
use crate::http::MAX_BODY_BYTES;
use crate::ingest::backfill;
use crate::vercel::{self, Delivery, DeploymentEvent, EventKind};

/// The answer to a delivery (always a 200: Vercel only needs to know it arrived).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    /// `recorded`, `duplicate` (a redelivery, nothing done) or `ignored` (not a deployment event).
    pub status: &'static str,
    pub delivery_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub deployment_id: Option<String>,
    /// The deployment's state after this delivery (an older state never replaces a newer one).
    pub state: Option<String>,
    pub commit_sha: Option<String>,
    pub project_id: Option<String>,
    pub project_created: bool,
    /// Events accepted earlier that got their commit from this deployment.
    pub events_updated: u64,
    /// Why there is no project, or why the delivery was ignored.
    pub reason: Option<Reason>,
}

impl Receipt {
    fn bare(status: &'static str, d: &Delivery) -> Self {
        Self {
            status,
            delivery_id: d.id.clone(),
            event_type: d.event_type.clone(),
            deployment_id: None,
            state: None,
            commit_sha: None,
            project_id: None,
            project_created: false,
            events_updated: 0,
            reason: None,
        }
    }
}

struct Hook {
    hook_id: String,
    user_id: i64,
}

/// Checks, parses and applies one delivery to hook `hook_id`. `signature` is the
/// `x-vercel-signature` header as sent.
pub async fn receive(
    auth: &Auth,
    hook_id: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<Receipt, HooksError> {
    if !super::valid_hook_id(hook_id) {
        return Err(HooksError::HookNotFound);
    }
    let row = sqlx::query(
        "select user_id, secret_enc from vercel_hooks where hook_id = $1 and deleted_at is null",
    )
    .bind(hook_id)
    .fetch_optional(auth.pool())
    .await?
    .ok_or(HooksError::HookNotFound)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(HooksError::DeliveryTooLarge);
    }
    let sealed: Vec<u8> = row.get("secret_enc");
    let secret = auth
        .open(&sealed)
        .map(secrecy::SecretString::from)
        .ok_or(HooksError::SecretUnreadable)?;
    vercel::verify(&secret, body, signature)?;
    let delivery = vercel::parse(body)?;
    let hook = Hook {
        hook_id: hook_id.to_owned(),
        user_id: row.get("user_id"),
    };
    let seen: bool = sqlx::query_scalar(
        "select exists (select 1 from webhook_deliveries where hook_id = $1 and delivery_id = $2)",
    )
    .bind(&hook.hook_id)
    .bind(&delivery.id)
    .fetch_one(auth.pool())
    .await?;
    let receipt = if seen {
        Receipt::bare("duplicate", &delivery)
    } else {
        match &delivery.kind {
            EventKind::Ignored => ignore(auth, &hook, &delivery, None).await?,
            EventKind::Deployment(dep) => deployment(auth, &hook, &delivery, dep).await?,
        }
    };
    tracing::info!(
        hook.id = %hook.hook_id, delivery.id = %delivery.id, delivery.kind = %delivery.event_type,
        deployment.id = receipt.deployment_id.as_deref().unwrap_or(""), project.id = receipt.project_id.as_deref().unwrap_or(""),
        outcome = receipt.status, "vercel delivery"
    );
    Ok(receipt)
}

/// Records the delivery id inside `tx`; `false` when a concurrent request recorded it first.
async fn record_delivery(
    conn: &mut PgConnection,
    hook: &Hook,
    d: &Delivery,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "insert into webhook_deliveries (delivery_id, hook_id, event_type) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(&d.id)
    .bind(&hook.hook_id)
    .bind(&d.event_type)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 {
        sqlx::query("update vercel_hooks set team_id = coalesce(team_id, $2), last_delivery_at = now() where hook_id = $1")
            .bind(&hook.hook_id)
            .bind(&d.team_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(n == 1)
}

/// Acknowledges a delivery cairn has no use for, recording it so a redelivery is a duplicate.
async fn ignore(
    auth: &Auth,
    hook: &Hook,
    d: &Delivery,
    reason: Option<Reason>,
) -> Result<Receipt, HooksError> {
    let mut tx = auth.pool().begin().await?;
    if !record_delivery(&mut tx, hook, d).await? {
        return Ok(Receipt::bare("duplicate", d));
    }
    tx.commit().await?;
    Ok(Receipt {
        reason,
        ..Receipt::bare("ignored", d)
    })
}

const UPSERT_SQL: &str = r#"
insert into deployments (deployment_id, project_id, hook_id, commit_sha, commit_ref, target, url, state, state_rank,
                         event_at, name, vercel_project_id, team_id, repo_full_name, github_repo_id)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
on conflict (hook_id, deployment_id) do update set
    project_id = coalesce(deployments.project_id, excluded.project_id),
    commit_sha = coalesce(deployments.commit_sha, excluded.commit_sha),
    commit_ref = coalesce(deployments.commit_ref, excluded.commit_ref),
    url = coalesce(deployments.url, excluded.url),
    name = coalesce(deployments.name, excluded.name),
    vercel_project_id = coalesce(deployments.vercel_project_id, excluded.vercel_project_id),
    team_id = coalesce(deployments.team_id, excluded.team_id),
    repo_full_name = coalesce(deployments.repo_full_name, excluded.repo_full_name),
    github_repo_id = coalesce(deployments.github_repo_id, excluded.github_repo_id),
    target = case when (excluded.state_rank, excluded.event_at) > (deployments.state_rank, coalesce(deployments.event_at, '-infinity'))
                  then coalesce(excluded.target, deployments.target) else coalesce(deployments.target, excluded.target) end,
    state = case when (excluded.state_rank, excluded.event_at) > (deployments.state_rank, coalesce(deployments.event_at, '-infinity'))
                 then excluded.state else deployments.state end,
    state_rank = case when (excluded.state_rank, excluded.event_at) > (deployments.state_rank, coalesce(deployments.event_at, '-infinity'))
                      then excluded.state_rank else deployments.state_rank end,
    event_at = case when (excluded.state_rank, excluded.event_at) > (deployments.state_rank, coalesce(deployments.event_at, '-infinity'))
                    then excluded.event_at else deployments.event_at end,
    updated_at = now()
returning state, project_id, commit_sha
"#;

/// Upserts this hook's row of the deployment: `(state, project_id, commit_sha)` as they now are.
async fn upsert(
    conn: &mut PgConnection,
    hook: &Hook,
    d: &Delivery,
    dep: &DeploymentEvent,
    project_id: Option<&str>,
) -> Result<(String, Option<String>, Option<String>), sqlx::Error> {
    let git = dep.git.as_ref();
    let event_at: DateTime<Utc> = d.created_at;
    let row = sqlx::query(UPSERT_SQL)
        .bind(&dep.id)
        .bind(project_id)
        .bind(&hook.hook_id)
        .bind(
            git.and_then(|g| g.commit_sha.as_ref())
                .map(|c| c.as_str().to_owned()),
        )
        .bind(git.and_then(|g| g.commit_ref.clone()))
        .bind(&dep.target)
        .bind(&dep.url)
        .bind(dep.state.as_str())
        .bind(dep.state.rank())
        .bind(event_at)
        .bind(&dep.name)
        .bind(&dep.vercel_project_id)
        .bind(&d.team_id)
        .bind(git.map(|g| g.repo.key()))
        .bind(git.and_then(|g| g.repo_id.clone()))
        .fetch_one(&mut *conn)
        .await?;
    Ok((
        row.get("state"),
        row.get("project_id"),
        row.get("commit_sha"),
    ))
}

/// Applies a deployment event.
async fn deployment(
    auth: &Auth,
    hook: &Hook,
    d: &Delivery,
    dep: &DeploymentEvent,
) -> Result<Receipt, HooksError> {
    // Only this hook's own row: a deployment is keyed by (hook, id), so what another tenant's
    // hook reported under the same id neither blocks this one nor shows through.
    let linked: Option<String> = sqlx::query_scalar(
        "select project_id from deployments where hook_id = $1 and deployment_id = $2",
    )
    .bind(&hook.hook_id)
    .bind(&dep.id)
    .fetch_optional(auth.pool())
    .await?
    .flatten();
    // The GitHub check happens before the transaction: no transaction waits on GitHub.
    let plan = match (&linked, &dep.git) {
        (Some(p), _) => Plan::Use(p.clone()),
        (None, Some(git)) => link::plan(auth, hook.user_id, &git.repo).await?,
        (None, None) => Plan::Unlinked(Reason::new(
            "not_github",
            "the deployment is not built from a GitHub repo, so it is recorded without a project",
        )),
    };
    let mut tx = auth.pool().begin().await?;
    if !record_delivery(&mut tx, hook, d).await? {
        return Ok(Receipt::bare("duplicate", d));
    }
    let (project_id, created, reason) = match plan {
        Plan::Use(p) => (Some(p), false, None),
        Plan::Create(repo) => {
            let (p, created) = link::create_or_find(
                &mut tx,
                &repo,
                hook.user_id,
                dep.vercel_project_id.as_deref(),
            )
            .await?;
            (Some(p), created, None)
        }
        Plan::Unlinked(r) => (None, false, Some(r)),
    };
    let (state, project_id, commit_sha) =
        upsert(&mut tx, hook, d, dep, project_id.as_deref()).await?;
    if let (Some(p), Some(v)) = (&project_id, &dep.vercel_project_id) {
        sqlx::query("update projects set vercel_project_id = $2 where project_id = $1 and vercel_project_id is null")
            .bind(p)
            .bind(v)
            .execute(&mut *tx)
            .await?;
    }
    let mut events_updated = backfill::fill_commits(&mut tx, &dep.id).await?;
    tx.commit().await?;
    if created {
        tracing::info!(project.id = project_id.as_deref().unwrap_or(""), hook.id = %hook.hook_id, "project created from a vercel deployment");
    }
    // Again after commit: an event stored while this transaction ran was invisible to it, and
    // its own check could not see this uncommitted deployment (see `backfill`).
    match backfill::fill_commits_now(auth.pool(), &dep.id).await {
        Ok(n) => events_updated += n,
        Err(e) => {
            tracing::warn!(deployment.id = %dep.id, error = %e, "filling in commits after the deployment failed")
        }
    }
    Ok(Receipt {
        deployment_id: Some(dep.id.clone()),
        state: Some(state),
        commit_sha,
        reason: if project_id.is_none() { reason } else { None },
        project_id,
        project_created: created,
        events_updated,
        ..Receipt::bare("recorded", d)
    })
}

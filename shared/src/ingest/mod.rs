//! The ingest use case. Every format (native JSON, Sentry envelope, Sentry store) is parsed into
//! [`ErrorEvent`]s and handed to [`ingest`]: authenticate the key → rate limit → resolve commit
//! and environment → prepare (frames, paths, fingerprint) → one transaction → respond. Nothing is
//! acknowledged that is not committed.

pub mod backfill;
pub mod fold;
pub mod key;
pub mod native;
pub mod prepare;
pub mod store;

use sqlx::Row;

use crate::app::App;
use crate::domain::looks_like_sha;
use crate::error::ApiError;
use crate::event::ErrorEvent;
pub use key::{authenticate_key, KeyedProject};
pub use store::Stored;

/// Where events came from: decides which rules apply when a field is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `POST /v1/events`: `commit_sha` or `deployment_id` is required, and `environment` unless
    /// `deployment_id` is given.
    Native,
    /// Sentry SDKs: commit from `release` or tags when present; environment defaults to production.
    Sentry,
}

/// Fills `commit_sha`/`environment` from the release, the deployment, or defaults.
async fn resolve(
    app: &App,
    project: &KeyedProject,
    ev: &mut ErrorEvent,
    source: Source,
) -> Result<(), ApiError> {
    // Looked up as it will be stored: a NUL in a bound string fails the query (a 500).
    ev.deployment_id = prepare::clean_opt(ev.deployment_id.take(), 128);
    if let Some(c) = ev.commit_sha.as_deref() {
        if crate::domain::CommitSha::parse(c).is_err() {
            if source == Source::Native {
                return Err(ApiError::unprocessable(
                    "invalid_commit_sha",
                    "commit_sha must be 40 hexadecimal characters",
                ));
            }
            // A short SHA from a Sentry release: match it against this project's deployments.
            let short = c.trim().to_ascii_lowercase();
            ev.commit_sha = None;
            if looks_like_sha(&short) {
                let rows = sqlx::query(
                    "select distinct commit_sha from deployments
                      where project_id = $1 and commit_sha like $2 || '%' limit 2",
                )
                .bind(&project.project_id)
                .bind(&short)
                .fetch_all(&app.pool)
                .await?;
                if rows.len() == 1 {
                    ev.commit_sha = rows[0].get("commit_sha");
                }
            }
        }
    }
    if let Some(dep) = ev.deployment_id.as_deref() {
        // Only a deployment linked to this project: another tenant's hook cannot name commits here.
        let row = sqlx::query(
            "select commit_sha, target from deployments where deployment_id = $1 and project_id = $2",
        )
        .bind(dep)
        .bind(&project.project_id)
        .fetch_optional(&app.pool)
        .await?;
        if let Some(row) = row {
            if ev.commit_sha.is_none() {
                ev.commit_sha = row.get("commit_sha");
            }
            if ev.environment.is_none() {
                let target: Option<String> = row.get("target");
                ev.environment = Some(
                    if target.as_deref() == Some("production") {
                        "production"
                    } else {
                        "preview"
                    }
                    .to_owned(),
                );
            }
        }
    }
    // A native event with only the id of a deployment cairn does not know yet gets its
    // environment with its commit, when the deployment arrives (`backfill`).
    let waits_for_deployment =
        source == Source::Native && ev.deployment_id.is_some() && ev.commit_sha.is_none();
    if ev.environment.is_none() && !waits_for_deployment {
        ev.environment = Some("production".to_owned());
    }
    Ok(())
}

/// Ingests events for the project `project`: all or nothing, in one transaction.
pub async fn ingest(
    app: &App,
    project: &KeyedProject,
    events: Vec<ErrorEvent>,
    source: Source,
) -> Result<Vec<Stored>, ApiError> {
    crate::ratelimit::check(app, &project.project_id, events.len()).await?;
    let mut prepared = Vec::with_capacity(events.len());
    for mut ev in events {
        let id = prepare::event_id(ev.event_id.as_deref()).ok_or_else(|| {
            ApiError::unprocessable(
                "invalid_event_id",
                "event_id must be at most 128 printable characters",
            )
        })?;
        resolve(app, project, &mut ev, source).await?;
        prepared.push(prepare::prepare(
            ev,
            &project.repo_name,
            &project.project_id,
            id,
        ));
    }
    let stored = store_all(app, project, &prepared).await?;
    // Events stored without a commit wait for their deployment; it may have arrived meanwhile.
    let mut waiting: Vec<String> = prepared
        .iter()
        .zip(&stored)
        .filter(|(p, s)| !s.duplicate && p.commit_sha.is_none())
        .filter_map(|(p, _)| p.deployment_id.clone())
        .collect();
    waiting.sort();
    waiting.dedup();
    if !waiting.is_empty() {
        if let Err(e) = backfill::after_ingest(&app.pool, &project.project_id, &waiting).await {
            tracing::warn!(error = %e, "filling in commits of waiting events failed; the deployment's next delivery will");
        }
    }
    fold::fold_soon(app);
    Ok(stored)
}

async fn store_all(
    app: &App,
    project: &KeyedProject,
    prepared: &[prepare::Prepared],
) -> Result<Vec<Stored>, ApiError> {
    // A race with a concurrent request (same new fingerprint or same event_id) leaves no row
    // written by the losing statement; retrying sees the winner's rows.
    for _ in 0..4 {
        let mut out = Vec::with_capacity(prepared.len());
        let mut raced = false;
        if let [one] = prepared {
            let mut conn = app.pool.acquire().await?;
            match store::store_one(&mut conn, &project.project_id, &project.key_id, one).await? {
                Some(s) => out.push(s),
                None => raced = true,
            }
        } else {
            let mut tx = app.pool.begin().await?;
            for p in prepared {
                match store::store_one(&mut tx, &project.project_id, &project.key_id, p).await? {
                    Some(s) => out.push(s),
                    None => {
                        raced = true;
                        break;
                    }
                }
            }
            if raced {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
        }
        if !raced {
            return Ok(out);
        }
    }
    Err(ApiError::unavailable(
        "ingest_conflict",
        "concurrent writes to the same incident, retry later",
        None,
    ))
}

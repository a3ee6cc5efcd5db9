//! The ingest use case. Every format (native JSON, Sentry envelope, Sentry store) is parsed into
//! [`ErrorEvent`]s and handed to [`ingest`]: authenticate the key → rate limit → resolve commit
//! and environment → prepare (frames, paths, fingerprint) → one transaction → respond. Nothing is
//! acknowledged that is not committed.

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
    /// `POST /v1/events`: `commit_sha` or `deployment_id` and `environment` are required.
    Native,
    /// Sentry SDKs: commit from `release` or tags when present; environment defaults to production.
    Sentry,
}

/// Fills `commit_sha`/`environment` from the release, the deployment, or defaults.
async fn resolve(app: &App, project: &KeyedProject, ev: &mut ErrorEvent, source: Source) -> Result<(), ApiError> {
    if let Some(c) = ev.commit_sha.as_deref() {
        if crate::domain::CommitSha::parse(c).is_err() {
            if source == Source::Native {
                return Err(ApiError::unprocessable("invalid_commit_sha", "commit_sha must be 40 hexadecimal characters"));
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
        let row = sqlx::query("select commit_sha, target from deployments where deployment_id = $1")
            .bind(dep)
            .fetch_optional(&app.pool)
            .await?;
        if let Some(row) = row {
            if ev.commit_sha.is_none() {
                ev.commit_sha = row.get("commit_sha");
            }
            if ev.environment.is_none() {
                let target: Option<String> = row.get("target");
                ev.environment =
                    Some(if target.as_deref() == Some("production") { "production" } else { "preview" }.to_owned());
            }
        }
    }
    if ev.environment.is_none() {
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
        let id = prepare::event_id(ev.event_id.as_deref())
            .ok_or_else(|| ApiError::unprocessable("invalid_event_id", "event_id must be at most 128 printable characters"))?;
        resolve(app, project, &mut ev, source).await?;
        prepared.push(prepare::prepare(ev, &project.repo_name, &project.project_id, id));
    }
    let stored = store_all(app, project, &prepared).await?;
    // Fold counts in (never waits: skipped when another request is folding).
    if let Err(e) = fold::fold_pending(&app.pool).await {
        tracing::warn!(error = %e, "folding counts failed; they will be folded by a later request");
    }
    Ok(stored)
}

async fn store_all(app: &App, project: &KeyedProject, prepared: &[prepare::Prepared]) -> Result<Vec<Stored>, ApiError> {
    let ids: Vec<String> = prepared.iter().map(|p| p.event_id.clone()).collect();
    // Bounded: each retry learns at least one more duplicate.
    for _ in 0..=prepared.len().min(8) {
        let mut tx = app.pool.begin().await?;
        let known: std::collections::HashMap<String, String> =
            store::existing(&mut tx, &project.project_id, &ids).await?.into_iter().collect();
        let mut out = Vec::with_capacity(prepared.len());
        let mut raced = false;
        let mut seen_in_request = std::collections::HashMap::new();
        for p in prepared {
            if let Some(inc) = known.get(&p.event_id).or_else(|| seen_in_request.get(&p.event_id)) {
                out.push(Stored { event_id: p.event_id.clone(), incident_id: inc.clone(), duplicate: true });
                continue;
            }
            match store::store_one(&mut tx, &project.project_id, &project.key_id, p).await? {
                store::Outcome::Stored(s) => {
                    seen_in_request.insert(s.event_id.clone(), s.incident_id.clone());
                    out.push(s);
                }
                store::Outcome::RaceDuplicate => {
                    raced = true;
                    break;
                }
            }
        }
        if raced {
            tx.rollback().await?;
            continue;
        }
        tx.commit().await?;
        return Ok(out);
    }
    Err(ApiError::unavailable("ingest_conflict", "concurrent retries of the same events, retry later", None))
}

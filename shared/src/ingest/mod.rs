//! The ingest use case. Every format (native JSON, Sentry envelope, Sentry store) is parsed into
//! [`ErrorEvent`]s and handed to [`ingest`]: authenticate the key → rate limit → resolve commit
//! and environment → prepare (frames, paths, fingerprint) → one statement (grouped with the
//! requests that arrived meanwhile, see [`group`]) → respond. Nothing is acknowledged that is
//! not committed.

pub mod backfill;
pub mod error;
pub mod fold;
pub mod group;
pub mod key;
pub mod native;
pub mod prepare;
pub mod ratelimit;
pub mod store;

use sqlx::{PgPool, Row};

use crate::config::Config;
use crate::domain::looks_like_sha;
use crate::event::ErrorEvent;
use crate::sourcemaps::{self, resolve::MapCache};
pub use error::{DbError, IngestError};
pub use key::{authenticate_key, KeyCache, KeyedProject};
pub use store::Stored;

/// What the ingest function builds once per instance and lends to every request: exactly what
/// ingesting touches.
pub struct Ingest {
    pool: PgPool,
    /// Ingest keys looked up in the last second (see [`key`]).
    keys: KeyCache,
    /// This instance's share of the per-project rate limit (see [`ratelimit`]).
    limiter: ratelimit::RateLimiter,
    /// Group commit of ingested events (see [`group`]).
    writer: group::GroupCommit,
    /// When this instance last started a fold (see [`fold`]).
    folds: fold::FoldPacer,
    /// Source maps parsed for minified frames (see `sourcemaps::frames::resolve_event`).
    maps: MapCache,
    /// Incidents recorded lately as waiting for a map (see `sourcemaps::late`).
    waits: sourcemaps::late::RecentWaits,
    /// The keyed hash of end users (see [`crate::scrub::UserHasher`]).
    users: crate::scrub::UserHasher,
}

/// Memory for parsed source maps per instance: a quarter of the ingest function's 256 MB.
pub const MAP_CACHE_BYTES: usize = 64 * 1024 * 1024;

impl Ingest {
    /// Builds ingest's state from `config`, with its own pool (it connects lazily).
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Self::with_pool(config, crate::db::pool(config)?))
    }

    /// Builds ingest's state around an existing pool (`cairn serve` shares one among every
    /// function). The writers are sized from `config`'s pool size, as `pool` was.
    pub fn with_pool(config: &Config, pool: PgPool) -> Self {
        Self {
            writer: group::GroupCommit::new(
                group::writers(config.db.max_connections, config.ingest_writers),
                store::incident_id_salt(&config.secret_key),
            ),
            limiter: ratelimit::RateLimiter::new(config.rate_limit_per_minute),
            keys: KeyCache::default(),
            folds: fold::FoldPacer::default(),
            maps: MapCache::new(MAP_CACHE_BYTES),
            waits: Default::default(),
            users: crate::scrub::UserHasher::new(&config.secret_key),
            pool,
        }
    }

    /// The pool ingest writes with (also what `GET /healthz` pings).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Authenticates a raw key (`None`: no key was sent), see [`authenticate_key`].
    pub async fn authenticate(&self, raw: Option<&str>) -> Result<KeyedProject, IngestError> {
        authenticate_key(&self.pool, &self.keys, raw).await
    }
}

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
    pool: &PgPool,
    project: &KeyedProject,
    ev: &mut ErrorEvent,
    source: Source,
) -> Result<(), IngestError> {
    // Looked up as it will be stored: a NUL in a bound string fails the query (a 500).
    ev.deployment_id = prepare::clean_opt(ev.deployment_id.take(), 128);
    if let Some(c) = ev.commit_sha.as_deref() {
        if crate::domain::CommitSha::parse(c).is_err() {
            if source == Source::Native {
                return Err(IngestError::InvalidCommitSha {
                    at: "commit_sha".to_owned(),
                });
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
                .fetch_all(pool)
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
            "select commit_sha, target from deployments where deployment_id = $1 and project_id = $2
              order by updated_at desc limit 1",
        )
        .bind(dep)
        .bind(&project.project_id)
        .fetch_optional(pool)
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

/// Ingests events for the project `project`: all or nothing, in one statement.
pub async fn ingest(
    state: &Ingest,
    project: &KeyedProject,
    events: Vec<ErrorEvent>,
    source: Source,
) -> Result<Vec<Stored>, IngestError> {
    let pool = &state.pool;
    state
        .limiter
        .admit(pool, &project.project_id, events.len())
        .await?;
    let privacy = prepare::Privacy {
        users: &state.users,
        ips: if project.store_ip_addresses {
            crate::scrub::Ips::Keep
        } else {
            crate::scrub::Ips::Remove
        },
    };
    let mut prepared = Vec::with_capacity(events.len());
    // Per event, the images whose map is missing: its incident waits for them.
    let mut missing_maps = Vec::with_capacity(events.len());
    for mut ev in events {
        let id = prepare::event_id(ev.event_id.as_deref()).ok_or(IngestError::InvalidEventId)?;
        resolve(pool, project, &mut ev, source).await?;
        let missing = sourcemaps::frames::resolve_event(
            pool,
            &state.maps,
            &project.project_id,
            &project.repo_name,
            &mut ev,
        )
        .await;
        missing_maps.push(missing);
        prepared.push(prepare::prepare(
            ev,
            &project.repo_name,
            &project.project_id,
            id,
            &privacy,
        ));
    }
    if prepared.is_empty() {
        return Ok(Vec::new());
    }
    // Events without a commit wait for their deployment (see below).
    let awaiting: Vec<Option<String>> = prepared
        .iter()
        .map(|p| p.deployment_id.clone().filter(|_| p.commit_sha.is_none()))
        .collect();
    let outcomes = state
        .writer
        .write(pool, &project.key_id, &project.project_id, prepared)
        .await?;
    let stored: Vec<Stored> = outcomes
        .into_iter()
        .map(|o| match o {
            store::Outcome::Stored(s) => Ok(s),
            // Revoked (or its project deleted) since this instance looked the key up.
            store::Outcome::Refused => Err(IngestError::KeyRevoked),
        })
        .collect::<Result<_, _>>()?;
    // Events stored without a commit wait for their deployment; it may have arrived meanwhile.
    let mut waiting: Vec<String> = awaiting
        .into_iter()
        .zip(&stored)
        .filter(|(_, s)| !s.duplicate)
        .filter_map(|(d, _)| d)
        .collect();
    waiting.sort();
    waiting.dedup();
    if !waiting.is_empty() {
        if let Err(e) = backfill::after_ingest(pool, &project.project_id, &waiting).await {
            tracing::warn!(error = %e, "filling in commits of waiting events failed; the deployment's next delivery will");
        }
    }
    let waits: Vec<sourcemaps::late::Wait> = missing_maps
        .into_iter()
        .zip(&stored)
        .flat_map(|(images, s)| {
            images.into_iter().map(|image| sourcemaps::late::Wait {
                incident_id: s.incident_id.clone(),
                image,
            })
        })
        .collect();
    if !waits.is_empty() {
        if let Err(e) = sourcemaps::late::record_waits(
            pool,
            &state.waits,
            &project.project_id,
            &project.repo_name,
            waits,
        )
        .await
        {
            tracing::warn!(error = %e, "recording incidents that wait for source maps failed; they keep their minified location");
        }
    }
    state.folds.fold_soon(pool);
    Ok(stored)
}

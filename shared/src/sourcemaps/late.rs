//! Maps that arrive after their events. An SDK reports events as soon as the new build runs,
//! and the build's maps may be uploaded later (a CI step after the deploy, a retried upload). Such
//! an event is stored as sent (nothing is ever held back or lost) and its incident waits for
//! the missing debug ids in `sourcemap_waits`; when a bundle with one of those ids is assembled,
//! the incident is located again from its stored events, through the maps that are now there:
//!
//! - its first event gives the incident its location (`incidents`) and frames
//!   (`incident_details`); the first event at each commit gives that commit's
//!   (`incident_commits`, `incident_commit_frames`); the first event still waiting for its
//!   deployment, per deployment, gives the location those events will take when it comes
//!   (`pending_location`, read by `ingest::backfill`);
//! - the incident takes the fingerprint of its resolved frames unless another incident of the
//!   project already has it, so the events that come after the maps (resolved at ingest, grouped
//!   on the original code) join it instead of opening a second incident for the same bug.
//!
//! Both sides run it after their own commit, as `ingest::backfill` does for deployments: the
//! assemble call for the ids it stored ([`after_upload`]), and ingest after recording waits
//! whose map exists meanwhile ([`record_waits`]); whichever commits last sees the other's rows.
//! One pass revisits at most [`MAX_INCIDENTS`] incidents within its time budget (10 s in an
//! assemble call, 2 s in an ingest request); the retention function's hourly [`sweep`] finishes
//! what a pass left, or what failed.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::{PgPool, Row};

use super::frames::{self, Image};
use super::resolve::MapCache;
use super::{DebugId, Limits};
use crate::ingest::prepare::{self, Grouped, OutFrame};

/// Most incidents one pass revisits (the rest wait for the next pass or the sweep).
pub const MAX_INCIDENTS: i64 = 500;
/// Longest a pass keeps revisiting incidents inside an assemble request (the uploads function
/// has 29 s).
pub const UPLOAD_BUDGET: Duration = Duration::from_secs(10);
/// The same inside an ingest request (10 s for the whole request; its events are committed).
pub const INGEST_BUDGET: Duration = Duration::from_secs(2);
/// The same per project in the retention sweep (300 s for the whole run).
pub const SWEEP_BUDGET: Duration = Duration::from_secs(30);
/// Memory for the maps one pass parses (its own cache, dropped with the pass).
const PASS_CACHE_BYTES: usize = 64 * 1024 * 1024;
/// Most (incident, image) pairs an ingest instance remembers having recorded.
const MAX_RECENT: usize = 10_000;

/// An incident that waits for a map: an event of it pointed into `image`, whose map is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    pub incident_id: String,
    pub image: Image,
}

/// The waits an ingest instance recorded lately, so that an app whose maps are never uploaded
/// costs one insert per (incident, image), not one per event.
#[derive(Default)]
pub struct RecentWaits(Mutex<HashSet<(String, String, String)>>);

impl RecentWaits {
    /// `waits` without those recorded lately (for `project_id`), which are remembered from now.
    fn fresh(&self, project_id: &str, waits: Vec<Wait>) -> Vec<Wait> {
        let Ok(mut seen) = self.0.lock() else {
            return waits;
        };
        if seen.len() + waits.len() > MAX_RECENT {
            seen.clear();
        }
        waits
            .into_iter()
            .filter(|w| {
                seen.insert((
                    project_id.to_owned(),
                    w.image.debug_id.as_str().to_owned(),
                    w.incident_id.clone(),
                ))
            })
            .collect()
    }
}

/// Records that these incidents wait for maps, after their events were committed; then, if a
/// map came meanwhile (its bundle assembled after resolution missed it, before the waits were
/// there to be seen), locates them at once.
pub async fn record_waits(
    pool: &PgPool,
    recent: &RecentWaits,
    project_id: &str,
    repo_name: &str,
    waits: Vec<Wait>,
) -> Result<(), sqlx::Error> {
    let waits = recent.fresh(project_id, waits);
    if waits.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = waits.iter().map(|w| w.image.debug_id.as_str()).collect();
    let incidents: Vec<&str> = waits.iter().map(|w| w.incident_id.as_str()).collect();
    let files: Vec<&str> = waits.iter().map(|w| w.image.code_file.as_str()).collect();
    sqlx::query(
        "insert into sourcemap_waits (project_id, debug_id, incident_id, code_file)
         select $1, w.debug_id::uuid, w.incident_id, left(w.code_file, 2048)
           from unnest($2::text[], $3::text[], $4::text[]) as w(debug_id, incident_id, code_file)
         on conflict do nothing",
    )
    .bind(project_id)
    .bind(&ids)
    .bind(&incidents)
    .bind(&files)
    .execute(pool)
    .await?;
    let present = present_maps(pool, project_id, &ids).await?;
    if !present.is_empty() {
        resolve_waiting(pool, project_id, repo_name, &present, INGEST_BUDGET).await?;
    }
    Ok(())
}

/// After a bundle was assembled for the project: locates the incidents that waited for its ids.
/// A failure is logged, not returned: the upload itself succeeded, and the sweep retries.
pub async fn after_upload(pool: &PgPool, project_id: &str, repo_name: &str, ids: &[DebugId]) {
    if let Err(e) = resolve_waiting(pool, project_id, repo_name, ids, UPLOAD_BUDGET).await {
        tracing::warn!(error = %e, project.id = project_id, "locating incidents that waited for these maps failed; the retention sweep retries");
    }
}

/// What a pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Incidents whose waits were settled.
    pub incidents: u64,
    /// Of those, incidents whose location changed.
    pub located: u64,
}

/// Locates again the incidents of `project_id` that wait for any of `ids` (each id's map is
/// expected to be there; a wait for one that is not stays), for at most `budget`.
pub async fn resolve_waiting(
    pool: &PgPool,
    project_id: &str,
    repo_name: &str,
    ids: &[DebugId],
    budget: Duration,
) -> Result<Pass, sqlx::Error> {
    let started = Instant::now();
    let ids: Vec<&str> = ids.iter().map(DebugId::as_str).collect();
    let incidents: Vec<String> = sqlx::query_scalar(
        "select distinct incident_id from sourcemap_waits
          where project_id = $1 and debug_id = any($2::uuid[]) limit $3",
    )
    .bind(project_id)
    .bind(&ids)
    .bind(MAX_INCIDENTS)
    .fetch_all(pool)
    .await?;
    let cache = MapCache::new(PASS_CACHE_BYTES);
    let mut pass = Pass::default();
    for incident_id in incidents {
        if started.elapsed() > budget {
            tracing::info!(
                project.id = project_id,
                "incidents still wait for maps that are here; the retention sweep locates them"
            );
            break;
        }
        if let Some(changed) = locate(pool, &cache, project_id, repo_name, &incident_id).await? {
            pass.incidents += 1;
            pass.located += u64::from(changed);
        }
    }
    Ok(pass)
}

/// The retention function's share: every project's incidents that still wait for a map that
/// is there (a pass that ran out of budget, or failed). Returns the incidents settled.
pub async fn sweep(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let rows = sqlx::query(
        "select w.project_id, p.repo_name, array_agg(distinct w.debug_id::text) as ids
           from sourcemap_waits w
           join projects p on p.project_id = w.project_id
          where exists (select 1 from artifacts a where a.project_id = w.project_id
                          and a.debug_id = w.debug_id and a.kind = 'source_map')
          group by w.project_id, p.repo_name",
    )
    .fetch_all(pool)
    .await?;
    let mut settled = 0;
    for row in rows {
        let ids: Vec<DebugId> = row
            .get::<Vec<String>, _>("ids")
            .iter()
            .filter_map(|id| DebugId::parse(id))
            .collect();
        let project_id: String = row.get("project_id");
        let repo_name: String = row.get("repo_name");
        settled += resolve_waiting(pool, &project_id, &repo_name, &ids, SWEEP_BUDGET)
            .await?
            .incidents;
    }
    Ok(settled)
}

/// The debug ids among `ids` whose source map `project_id` has.
async fn present_maps(
    pool: &PgPool,
    project_id: &str,
    ids: &[&str],
) -> Result<Vec<DebugId>, sqlx::Error> {
    let found: Vec<String> = sqlx::query_scalar(
        "select distinct debug_id::text from artifacts
          where project_id = $1 and kind = 'source_map' and debug_id = any($2::uuid[])",
    )
    .bind(project_id)
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(found.iter().filter_map(|id| DebugId::parse(id)).collect())
}

/// Locates one waiting incident again (see the module docs). `None` when none of its maps is
/// there yet (its waits stay); else whether its location changed. Its waits for the maps that
/// are there are deleted either way: a map that cannot place the frame will not later either.
async fn locate(
    pool: &PgPool,
    cache: &MapCache,
    project_id: &str,
    repo_name: &str,
    incident_id: &str,
) -> Result<Option<bool>, sqlx::Error> {
    let images: Vec<Image> = sqlx::query(
        "select debug_id::text as debug_id, code_file from sourcemap_waits
          where project_id = $1 and incident_id = $2",
    )
    .bind(project_id)
    .bind(incident_id)
    .fetch_all(pool)
    .await?
    .iter()
    .filter_map(|r| {
        Some(Image {
            debug_id: DebugId::parse(r.get("debug_id"))?,
            code_file: r.get("code_file"),
        })
    })
    .collect();
    let ids: Vec<&str> = images.iter().map(|i| i.debug_id.as_str()).collect();
    let present = present_maps(pool, project_id, &ids).await?;
    if present.is_empty() {
        return Ok(None);
    }
    let regroup = |payload: Option<String>| {
        let images = &images;
        async move {
            match payload {
                Some(p) => regroup(pool, cache, project_id, repo_name, images, &p).await,
                None => Ok(None),
            }
        }
    };

    // The incident's own location: from its first event still stored.
    let first: Option<String> = sqlx::query_scalar(
        "select payload::text from incident_events where incident_id = $1 order by id limit 1",
    )
    .bind(incident_id)
    .fetch_optional(pool)
    .await?;
    let own = regroup(first).await?;
    // Each commit's: from the first event at that commit.
    let mut commits = Vec::new();
    for row in sqlx::query(
        "select c.commit_sha,
                (select e.payload::text from incident_events e
                  where e.incident_id = c.incident_id and e.commit_sha = c.commit_sha
                  order by e.id limit 1) as payload
           from incident_commits c where c.incident_id = $1",
    )
    .bind(incident_id)
    .fetch_all(pool)
    .await?
    {
        if let Some(g) = regroup(row.get("payload")).await? {
            commits.push((row.get::<String, _>("commit_sha"), g));
        }
    }
    // Events still waiting for their deployment: the first of each deployment.
    let mut pending = Vec::new();
    for row in sqlx::query(
        "select distinct on (deployment_id) deployment_id, payload::text as payload
           from incident_events
          where incident_id = $1 and commit_sha is null and pending_location is not null
          order by deployment_id, id",
    )
    .bind(incident_id)
    .fetch_all(pool)
    .await?
    {
        if let Some(g) = regroup(row.get("payload")).await? {
            pending.push((row.get::<String, _>("deployment_id"), g));
        }
    }

    let changed = own.is_some() || !commits.is_empty() || !pending.is_empty();
    let present: Vec<&str> = present.iter().map(DebugId::as_str).collect();
    let mut tx = pool.begin().await?;
    if let Some(g) = &own {
        let top = top_of(g);
        sqlx::query(
            "update incidents set file_path = $2, line_number = $3, column_number = $4, function = $5
              where incident_id = $1",
        )
        .bind(incident_id)
        .bind(top.file_path.as_deref())
        .bind(top.line_number.map(|v| v as i32))
        .bind(top.column_number.map(|v| v as i32))
        .bind(top.function.as_deref())
        .execute(&mut *tx)
        .await?;
        sqlx::query("update incident_details set frames = $2::jsonb where incident_id = $1")
            .bind(incident_id)
            .bind(frames_json(&g.frames))
            .execute(&mut *tx)
            .await?;
    }
    // Each commit's row and each waiting deployment's events, in one statement each.
    let (shas, commit_rows) = rows_of(&commits);
    sqlx::query(
        "with l as (
             select * from unnest($2::text[], $3::text[], $4::int4[], $5::int4[], $6::text[], $7::text[])
                 as l(commit_sha, file_path, line_number, column_number, function, frames)),
         loc as (
             update incident_commits c
                set file_path = l.file_path, line_number = l.line_number,
                    column_number = l.column_number, function = l.function
               from l where c.incident_id = $1 and c.commit_sha = l.commit_sha)
         update incident_commit_frames f set frames = l.frames::jsonb
           from l where f.incident_id = $1 and f.commit_sha = l.commit_sha",
    )
    .bind(incident_id)
    .bind(&shas)
    .bind(&commit_rows.0)
    .bind(&commit_rows.1)
    .bind(&commit_rows.2)
    .bind(&commit_rows.3)
    .bind(&commit_rows.4)
    .execute(&mut *tx)
    .await?;
    let (deployments, pending_rows) = rows_of(&pending);
    sqlx::query(
        "update incident_events e
            set pending_location = jsonb_build_object('file_path', l.file_path,
                    'line_number', l.line_number, 'column_number', l.column_number,
                    'function', l.function, 'frames', l.frames::jsonb)
           from unnest($2::text[], $3::text[], $4::int4[], $5::int4[], $6::text[], $7::text[])
                as l(deployment_id, file_path, line_number, column_number, function, frames)
          where e.incident_id = $1 and e.deployment_id = l.deployment_id and e.commit_sha is null
            and e.pending_location is not null",
    )
    .bind(incident_id)
    .bind(&deployments)
    .bind(&pending_rows.0)
    .bind(&pending_rows.1)
    .bind(&pending_rows.2)
    .bind(&pending_rows.3)
    .bind(&pending_rows.4)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "delete from sourcemap_waits
          where project_id = $1 and incident_id = $2 and debug_id = any($3::uuid[])",
    )
    .bind(project_id)
    .bind(incident_id)
    .bind(&present)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    // The fingerprint last, on its own: if another incident has it already (or takes it
    // meanwhile, which the unique index refuses), this one keeps its own.
    if let Some(g) = &own {
        let taken = sqlx::query(
            "update incidents i set fingerprint = $2
              where i.incident_id = $1 and i.fingerprint <> $2
                and not exists (select 1 from incidents x
                                 where x.project_id = i.project_id and x.fingerprint = $2)",
        )
        .bind(incident_id)
        .bind(&g.fingerprint)
        .execute(pool)
        .await;
        match taken {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(changed))
}

/// The incident's frames and grouping as they would have been had its maps been there: the
/// stored event (as the SDK sent it) read again, resolved through `images`, grouped. `None` when
/// the payload is not a Sentry event any more, or no frame resolved.
async fn regroup(
    pool: &PgPool,
    cache: &MapCache,
    project_id: &str,
    repo_name: &str,
    images: &[Image],
    payload: &str,
) -> Result<Option<Grouped>, sqlx::Error> {
    let Ok(mut ev) = crate::sentry::event_from_json(payload.as_bytes()) else {
        return Ok(None);
    };
    let minified = frames::positions(&ev.frames);
    let resolution =
        frames::resolve(pool, cache, project_id, images, &minified, &Limits::DEFAULT).await?;
    if resolution.frames.iter().all(Option::is_none) {
        return Ok(None);
    }
    frames::apply(&mut ev.frames, &resolution, repo_name);
    Ok(Some(prepare::group(&mut ev, repo_name)))
}

/// The frame that locates a regrouped event: its top in-app frame, else nothing (as ingest).
fn top_of(g: &Grouped) -> OutFrame {
    g.top.clone().unwrap_or(OutFrame {
        file_path: None,
        line_number: None,
        column_number: None,
        function: None,
        in_app: false,
    })
}

/// Locations as columns (file, line, column, function, frames), keyed as given.
type Columns = (
    Vec<Option<String>>,
    Vec<Option<i32>>,
    Vec<Option<i32>>,
    Vec<Option<String>>,
    Vec<String>,
);

/// `(key, regrouped event)` pairs as the keys and the [`Columns`] of their locations.
fn rows_of(located: &[(String, Grouped)]) -> (Vec<&str>, Columns) {
    let mut columns = Columns::default();
    for (_, g) in located {
        let top = top_of(g);
        columns.0.push(top.file_path);
        columns.1.push(top.line_number.map(|v| v as i32));
        columns.2.push(top.column_number.map(|v| v as i32));
        columns.3.push(top.function);
        columns.4.push(frames_json(&g.frames));
    }
    (located.iter().map(|(k, _)| k.as_str()).collect(), columns)
}

/// Frames as ingest stores them.
fn frames_json(frames: &[OutFrame]) -> String {
    serde_json::to_string(frames).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(incident: &str, id: &str) -> Wait {
        Wait {
            incident_id: incident.into(),
            image: Image {
                code_file: "app:///_next/server/chunks/1.js".into(),
                debug_id: DebugId::parse(id).unwrap(),
            },
        }
    }

    #[test]
    fn an_instance_records_each_wait_once() {
        let a = "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a";
        let b = "d941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a";
        let recent = RecentWaits::default();
        let first = recent.fresh("p1", vec![wait("inc_1", a), wait("inc_1", b)]);
        assert_eq!(first.len(), 2);
        assert!(recent.fresh("p1", vec![wait("inc_1", a)]).is_empty());
        assert_eq!(recent.fresh("p2", vec![wait("inc_1", a)]).len(), 1);
        assert_eq!(recent.fresh("p1", vec![wait("inc_2", a)]).len(), 1);
    }
}

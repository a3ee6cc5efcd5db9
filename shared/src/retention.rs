//! Retention: deletes events older than `CAIRN_RETENTION_DAYS` in bounded batches, each its own
//! short transaction (no long locks, no table rewrite), plus expired auth and bookkeeping rows,
//! and source-map bundles nothing has resolved a frame through for as long (`sourcemaps::store`);
//! first it locates incidents still waiting for maps that have come (`sourcemaps::late::sweep`).
//! Incidents and their counts stay: counts live on the incident, not in the events.

use serde::Serialize;
use sqlx::PgPool;

/// Rows deleted per statement.
pub const BATCH: i64 = 5000;

/// What a run deleted.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Report {
    pub events: u64,
    pub sessions: u64,
    pub oauth_states: u64,
    pub rate_limit_windows: u64,
    /// Source-map bundles (with their artifacts) unused for the retention period.
    pub source_map_bundles: u64,
    /// Uploaded chunks never assembled within a day.
    pub upload_chunks: u64,
    /// Not a deletion: incidents located through maps they still waited for (a late-map pass
    /// that ran out of time or failed, `sourcemaps::late::sweep`).
    pub late_located_incidents: u64,
    pub batches: u64,
}

async fn in_batches(
    pool: &PgPool,
    sql: &str,
    days: i32,
    report: &mut Report,
) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let n = sqlx::query(sql)
            .bind(days)
            .bind(BATCH)
            .execute(pool)
            .await?
            .rows_affected();
        total += n;
        report.batches += 1;
        if n < BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Runs retention with events kept for `days` days.
pub async fn run(pool: &PgPool, days: u32) -> Result<Report, sqlx::Error> {
    let days = days.clamp(1, 36_500) as i32;
    let mut r = Report::default();
    r.events = in_batches(
        pool,
        // By `ctid` (a TID scan): the events have no index on `id` (migration 0007).
        "delete from incident_events where ctid = any(array(
             select ctid from incident_events where received_at < now() - make_interval(days => $1)
              limit $2))",
        days,
        &mut r,
    )
    .await?;
    r.sessions = in_batches(
        pool,
        "delete from sessions where id in (
             select id from sessions where expires_at < now() - make_interval(days => least($1, 1)) limit $2)",
        days,
        &mut r,
    )
    .await?;
    r.oauth_states = sqlx::query("delete from oauth_states where expires_at < now()")
        .execute(pool)
        .await?
        .rows_affected();
    r.rate_limit_windows = sqlx::query(
        "delete from rate_limit_windows where window_start < now() - interval '10 minutes'",
    )
    .execute(pool)
    .await?
    .rows_affected();
    // Before the purge: the waits being settled bump their bundles' use.
    r.late_located_incidents = crate::sourcemaps::late::sweep(pool).await?;
    (r.source_map_bundles, r.upload_chunks) =
        crate::sourcemaps::store::purge(pool, days as u32).await?;
    tracing::info!(
        events = r.events,
        sessions = r.sessions,
        source_map_bundles = r.source_map_bundles,
        batches = r.batches,
        "retention done"
    );
    Ok(r)
}

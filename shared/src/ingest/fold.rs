//! Folding counts in. Ingest never updates a shared row per event: it appends to
//! `incident_counts_pending`, and this set-based statement drains that queue into `incidents`,
//! `incident_commits`, `incident_environments`, `incident_users` and `api_key_usage`. One folder
//! runs at a time (a transaction-scoped advisory lock tried, never waited for); writers are never
//! blocked by it. Readers add what is still pending, so counts are exact at read time.

use sqlx::PgPool;

/// Rows drained per statement.
const BATCH: i64 = 5000;

const FOLD_SQL: &str = r#"
with lock as (
    select pg_try_advisory_xact_lock(7463201) as ok
),
batch as (
    delete from incident_counts_pending
     where (select ok from lock)
       and id in (select id from incident_counts_pending order by id limit $1 for update skip locked)
    returning incident_id, project_id, commit_sha, environment, key_id, seen_at, n, user_hash, user_hashes
),
new_users as (
    insert into incident_users (incident_id, user_hash)
    select distinct incident_id, u from (
        select incident_id, user_hash as u from batch where user_hash is not null
        union all
        select incident_id, unnest(user_hashes) from batch where user_hashes is not null
    ) b
    on conflict do nothing
    returning incident_id
),
per_incident as (
    select b.incident_id, sum(b.n) as n, max(b.seen_at) as last_seen,
           (array_agg(b.commit_sha order by b.seen_at desc) filter (where b.commit_sha is not null))[1] as last_commit
      from batch b group by b.incident_id
),
inc as (
    update incidents i
       set occurrence_count = i.occurrence_count + p.n,
           last_seen_at = greatest(i.last_seen_at, p.last_seen),
           last_commit_sha = coalesce(p.last_commit, i.last_commit_sha),
           affected_users = i.affected_users + coalesce(u.n, 0)
      from per_incident p
      left join (select incident_id, count(*) as n from new_users group by incident_id) u on u.incident_id = p.incident_id
     where i.incident_id = p.incident_id
    returning 1
),
com as (
    update incident_commits c
       set occurrence_count = c.occurrence_count + p.n,
           last_seen_at = greatest(c.last_seen_at, p.last_seen),
           first_seen_at = least(c.first_seen_at, p.first_seen)
      from (select incident_id, commit_sha, sum(n) as n, min(seen_at) as first_seen, max(seen_at) as last_seen
              from batch where commit_sha is not null group by incident_id, commit_sha) p
     where c.incident_id = p.incident_id and c.commit_sha = p.commit_sha
    returning 1
),
envs as (
    insert into incident_environments (incident_id, environment)
    select distinct incident_id, environment from batch where environment is not null
    on conflict do nothing
    returning 1
),
keys as (
    update api_key_usage k
       set usage_count = k.usage_count + p.n,
           last_used_at = greatest(k.last_used_at, p.last_seen)
      from (select key_id, sum(n) as n, max(seen_at) as last_seen from batch where key_id is not null group by key_id) p
     where k.key_id = p.key_id
    returning 1
)
select (select count(*) from batch) as drained,
       (select ok from lock) as locked,
       (select count(*) from inc) + (select count(*) from com) + (select count(*) from envs) + (select count(*) from keys) as touched
"#;

/// Drains pending counts until the queue is empty or another folder holds the lock. Returns the
/// number of rows folded in.
pub async fn fold_pending(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut total = 0u64;
    loop {
        // Planned at each run, never from a cached generic plan: a plan made while the tables
        // were small (a fresh database) can turn quadratic once they are not, and a slow fold
        // holds row locks ingest waits on. Folds are few, so planning is cheap here.
        let (drained, locked, _touched): (i64, bool, i64) = sqlx::query_as(FOLD_SQL)
            .bind(BATCH)
            .persistent(false)
            .fetch_one(pool)
            .await?;
        total += drained as u64;
        if !locked || drained < BATCH {
            return Ok(total);
        }
    }
}

/// Starts a fold in the background unless this instance started one in the last
/// [`FOLD_INTERVAL_MS`]: ingest never waits for it, and a spike does not queue folds.
pub fn fold_soon(app: &crate::app::App) {
    use std::sync::atomic::Ordering;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let last = app.last_fold_ms.load(Ordering::Relaxed);
    if now.saturating_sub(last) < FOLD_INTERVAL_MS
        || app
            .last_fold_ms
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let pool = app.pool.clone();
    tokio::spawn(async move {
        if let Err(e) = fold_pending(&pool).await {
            tracing::warn!(error = %e, "folding counts failed; a later fold will pick them up");
        }
    });
}

/// Least time between two folds started by one instance.
pub const FOLD_INTERVAL_MS: u64 = 200;

//! Folding counts in. Ingest never updates a shared row per event: it appends one row per
//! statement to `incident_counts_batches`, and this set-based statement drains that queue into
//! `incidents`, `incident_commits`, `incident_environments`, `incident_users` and
//! `api_key_usage`. One folder
//! runs at a time (a transaction-scoped advisory lock tried, never waited for); writers are never
//! blocked by it. Readers add what is still pending, so counts are exact at read time.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;

/// Pending rows (ingest statements, up to `group::MAX_GROUP_EVENTS` entries each) drained per
/// fold statement: a fold stays short (its row locks are held until it commits).
const BATCH: i64 = 10;

const FOLD_SQL: &str = r#"
with lock as (
    select pg_try_advisory_xact_lock(7463201) as ok
),
batch as (
    delete from incident_counts_batches
     where (select ok from lock)
       and id in (select id from incident_counts_batches order by id limit $1 for update skip locked)
    returning seen_at, incident_ids, commit_shas, environments, key_ids, counts, user_incidents, user_hashes
),
entries as (
    select b.seen_at, e.incident_id, e.commit_sha, e.environment, e.key_id, e.n
      from batch b, unnest(b.incident_ids, b.commit_shas, b.environments, b.key_ids, b.counts)
                    as e(incident_id, commit_sha, environment, key_id, n)
),
seen_users as (
    select distinct u.incident_id, u.user_hash
      from batch b, unnest(b.user_incidents, b.user_hashes) as u(incident_id, user_hash)
),
new_users as (
    -- `on conflict` looks the pair up once before inserting: a `not exists` in front of it
    -- would walk the (large) index a second time for every new pair.
    insert into incident_users (incident_id, user_hash)
    select s.incident_id, s.user_hash from seen_users s
    on conflict do nothing
    returning incident_id
),
per_incident as (
    select b.incident_id, sum(b.n) as n, max(b.seen_at) as last_seen,
           (array_agg(b.commit_sha order by b.seen_at desc) filter (where b.commit_sha is not null))[1] as last_commit
      from entries b group by b.incident_id
),
inc as (
    update incidents i
       set occurrence_count = i.occurrence_count + p.n,
           last_seen_at = greatest(i.last_seen_at, p.last_seen),
           activity_at = case when p.last_seen >= i.activity_at + interval '1 minute' then p.last_seen
                              else i.activity_at end,
           last_commit_sha = coalesce(p.last_commit, i.last_commit_sha),
           affected_users = i.affected_users + coalesce(u.n, 0)
      from per_incident p
      left join (select incident_id, count(*) as n from new_users group by incident_id) u on u.incident_id = p.incident_id
     where i.incident_id = p.incident_id
    returning i.incident_id, i.environment
),
com as (
    update incident_commits c
       set occurrence_count = c.occurrence_count + p.n,
           last_seen_at = greatest(c.last_seen_at, p.last_seen),
           activity_at = case when p.last_seen >= c.activity_at + interval '1 minute' then p.last_seen
                              else c.activity_at end,
           first_seen_at = least(c.first_seen_at, p.first_seen)
      from (select incident_id, commit_sha, sum(n) as n, min(seen_at) as first_seen, max(seen_at) as last_seen
              from entries where commit_sha is not null group by incident_id, commit_sha) p
     where c.incident_id = p.incident_id and c.commit_sha = p.commit_sha
    returning 1
),
envs as (
    -- An incident's own environment always has its row (written with the incident, or by
    -- `backfill` when it sets it): only the others are looked up.
    insert into incident_environments (incident_id, environment)
    select distinct b.incident_id, b.environment from entries b join inc on inc.incident_id = b.incident_id
     where b.environment is not null and b.environment is distinct from inc.environment
       and not exists (select 1 from incident_environments x
                        where x.incident_id = b.incident_id and x.environment = b.environment)
    on conflict do nothing
    returning 1
),
keys as (
    update api_key_usage k
       set usage_count = k.usage_count + p.n,
           last_used_at = greatest(k.last_used_at, p.last_seen)
      from (select key_id, sum(n) as n, max(seen_at) as last_seen from entries where key_id is not null group by key_id) p
     where k.key_id = p.key_id
    returning 1
)
select (select count(*) from batch)::bigint as drained,
       (select ok from lock) as locked,
       (select count(*) from inc) + (select count(*) from com) + (select count(*) from envs) + (select count(*) from keys) as touched
"#;

/// Drains pending counts until the queue is empty, waiting for a fold running elsewhere to
/// finish first: when this returns, everything committed before the call is folded in. Returns
/// the number of ingest statements folded in by this call.
pub async fn fold_pending(pool: &PgPool) -> Result<u64, sqlx::Error> {
    drain(pool, true).await
}

/// Drains pending counts unless another fold is running (then returns at once): for readers,
/// which add what is still pending to what they read.
pub async fn fold_if_free(pool: &PgPool) -> Result<u64, sqlx::Error> {
    drain(pool, false).await
}

async fn drain(pool: &PgPool, wait: bool) -> Result<u64, sqlx::Error> {
    let mut total = 0u64;
    // A fold holding the lock longer than this is stuck: leave the rest to a later fold.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        // Planned at each run, never from a cached generic plan: a plan made while the tables
        // were small (a fresh database) can turn quadratic once they are not, and a slow fold
        // holds row locks. Folds are few, so planning is cheap here.
        let (drained, locked, _touched): (i64, bool, i64) = sqlx::query_as(FOLD_SQL)
            .bind(BATCH)
            .persistent(false)
            .fetch_one(pool)
            .await?;
        total += drained as u64;
        if !locked && wait && std::time::Instant::now() < give_up {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            continue;
        }
        if !locked || drained < BATCH {
            return Ok(total);
        }
    }
}

/// When this instance last started a fold, so a spike of requests starts one fold per
/// [`FOLD_INTERVAL_MS`], not one each.
#[derive(Default)]
pub struct FoldPacer {
    /// Milliseconds since the epoch.
    last_ms: AtomicU64,
}

impl FoldPacer {
    /// Starts a fold on `pool` in the background unless this instance started one in the last
    /// [`FOLD_INTERVAL_MS`]: ingest never waits for it, and a spike does not queue folds.
    pub fn fold_soon(&self, pool: &PgPool) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let last = self.last_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < FOLD_INTERVAL_MS
            || self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            if let Err(e) = fold_if_free(&pool).await {
                tracing::warn!(error = %e, "folding counts failed; a later fold will pick them up");
            }
        });
    }
}

/// Least time between two folds started by one instance.
pub const FOLD_INTERVAL_MS: u64 = 200;

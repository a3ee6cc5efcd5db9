//! Optional diagnostics of the bench cluster, off by default (they cost a little):
//! - `CAIRN_BENCH_STATEMENTS=1`: loads `pg_stat_statements` and prints, after the run, the
//!   statements by total time with their calls, plans and mean execution and planning times;
//! - `CAIRN_BENCH_EXPLAIN_MS=<ms>`: `auto_explain` logs (with timings) the plans of statements
//!   slower than that, for one statement in fifty (`CAIRN_BENCH_EXPLAIN_RATE` sets the share);
//!   the cluster's log is copied to `$TMPDIR/cairn-bench-pg.log` at the end.
#![expect(clippy::print_stdout, reason = "the report is this program's output")]

use sqlx::PgPool;

use crate::env::Cluster;

fn statements() -> bool {
    std::env::var("CAIRN_BENCH_STATEMENTS").is_ok()
}

/// Sets the cluster up for the diagnostics asked for; returns the pool to use afterwards (the
/// cluster may have been restarted).
pub async fn setup(cluster: &Cluster, pool: PgPool) -> anyhow::Result<PgPool> {
    let pool = if statements() {
        sqlx::query("alter system set shared_preload_libraries = 'pg_stat_statements'")
            .execute(&pool)
            .await?;
        pool.close().await;
        cluster.pg.stop(false)?;
        cluster.pg.restart()?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&cluster.url())
            .await?;
        for q in [
            "create extension pg_stat_statements",
            "alter system set pg_stat_statements.track_planning = on",
            "select pg_reload_conf()",
        ] {
            sqlx::query(q).execute(&pool).await?;
        }
        pool
    } else {
        pool
    };
    if let Ok(ms) = std::env::var("CAIRN_BENCH_EXPLAIN_MS") {
        let ms: u32 = ms.parse()?;
        let mut one = pool.acquire().await?;
        for q in [
            "load 'auto_explain'".to_owned(),
            "alter system set session_preload_libraries = 'auto_explain'".to_owned(),
            format!("alter system set auto_explain.log_min_duration = {ms}"),
            format!(
                "alter system set auto_explain.sample_rate = {}",
                std::env::var("CAIRN_BENCH_EXPLAIN_RATE")
                    .ok()
                    .and_then(|r| r.parse::<f64>().ok())
                    .unwrap_or(0.02)
            ),
            "alter system set auto_explain.log_analyze = on".to_owned(),
            "select pg_reload_conf()".to_owned(),
        ] {
            sqlx::query(&q).execute(&mut *one).await?;
        }
    }
    Ok(pool)
}

/// Forgets what was gathered so far (after seeding and warm-up).
pub async fn reset(pool: &PgPool) -> anyhow::Result<()> {
    if statements() {
        sqlx::query("select pg_stat_statements_reset()")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Prints what the diagnostics gathered.
pub async fn report(pool: &PgPool) -> anyhow::Result<()> {
    if !statements() {
        return Ok(());
    }
    let top: Vec<(String, i64, i64, f64, f64)> = sqlx::query_as(
        "select left(regexp_replace(query, '\\s+', ' ', 'g'), 60), calls, plans,
                total_exec_time / greatest(calls, 1), total_plan_time / greatest(plans, 1)
           from pg_stat_statements order by total_exec_time + total_plan_time desc limit 12",
    )
    .fetch_all(pool)
    .await?;
    println!();
    for (q, calls, plans, exec, plan) in top {
        println!(
            "{calls:>8} calls {plans:>6} plans  exec {exec:>8.3} ms  plan {plan:>6.3} ms  {q}"
        );
    }
    Ok(())
}

/// `CAIRN_BENCH_WAITS=1`: what the cluster's busy backends wait for during each ingest
/// scenario, sampled from `pg_stat_activity` every 50 ms and printed per second (`CPU` = active
/// and waiting for nothing), to find what a slow second was made of.
pub struct Waits {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<Vec<(u64, String, i64)>>,
}

/// Starts sampling waits, when asked for.
pub fn waits(pool: &PgPool) -> Option<Waits> {
    if std::env::var("CAIRN_BENCH_WAITS").ok().as_deref() != Some("1") {
        return None;
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (pool, flag) = (pool.clone(), stop.clone());
    let task = tokio::spawn(async move {
        let start = std::time::Instant::now();
        let mut seen: std::collections::BTreeMap<(u64, String), i64> = Default::default();
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "select coalesce(wait_event_type || ':' || wait_event, 'CPU') ||
                        case when query like '%delete from incident_counts_batches%' then ' (fold)'
                             when query like '%with input as%' then ' (ingest)' else '' end,
                        count(*)
                   from pg_stat_activity
                  where state = 'active' and pid <> pg_backend_pid() and backend_type = 'client backend'
                  group by 1",
            )
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
            let second = start.elapsed().as_secs();
            for (w, n) in rows {
                *seen.entry((second, w)).or_default() += n;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        seen.into_iter().map(|((s, w), n)| (s, w, n)).collect()
    });
    Some(Waits { stop, task })
}

impl Waits {
    /// Stops sampling and prints the waits of each second (backends × samples).
    pub async fn print(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let Ok(rows) = self.task.await else { return };
        let mut second = u64::MAX;
        let mut line = String::new();
        for (s, w, n) in rows {
            if s != second {
                if !line.is_empty() {
                    println!("{line}");
                }
                second = s;
                line = format!("    waits {s:>3}s:");
            }
            line.push_str(&format!(" {w}={n}"));
        }
        if !line.is_empty() {
            println!("{line}");
        }
    }
}

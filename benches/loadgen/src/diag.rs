//! Optional diagnostics of the bench cluster, off by default (they cost a little):
//! - `CAIRN_BENCH_STATEMENTS=1`: loads `pg_stat_statements` and prints, after the run, the
//!   statements by total time with their calls, plans and mean execution and planning times;
//! - `CAIRN_BENCH_EXPLAIN_MS=<ms>`: `auto_explain` logs (with timings) the plans of statements
//!   slower than that, for one statement in fifty (`CAIRN_BENCH_EXPLAIN_RATE` sets the share);
//!   the cluster's log is copied to
//!   `$TMPDIR/cairn-bench-pg.log` at the end.
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

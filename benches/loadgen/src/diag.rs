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
        let pool = cluster.restart(pool).await?;
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
    // statement, calls, plans, exec ms, plan ms, WAL records, full-page images, KiB (per call)
    type Row = (String, i64, i64, f64, f64, f64, f64, f64);
    let top: Vec<Row> = sqlx::query_as(
        "select left(regexp_replace(query, '\\s+', ' ', 'g'), 60), calls, plans,
                total_exec_time / greatest(calls, 1), total_plan_time / greatest(plans, 1),
                wal_records::float8 / greatest(calls, 1), wal_fpi::float8 / greatest(calls, 1),
                wal_bytes::float8 / greatest(calls, 1) / 1024
           from pg_stat_statements order by total_exec_time + total_plan_time desc limit 12",
    )
    .fetch_all(pool)
    .await?;
    println!();
    for (q, calls, plans, exec, plan, records, fpi, kib) in top {
        println!(
            "{calls:>8} calls {plans:>6} plans  exec {exec:>8.3} ms  plan {plan:>6.3} ms  \
             wal {records:>7.0} rec {fpi:>6.0} fpi {kib:>8.1} KiB  {q}"
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

/// `CAIRN_BENCH_WAL=1`: what each ingest scenario wrote to the WAL, by record type
/// (`pg_waldump --stats=record` over the scenario's range), divided by the events stored: to see
/// which table or index a design change adds writes to.
pub struct Wal {
    from: String,
    dir: String,
    updates: Vec<(String, i64, i64)>,
}

/// Rows updated so far per table, and how many of those updates were HOT.
async fn table_updates(pool: &PgPool) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "select relname::text, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables order by relname",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default()
}

/// Marks where the WAL stands before a scenario, when asked for.
pub async fn wal(pool: &PgPool) -> Option<Wal> {
    if std::env::var("CAIRN_BENCH_WAL").ok().as_deref() != Some("1") {
        return None;
    }
    let (from, dir): (String, String) = sqlx::query_as(
        "select pg_current_wal_insert_lsn()::text, current_setting('data_directory') || '/pg_wal'",
    )
    .fetch_one(pool)
    .await
    .ok()?;
    let updates = table_updates(pool).await;
    Some(Wal { from, dir, updates })
}

impl Wal {
    /// Prints the rows updated per table since [`wal`] per stored event, and the share of
    /// those that were HOT (no new index entries): call once the phase's folds are done.
    pub async fn print_updates(&self, pool: &PgPool, events: i64) {
        // Backends report their counts at most once a second.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let events = events.max(1) as f64;
        for (table, upd, hot) in table_updates(pool).await {
            let Some((_, upd0, hot0)) = self.updates.iter().find(|u| u.0 == table) else {
                continue;
            };
            let (upd, hot) = (upd - upd0, hot - hot0);
            if upd > 0 {
                println!(
                    "      updates of {table:<24} {:>6.2} per event, {:>3.0} % HOT",
                    upd as f64 / events,
                    100.0 * hot as f64 / upd as f64
                );
            }
        }
    }

    /// Prints the records written since [`wal`] per stored event (largest first).
    pub async fn print(&self, pool: &PgPool, events: i64) {
        let Ok((to,)) = sqlx::query_as::<_, (String,)>(
            "select pg_current_wal_insert_lsn()::text from pg_switch_wal()",
        )
        .fetch_one(pool)
        .await
        else {
            return;
        };
        let bindir = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let out = std::process::Command::new(std::path::Path::new(&bindir).join("pg_waldump"))
            .args([
                "--stats=record",
                "-p",
                &self.dir,
                "-s",
                &self.from,
                "-e",
                &to,
            ])
            .output();
        let Ok(out) = out else {
            println!("    wal: pg_waldump did not run");
            return;
        };
        let events = events.max(1) as f64;
        let mut rows: Vec<(f64, f64, f64, String)> = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // "Heap/INSERT   123 ( 1.00)   4567 ( 2.00)   0 ( 0.00)   4567 ( 2.00)"
            let mut f = line.split_whitespace();
            let Some(kind) = f.next().filter(|k| k.contains('/')) else {
                continue;
            };
            let n: Vec<f64> = f
                .map(|t| t.trim_matches(|c| c == '(' || c == ')'))
                .filter(|t| !t.is_empty())
                .filter_map(|t| t.parse().ok())
                .collect();
            // N, %, record bytes, %, FPI bytes, %, combined bytes, %
            if n.len() < 8 {
                continue;
            }
            rows.push((n[6] / events, n[0] / events, n[4] / events, kind.to_owned()));
        }
        rows.sort_by(|a, b| b.0.total_cmp(&a.0));
        let total: f64 = rows.iter().map(|r| r.0).sum();
        println!("    wal per event: {total:.0} bytes");
        for (bytes, records, fpi, kind) in rows.iter().take(14) {
            println!("      {kind:<28} {records:>6.2} rec {bytes:>7.0} B (fpi {fpi:>5.0} B)");
        }
    }
}

/// Checkpoints started so far (timed and requested), from `pg_stat_bgwriter`.
pub async fn checkpoints(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "select (checkpoints_timed + checkpoints_req)::bigint from pg_stat_bgwriter",
    )
    .fetch_one(pool)
    .await?)
}

/// "  (N checkpoints)" when a phase saw any: the full-page writes after one raise its cost.
pub fn checkpoint_note(n: i64) -> String {
    match n {
        0 => String::new(),
        1 => "  (1 checkpoint)".into(),
        n => format!("  ({n} checkpoints)"),
    }
}

/// The machine's CPU time over a scenario (from `/proc/stat`, every core, every process:
/// PostgreSQL, the server, the load generator, the kernel), printed per event: steadier than
/// events/s on a shared machine, so the cost of a design change shows even when the throughput
/// of neighbouring runs moves by more than the change.
pub struct Cpu {
    busy: u64,
    idle: u64,
    /// The server's process and its CPU time at the start, when one is measured apart.
    server: Option<(u32, u64)>,
}

/// A process's CPU time (user and system, in USER_HZ) from `/proc/<pid>/stat`.
fn process_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = text.get(text.rfind(')')? + 1..)?;
    let n: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    Some(n.get(11)?.parse::<u64>().ok()? + n.get(12)?.parse::<u64>().ok()?)
}

/// A process's CPU time so far (user and system), in seconds, to 10 ms.
pub fn process_cpu_secs(pid: u32) -> f64 {
    // USER_HZ is 100 on Linux.
    process_ticks(pid).unwrap_or(0) as f64 / 100.0
}

fn proc_stat() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?;
    let n: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    if n.len() < 8 {
        return None;
    }
    Some((n[0] + n[1] + n[2] + n[5] + n[6], n[3] + n[4]))
}

impl Cpu {
    /// Starts measuring.
    pub fn start() -> Self {
        let (busy, idle) = proc_stat().unwrap_or((0, 0));
        Self {
            busy,
            idle,
            server: None,
        }
    }

    /// Starts measuring, the server process `pid`'s share apart as well.
    pub fn start_with_server(pid: u32) -> Self {
        let server = process_ticks(pid).map(|t| (pid, t));
        Self {
            server,
            ..Self::start()
        }
    }

    /// "cpu N µs/event, idle P %" since [`Cpu::start`], with "(server S)" after N when the
    /// server was measured apart.
    pub fn per_event(&self, events: f64) -> String {
        let Some((busy, idle)) = proc_stat() else {
            return String::new();
        };
        let (b, i) = (
            busy.saturating_sub(self.busy),
            idle.saturating_sub(self.idle),
        );
        // /proc/stat counts in USER_HZ, 100 per second on Linux.
        let us = b as f64 * 10_000.0 / events.max(1.0);
        let idle = 100.0 * i as f64 / (b + i).max(1) as f64;
        let server = self
            .server
            .and_then(|(pid, start)| Some(process_ticks(pid)?.saturating_sub(start)))
            .map(|t| format!(" (server {:.0})", t as f64 * 10_000.0 / events.max(1.0)))
            .unwrap_or_default();
        format!("cpu {us:>4.0} µs/event{server}, idle {idle:>2.0} %")
    }
}

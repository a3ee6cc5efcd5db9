//! The bench's world: a fresh throwaway PostgreSQL cluster, `cairn serve` started against it,
//! and the server's resident memory read from `/proc`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use shared::localpg::LocalPostgres;

/// The cairn secret key the bench gives the server (so it can seal sessions' GitHub tokens).
pub const SECRET_KEY_HEX: &str = "4242424242424242424242424242424242424242424242424242424242424242";

/// A fresh cluster with a `cairn_bench` database; stopped and removed on drop.
pub struct Cluster {
    pub pg: LocalPostgres,
    pub dir: PathBuf,
}

impl Cluster {
    /// Starts a cluster in a new folder under the system temp dir.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("cairn-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let port = shared::localpg::free_port()?;
        let pg = LocalPostgres::start(&dir.join("pg"), port).context("starting PostgreSQL")?;
        // Stopped even if the bench is killed.
        pg.stop_when_process_exits(std::process::id());
        let admin = pg.url("postgres");
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await?;
        sqlx::query("create database cairn_bench")
            .execute(&mut conn)
            .await?;
        Ok(Self { pg, dir })
    }

    /// The bench database's URL.
    pub fn url(&self) -> String {
        self.pg.url("cairn_bench")
    }

    /// Restarts PostgreSQL (for settings that need it), closing `pool` first; a new pool of two.
    pub async fn restart(&self, pool: sqlx::PgPool) -> anyhow::Result<sqlx::PgPool> {
        pool.close().await;
        self.pg.stop(false)?;
        self.pg.restart()?;
        Ok(sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.url())
            .await?)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::copy(
            self.dir.join("pg/server.log"),
            std::env::temp_dir().join("cairn-bench-pg.log"),
        );
        let _ = self.pg.stop(true);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running `cairn serve`; killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Server {
    /// Starts `bin serve` on a free port against `database_url` and waits for `/healthz`.
    pub async fn start(
        bin: &Path,
        database_url: &str,
        pool: u32,
        work_dir: &Path,
        log: &Path,
        github_api_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let port = shared::localpg::free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let log_path = log;
        let log = std::fs::File::create(log_path)?;
        let mut command = Command::new(bin);
        if let Some(url) = github_api_url {
            command.env("GITHUB_API_URL", url);
        }
        let child = command
            .arg("serve")
            .current_dir(work_dir)
            .env("DATABASE_URL", database_url)
            .env("CAIRN_ADDR", &addr)
            .env("CAIRN_DB_MAX_CONNECTIONS", pool.to_string())
            .env("CAIRN_SECRET_KEY", SECRET_KEY_HEX)
            .env("CAIRN_RATE_LIMIT_PER_MINUTE", "0")
            .env(
                "RUST_LOG",
                std::env::var("CAIRN_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let server = Self { child, addr };
        let start = Instant::now();
        loop {
            if let Ok(mut s) = tokio::net::TcpStream::connect(&server.addr).await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                    .await?;
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf).await;
                if buf.starts_with(b"HTTP/1.1 200") {
                    return Ok(server);
                }
            }
            if start.elapsed() > Duration::from_secs(60) {
                bail!(
                    "cairn serve did not become healthy; see {}",
                    log_path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resets the server's peak RSS (`VmHWM`) so the next reading covers only what follows.
    pub fn reset_peak_rss(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    /// Resident memory now, in MiB.
    pub fn rss_mib(&self) -> f64 {
        status_kib(self.child.id(), "VmRSS:").unwrap_or(0) as f64 / 1024.0
    }

    /// Peak RSS since start or the last reset, in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        status_kib(self.child.id(), "VmHWM:").unwrap_or(0) as f64 / 1024.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// WAL segments a server that has run for a while has on hand: 4 GB (`min_wal_size`).
pub const PREALLOCATED_WAL_SEGMENTS: usize = 256;

/// Fills `pg_wal` with recycled segments before anything is measured. A fresh cluster creates
/// each new 16 MB segment by writing it full of zeros, in the backend that needs it, inside its
/// commit: under the batched load that was 7 % of the machine's CPU (`XLogFileInit` in a
/// profile), a cost a running server does not pay, because each checkpoint renames old
/// segments for reuse. Here: switch to a new segment `segments` times (each created once, now:
/// [`PREALLOCATED_WAL_SEGMENTS`], a handful for `--smoke`), then checkpoint, which recycles them
/// all (`min_wal_size` is 4 GB). pgbench and cairn both write into the recycled segments.
pub async fn preallocate_wal(pool: &sqlx::PgPool, segments: usize) -> anyhow::Result<()> {
    let t = Instant::now();
    for _ in 0..segments {
        // A switch with nothing written since the last one does nothing: write a record first.
        sqlx::query("select pg_logical_emit_message(false, 'cairn-bench', 'x'), pg_switch_wal()")
            .execute(pool)
            .await?;
    }
    sqlx::query("checkpoint").execute(pool).await?;
    println!(
        "wal: {segments} segments preallocated and recycled in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Longest wait for a quiet database before a measured phase.
const QUIET_WAIT: Duration = Duration::from_secs(120);

/// Waits until no autovacuum worker runs (up to [`QUIET_WAIT`]), so each measured phase starts
/// on a quiet database. Without it, the vacuum and analyze that one phase's writes set off (for
/// 40–85 s after it) ran into the next phase, so which scenario paid for whose maintenance
/// depended on the order: in five runs before this, the ceiling of the second round measured
/// 13–32 % below the first's. What a phase's own writes set off while it runs stays in its
/// figures. Returns the seconds waited.
pub async fn quiesce(pool: &sqlx::PgPool) -> anyhow::Result<f64> {
    let t = Instant::now();
    while t.elapsed() < QUIET_WAIT {
        let workers: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where backend_type = 'autovacuum worker'",
        )
        .fetch_one(pool)
        .await?;
        if workers == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(t.elapsed().as_secs_f64())
}

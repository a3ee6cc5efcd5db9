//! `lambda-init`: for each function's release binary, its stripped size and its cold start as
//! Lambda sees it: the process started with `AWS_LAMBDA_RUNTIME_API` pointing at an emulated
//! Runtime API (`tests/lambda/emulator.rs`), the time to its first `GET /invocation/next` (the
//! init phase) and to its first response (init plus one request: `GET /healthz`, which opens the
//! first database connection, or the scheduled event for retention), median of several runs.
//!
//! Run it with `benches/lambda-init/run [--runs N]` (builds the release binaries first). The
//! database is a throwaway local PostgreSQL, or `DATABASE_URL` (already migrated) when set.

#[path = "../../../tests/lambda/emulator.rs"]
mod emulator;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use emulator::{Emulator, Outcome};

const USAGE: &str = "usage: lambda-init [--bin-dir target/release] [--runs 7]";
const SECRET_KEY: &str = "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a";

struct Row {
    function: String,
    size: u64,
    stripped: bool,
    init: Vec<Duration>,
    first: Vec<Duration>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (bin_dir, runs) = args()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut names: Vec<String> = std::fs::read_dir(root.join("functions"))?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();

    let (db_url, pg) = database().await?;
    let mut rows = Vec::new();
    for name in &names {
        let binary = bin_dir.join(name);
        let binary = binary.to_str().context("binary path is UTF-8")?.to_owned();
        let (size, stripped) = stripped_size(&binary)?;
        let mut row = Row {
            function: name.clone(),
            size,
            stripped,
            init: vec![],
            first: vec![],
        };
        for _ in 0..runs {
            let (init, first) = cold_start(&binary, name, &db_url)
                .await
                .with_context(|| format!("measuring {name}"))?;
            row.init.push(init);
            row.first.push(first);
        }
        rows.push(row);
    }
    if let Some(pg) = pg {
        let _ = pg.stop(true);
    }
    print_table(&rows, runs)?;
    Ok(())
}

fn args() -> anyhow::Result<(PathBuf, usize)> {
    let (mut bin_dir, mut runs) = (PathBuf::from("target/release"), 7);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bin-dir" => bin_dir = it.next().context(USAGE)?.into(),
            "--runs" => runs = it.next().context(USAGE)?.parse().context(USAGE)?,
            _ => bail!("{USAGE}"),
        }
    }
    if runs == 0 {
        bail!("{USAGE}");
    }
    Ok((bin_dir, runs))
}

/// `DATABASE_URL`, or a migrated database on a throwaway cluster (returned so it can be stopped).
async fn database() -> anyhow::Result<(String, Option<shared::localpg::LocalPostgres>)> {
    if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        return Ok((url, None));
    }
    let dir = std::env::temp_dir().join(format!("cairn-bench-pg-{}", std::process::id()));
    let port = shared::localpg::free_port()?;
    let pg = tokio::task::spawn_blocking(move || shared::localpg::LocalPostgres::start(&dir, port))
        .await??;
    pg.stop_when_process_exits(std::process::id());
    let url = pg.url("postgres");
    let db = shared::config::DbConfig {
        max_connections: 1,
        acquire_timeout: Duration::from_secs(30),
        statement_cache_capacity: 0,
    };
    shared::db::migrate(&shared::db::pool_from_url(&url, &db)?).await?;
    Ok((url, Some(pg)))
}

/// The file's size after `strip` (the release profile already strips; this makes sure).
fn stripped_size(binary: &str) -> anyhow::Result<(u64, bool)> {
    let meta = std::fs::metadata(binary)
        .with_context(|| format!("{binary} (build it first: benches/lambda-init/run)"))?;
    let copy = std::env::temp_dir().join(format!("lambda-init-{}-stripped", std::process::id()));
    let stripped = std::process::Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(binary)
        .status()
        .is_ok_and(|s| s.success());
    let size = if stripped {
        std::fs::metadata(&copy)?.len()
    } else {
        meta.len()
    };
    let _ = std::fs::remove_file(&copy);
    Ok((size, stripped))
}

/// One cold start: process start → first poll, and process start → first response.
async fn cold_start(
    binary: &str,
    name: &str,
    db_url: &str,
) -> anyhow::Result<(Duration, Duration)> {
    let emulator = Emulator::start().await;
    let event = if name == "retention" {
        serde_json::from_str(include_str!("../../../tests/lambda/events/scheduled.json"))?
    } else {
        emulator::http_api_event("GET", "GET /healthz", "/healthz", &[], &[], None, false)
    };
    let env = [
        ("DATABASE_URL", db_url),
        ("CAIRN_SECRET_KEY", SECRET_KEY),
        ("CAIRN_DB_MAX_CONNECTIONS", "2"),
        ("CAIRN_DB_STATEMENT_CACHE", "0"),
    ];
    let start = Instant::now();
    let mut child = emulator::spawn_function(binary, &emulator, &env);
    let outcome = emulator.invoke(event, Duration::from_secs(30)).await;
    let first = start.elapsed();
    let _ = child.kill().await;
    let init = emulator.first_poll().context("the function never polled")? - start;
    match outcome.map_err(anyhow::Error::msg)? {
        Outcome::Response(r) if name == "retention" || r["statusCode"] == 200 => Ok((init, first)),
        other => bail!("unexpected answer: {other:?}"),
    }
}

fn median(samples: &[Duration]) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s[s.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn print_table(rows: &[Row], runs: usize) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "lambda-init: {} binaries, {runs} cold starts each, median (min–max)",
        std::env::consts::ARCH
    )?;
    writeln!(out)?;
    writeln!(out, "| function | binary (stripped) | init: start → first poll | first response: start → answered |")?;
    writeln!(out, "|---|---:|---:|---:|")?;
    for r in rows {
        let range = |v: &[Duration]| {
            let (lo, hi) = (
                v.iter().min().copied().unwrap_or_default(),
                v.iter().max().copied().unwrap_or_default(),
            );
            format!("{} ({}–{})", ms(median(v)), ms(lo), ms(hi))
        };
        let size = format!(
            "{:.2} MiB{}",
            r.size as f64 / 1048576.0,
            if r.stripped { "" } else { " (not re-stripped)" }
        );
        writeln!(
            out,
            "| {} | {size} | {} | {} |",
            r.function,
            range(&r.init),
            range(&r.first)
        )?;
    }
    writeln!(out)?;
    writeln!(out, "first response = GET /healthz (opens the first database connection); retention: one scheduled run on an empty database")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_sample() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(median(&[d(9), d(1), d(5)]), d(5));
        assert_eq!(median(&[d(4)]), d(4));
    }
}

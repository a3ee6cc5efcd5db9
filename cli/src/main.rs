//! `cairn serve` (every function on one port, `CAIRN_ADDR`, default 127.0.0.1:3000),
//! `cairn migrate` (apply migrations to `DATABASE_URL`).

use std::path::Path;

use anyhow::Context;

const USAGE: &str = "usage: cairn <serve|migrate|retention>\n  serve    serve every function on CAIRN_ADDR (default 127.0.0.1:3000); starts a local PostgreSQL when DATABASE_URL is unset\n  migrate  apply migrations to DATABASE_URL\n  openapi  print the OpenAPI document (docs/openapi.json)\n  retention  delete events older than CAIRN_RETENTION_DAYS (default 90) from DATABASE_URL";

fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

/// glibc's malloc gives each thread that meets a locked arena an arena of its own (up to 8 per
/// core) and keeps what those arenas once held: under the batched benchmark's load the server's
/// peak RSS was 61–67 MiB with 2 MiB of request bodies in flight, 65–70 MiB with two arenas,
/// 56–60 MiB with one, for the same throughput (docs/PERFORMANCE.md). The server's allocations
/// are a small part of its time, so one arena's lock costs little.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only sets a parameter of the allocator; it is called before any other
    // thread exists, and an unknown or refused value leaves glibc's default in place.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

async fn run() -> anyhow::Result<()> {
    shared::app::init_tracing();
    let cmd = std::env::args().nth(1).unwrap_or_default();
    match cmd.as_str() {
        "serve" => serve().await,
        "migrate" => migrate().await,
        "retention" => retention().await,
        "openapi" => {
            use std::io::Write;
            std::io::stdout().write_all(cairn::openapi_json().as_bytes())?;
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

fn set_env(name: &str, value: &str) {
    // Single-threaded at this point: nothing else reads the environment concurrently.
    std::env::set_var(name, value);
}

async fn serve() -> anyhow::Result<()> {
    let state = Path::new(cairn::local::STATE_DIR);
    let mut local_pg = None;
    if std::env::var("DATABASE_URL")
        .map(|v| v.trim().is_empty())
        .unwrap_or(true)
    {
        let (url, pg) = cairn::local::ensure_database(state).await?;
        eprintln!(
            "cairn: DATABASE_URL is unset; using a local PostgreSQL (data in {}/pg): {url}",
            cairn::local::STATE_DIR
        );
        set_env("DATABASE_URL", &url);
        local_pg = pg;
    }
    if std::env::var("CAIRN_SECRET_KEY")
        .map(|v| v.trim().is_empty())
        .unwrap_or(true)
    {
        set_env("CAIRN_SECRET_KEY", &cairn::local::ensure_secret_key(state)?);
    }
    let addr = std::env::var("CAIRN_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    if std::env::var("CAIRN_PUBLIC_URL").is_err() {
        set_env("CAIRN_PUBLIC_URL", &format!("http://{addr}"));
    }
    let mut config = shared::config::Config::from_env()?;
    if std::env::var("CAIRN_DB_MAX_CONNECTIONS").is_err() {
        // One process serves every function locally: a bigger pool than a Lambda instance.
        config.db.max_connections = 6;
    }
    let states = cairn::States::new(config)?;
    shared::db::migrate(&states.pool)
        .await
        .context("applying migrations")?;
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    eprintln!(
        "cairn: serving every function on http://{}",
        listener.local_addr()?
    );
    tokio::spawn(cairn::server::fold_loop(states.pool.clone()));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        () = cairn::server::serve(cairn::app(&states), listener) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("cairn: shutting down"),
        _ = term.recv() => eprintln!("cairn: shutting down"),
    }
    if let Some(pg) = local_pg {
        // The data stays in .cairn/pg for the next run.
        pg.stop(false)?;
    }
    Ok(())
}

async fn migrate() -> anyhow::Result<()> {
    let url =
        std::env::var("DATABASE_URL").context("environment variable DATABASE_URL is not set")?;
    let db = shared::config::DbConfig {
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(30),
        statement_cache_capacity: 0,
    };
    let pool = shared::db::pool_from_url(&url, &db)?;
    shared::db::migrate(&pool)
        .await
        .context("applying migrations")?;
    eprintln!("cairn: migrations applied");
    Ok(())
}

async fn retention() -> anyhow::Result<()> {
    let url =
        std::env::var("DATABASE_URL").context("environment variable DATABASE_URL is not set")?;
    let days: u32 = match std::env::var("CAIRN_RETENTION_DAYS") {
        Ok(v) => v
            .trim()
            .parse()
            .context("environment variable CAIRN_RETENTION_DAYS is invalid")?,
        Err(_) => 90,
    };
    let db = shared::config::DbConfig {
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(30),
        statement_cache_capacity: 0,
    };
    let pool = shared::db::pool_from_url(&url, &db)?;
    let report = shared::retention::run(&pool, days)
        .await
        .context("running retention")?;
    eprintln!(
        "cairn: retention deleted {} events older than {days} days ({} batches)",
        report.events, report.batches
    );
    Ok(())
}

//! The `cairn` binary: the server's commands (`serve`, every function on one port; `migrate`;
//! `retention`; the documents kept in `docs/`: `openapi`, `schema`) and the client's (`login`,
//! `incidents`, `resolve`, … — see `cairn::client`). Every failure is one line on stderr and a
//! non-zero exit.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use cairn::args::{self, Command, USAGE};

fn main() -> ExitCode {
    let command = match args::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cairn: {e} (cairn --help lists the commands)");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Help => {
            use std::io::Write;
            let _ = std::io::stdout().write_all(USAGE.as_bytes());
            return ExitCode::SUCCESS;
        }
        Command::Client(client) => {
            one_line_panics();
            // Each client error's message is already the whole line (causes included).
            return match cairn::client::run(client) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("cairn: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        server => serve_command(server),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `cairn openapi | head`: the reader has what it wanted.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // `{:#}`: the error and its causes on one line, never a backtrace.
            eprintln!("cairn: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A client command that panics (a bug) still says so in one line.
fn one_line_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("cairn: internal error{at}: {payload} (please report it)");
    }));
}

fn serve_command(command: Command) -> anyhow::Result<()> {
    limit_malloc_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        // `openapi` and `schema` print a document on stdout, where log lines would go too (a
        // PostgreSQL notice is logged at `info`).
        if !matches!(command, Command::OpenApi | Command::Schema) {
            shared::app::init_tracing();
        }
        match command {
            Command::Serve => serve().await,
            Command::Migrate => migrate().await,
            Command::Retention => retention().await,
            Command::OpenApi => {
                use std::io::Write;
                std::io::stdout().write_all(cairn::openapi_json().as_bytes())?;
                Ok(())
            }
            Command::Schema => {
                use std::io::Write;
                std::io::stdout().write_all(cairn::schema::fresh().await?.as_bytes())?;
                Ok(())
            }
            Command::Help | Command::Client(_) => unreachable!("not a server command"),
        }
    })
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

fn set_env(name: &str, value: &str) {
    // Single-threaded at this point: nothing else reads the environment concurrently.
    std::env::set_var(name, value);
}

async fn serve() -> anyhow::Result<()> {
    // Before anything starts (a local PostgreSQL would be left running).
    check_secret_key()?;
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

/// A bad `CAIRN_SECRET_KEY` is named with the format it must have (the config's own error names
/// only the decoder's complaint).
fn check_secret_key() -> anyhow::Result<()> {
    let key = std::env::var("CAIRN_SECRET_KEY").unwrap_or_default();
    // Unset or empty: `serve` makes a local one.
    if !key.trim().is_empty() && shared::config::SecretKey::parse(&key).is_err() {
        anyhow::bail!(
            "environment variable CAIRN_SECRET_KEY is invalid: expected 64 hex characters \
             (openssl rand -hex 32) or base64 of 32 bytes"
        );
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

//! The connection pool and migrations.

use std::str::FromStr;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::{Config, DbConfig};

/// The migrations in `migrations/`, embedded in every binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Builds the pool once per instance: small, lazy (no connection until the first query, so a
/// cold start does not wait on the database), with a short acquire timeout so a database that
/// is down becomes a quick 503 rather than a hung request.
pub fn pool(config: &Config) -> anyhow::Result<PgPool> {
    pool_from_url(config.database_url.expose_secret(), &config.db)
}

/// See [`pool`].
pub fn pool_from_url(url: &str, db: &DbConfig) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| anyhow::anyhow!("environment variable DATABASE_URL is invalid: {e}"))?
        .statement_cache_capacity(db.statement_cache_capacity)
        .application_name("cairn")
        // cairn's statements are short index walks: starting parallel workers for one (as the
        // planner may on a large table) costs more than the whole walk.
        // No JIT either: once a table is analysed large, the estimated cost of an ingest
        // statement of a few hundred events passes `jit_above_cost`, and compiling it with LLVM
        // (optimised and inlined) took 1–1.5 s of CPU per statement, for a statement that runs
        // in 20–40 ms: the benchmark's batched ingest fell to 1,200 events/s with p99 8 s.
        .options([("max_parallel_workers_per_gather", "0"), ("jit", "off")]);
    Ok(PgPoolOptions::new()
        .max_connections(db.max_connections.max(1))
        .min_connections(0)
        .acquire_timeout(db.acquire_timeout)
        .idle_timeout(std::time::Duration::from_secs(300))
        // No ping before every acquire: it doubled the round trips of every request. A
        // connection that died while idle fails its next query (a retryable 503; ingest
        // retries it, idempotent by event id) and is dropped from the pool.
        .test_before_acquire(false)
        .connect_lazy_with(options))
}

/// Applies pending migrations.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// One round trip to the database (for health checks).
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("select 1").execute(pool).await.map(|_| ())
}

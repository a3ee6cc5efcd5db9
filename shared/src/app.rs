//! What a function instance builds once at cold start and lends to every request.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::github::{GitHub, OctocrabGitHub};

/// Shared state: configuration, the pool, the GitHub client.
pub struct App {
    pub config: Config,
    pub pool: PgPool,
    pub github: Arc<dyn GitHub>,
    /// This instance's share of the per-project rate limit.
    pub limiter: crate::ratelimit::RateLimiter,
    /// When this instance last started a fold (ms since the epoch).
    pub last_fold_ms: std::sync::atomic::AtomicU64,
    /// Ingest keys looked up in the last second (see `ingest::key`).
    pub keys: crate::ingest::key::KeyCache,
    /// Group commit of ingested events (see `ingest::group`).
    pub writer: crate::ingest::group::GroupCommit,
}

impl App {
    /// Builds the app from configuration (the pool connects lazily).
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let pool = crate::db::pool(&config)?;
        let github = Arc::new(OctocrabGitHub::new(&config.github));
        let writer = crate::ingest::group::GroupCommit::new(
            crate::ingest::group::writers(config.db.max_connections),
            crate::ingest::store::incident_id_salt(&config.secret_key),
        );
        Ok(Self {
            config,
            pool,
            github,
            limiter: Default::default(),
            last_fold_ms: Default::default(),
            keys: Default::default(),
            writer,
        })
    }

    /// Reads config from the environment and builds the app; for Lambda `main`s.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::new(Config::from_env()?)
    }

    /// [`App::from_env`] for a Lambda `main`: a configuration error is also reported to the
    /// Runtime API's `/init/error`, so Lambda shows its cause (`Runtime.ConfigError: environment
    /// variable … is not set`) instead of a bare exit status.
    pub fn from_env_on_lambda() -> anyhow::Result<Self> {
        let built = Self::from_env();
        if let Err(e) = &built {
            report_init_error(&format!("{e:#}"));
        }
        built
    }
}

/// Posts `message` to `/2018-06-01/runtime/init/error` on `AWS_LAMBDA_RUNTIME_API` (a loopback
/// endpoint: one plain HTTP/1.1 request, blocking, as the process is about to exit). Nothing to
/// do off Lambda; a failure is only logged.
fn report_init_error(message: &str) {
    use std::io::{Read, Write};
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body = serde_json::json!({"errorType": "Runtime.ConfigError", "errorMessage": message, "stackTrace": []})
        .to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nhost: {api}\r\ncontent-type: application/json\r\n\
         lambda-runtime-function-error-type: Runtime.ConfigError\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let send = || -> std::io::Result<()> {
        let timeout = std::time::Duration::from_secs(2);
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&api)?
            .next()
            .ok_or_else(|| std::io::Error::other("AWS_LAMBDA_RUNTIME_API has no address"))?;
        let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(request.as_bytes())?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        Ok(())
    };
    if let Err(e) = send() {
        tracing::warn!(error = %e, "could not report the init error to the runtime API");
    }
}

/// Sets up tracing: JSON lines on Lambda (`AWS_LAMBDA_LOG_FORMAT=JSON` or any Lambda runtime),
/// plain text locally; level from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let on_lambda = std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_ok()
        || std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if on_lambda {
        builder.json().without_time().try_init()
    } else {
        builder.try_init()
    };
}

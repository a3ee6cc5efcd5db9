//! What a function instance builds once at cold start and lends to every request.

use sqlx::PgPool;

use crate::config::Config;

/// The retention function's state: configuration and the pool. (Every HTTP function has its
/// own: `ingest::Ingest`, `auth::Auth` and what wraps it.)
pub struct App {
    pub config: Config,
    pub pool: PgPool,
}

impl App {
    /// Builds the app from configuration (the pool connects lazily).
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let pool = crate::db::pool(&config)?;
        Ok(Self::with_pool(config, pool))
    }

    /// Builds the app around an existing pool (`cairn serve` shares one among every function).
    pub fn with_pool(config: Config, pool: PgPool) -> Self {
        Self { config, pool }
    }

    /// Reads config from the environment and builds the app; for Lambda `main`s.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::new(Config::from_env()?)
    }

    /// [`App::from_env`] for a Lambda `main`: a configuration error is also reported to the
    /// Runtime API's `/init/error` (see [`crate::config::from_env_on_lambda`]).
    pub fn from_env_on_lambda() -> anyhow::Result<Self> {
        crate::config::from_env_on_lambda(Self::new)
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

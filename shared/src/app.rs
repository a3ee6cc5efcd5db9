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
/// plain text locally; level from `RUST_LOG` (default `info`). Whatever `RUST_LOG` says, the
/// Lambda runtime's own targets stop at `debug` (see [`runtime_clamp`]).
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};
    let env = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let on_lambda = std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_ok()
        || std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let layer = tracing_subscriber::fmt::layer().with_target(false);
    let registry = tracing_subscriber::registry();
    let _ = if on_lambda {
        let layer = layer.json().without_time();
        registry
            .with(layer.with_filter(env()).with_filter(runtime_clamp()))
            .try_init()
    } else {
        registry
            .with(layer.with_filter(env()).with_filter(runtime_clamp()))
            .try_init()
    };
}

/// Targets of the Lambda runtime, whose `trace` events print whole invocation events and
/// responses (an API Gateway event holds the request's `Authorization` header and body).
const RUNTIME_TARGETS: [&str; 3] = ["lambda_runtime", "lambda_http", "lambda_runtime_api_client"];

/// A filter that drops the Lambda runtime's `trace` events, whatever `RUST_LOG` enables: with
/// `RUST_LOG=trace` (or `lambda_runtime=trace`) they would log raw events, credentials included.
pub fn runtime_clamp() -> tracing_subscriber::filter::FilterFn {
    tracing_subscriber::filter::filter_fn(
        runtime_event_allowed as fn(&tracing::Metadata<'_>) -> bool,
    )
}

fn runtime_event_allowed(meta: &tracing::Metadata<'_>) -> bool {
    // More verbose levels compare greater: TRACE > DEBUG.
    *meta.level() <= tracing::Level::DEBUG
        || !RUNTIME_TARGETS.iter().any(|t| {
            meta.target()
                .strip_prefix(t)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::{EnvFilter, Layer};

    /// What a subscriber built like `init_tracing`'s, under `RUST_LOG=trace`, writes.
    fn logged_under_trace(emit: impl FnOnce()) -> String {
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&out);
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || Writer(Arc::clone(&sink)))
            .with_filter(EnvFilter::new("trace"))
            .with_filter(super::runtime_clamp());
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = out.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_lambda_runtime_never_traces_raw_events_even_under_rust_log_trace() {
        let logged = logged_under_trace(|| {
            tracing::trace!(target: "lambda_runtime::layers::api_response", "raw event Authorization: Bearer secret-1");
            tracing::trace!(target: "lambda_http", "raw request secret-2");
            tracing::debug!(target: "lambda_runtime", "runtime debug kept");
            tracing::trace!(target: "shared::ingest", "our own trace kept");
        });

        assert!(!logged.contains("secret-1"), "{logged}");
        assert!(!logged.contains("secret-2"), "{logged}");
        assert!(logged.contains("runtime debug kept"), "{logged}");
        assert!(logged.contains("our own trace kept"), "{logged}");
    }
}

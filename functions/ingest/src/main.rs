//! Lambda bootstrap for the ingest function: config, pool and ingest's state built once per
//! instance, then its router serves every invocation.

use std::sync::Arc;

use shared::ingest::Ingest;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::app::init_tracing();
    let state = Arc::new(shared::config::from_env_on_lambda(|config| {
        Ingest::new(&config)
    })?);
    let pool = state.pool().clone();
    lambda_http::run(shared::http::finish(ingest::router(state), pool)).await
}

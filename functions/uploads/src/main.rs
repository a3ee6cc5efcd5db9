//! Lambda bootstrap for the uploads function: config and pool built once per instance, then its
//! router serves every invocation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::app::init_tracing();
    let state = shared::config::from_env_on_lambda(|config| {
        let pool = shared::db::pool(&config)?;
        Ok(uploads::state(&config, pool))
    })?;
    let pool = state.pool.clone();
    lambda_http::run(shared::http::finish(uploads::router(state), pool)).await
}

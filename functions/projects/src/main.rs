//! Lambda bootstrap for the projects function: config, pool and clients built once per instance,
//! then its router serves every invocation.

use shared::auth::Auth;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::app::init_tracing();
    let state = shared::config::from_env_on_lambda(|config| {
        let auth = Auth::new(&config, shared::db::pool(&config)?);
        Ok(projects::state(&config, auth))
    })?;
    let pool = state.auth.pool().clone();
    lambda_http::run(shared::http::finish(projects::router(state), pool)).await
}

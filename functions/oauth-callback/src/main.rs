//! Lambda bootstrap for the oauth-callback function: config, pool and clients built once per instance,
//! then its router serves every invocation.

use shared::auth::Auth;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::app::init_tracing();
    let state = shared::config::from_env_on_lambda(|config| {
        let auth = Auth::new(&config, shared::db::pool(&config)?);
        Ok(oauth_callback::state(&config, auth))
    })?;
    let pool = state.auth.pool().clone();
    lambda_http::run(shared::http::finish(oauth_callback::router(state), pool)).await
}

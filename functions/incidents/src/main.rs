//! Lambda bootstrap for the incidents function: config, pool and clients built once per instance,
//! then its router serves every invocation.

use shared::auth::Auth;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::app::init_tracing();
    let auth = shared::config::from_env_on_lambda(|config| {
        Ok(Auth::new(&config, shared::db::pool(&config)?))
    })?;
    let pool = auth.pool().clone();
    lambda_http::run(shared::http::finish(
        incidents::router(incidents::state(auth)),
        pool,
    ))
    .await
}

//! Lambda bootstrap for the incidents function: config, pool and clients built once per instance,
//! then its router serves every invocation.

use shared::auth::Auth;
use shared::translate::Locator;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::app::init_tracing();
    let (auth, locator) = shared::config::from_env_on_lambda(|config| {
        let auth = Auth::new(&config, shared::db::pool(&config)?);
        Ok((auth, Locator::new(&config.github.api_url)))
    })?;
    let pool = auth.pool().clone();
    lambda_http::run(shared::http::finish(
        incidents::router(incidents::state(auth, locator)),
        pool,
    ))
    .await
}

//! Lambda bootstrap for the incidents function: config, pool and clients built once per instance,
//! then its router serves every invocation.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::app::init_tracing();
    let app = Arc::new(shared::App::from_env_on_lambda()?);
    let pool = app.pool.clone();
    lambda_http::run(shared::http::finish(incidents::router(app), pool)).await
}

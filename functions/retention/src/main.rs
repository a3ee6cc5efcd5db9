//! Lambda bootstrap for the retention function: config and pool built once per instance.

use std::sync::Arc;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let app = Arc::new(shared::App::from_env_on_lambda()?);
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let app = Arc::clone(&app);
        async move { retention::handle(&app, event).await }
    }))
    .await
}

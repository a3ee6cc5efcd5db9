//! Lambda bootstrap for the projects function: config, pool and clients built once per instance,
//! then lent to every invocation.

use std::sync::Arc;

use lambda_http::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::app::init_tracing();
    let app = Arc::new(shared::App::from_env_on_lambda()?);
    run(service_fn(move |req: Request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, std::convert::Infallible>(projects::handle(&app, req).await) }
    }))
    .await
}

//! The `cairn` binary's library: the local server that serves every function's handler on one
//! port with the routes of `template.yaml`, the local database bootstrap, the schema dump
//! behind `docs/schema.sql`, and the client commands (`cairn login`, `cairn incidents`, …).

pub mod args;
pub mod client;
pub mod local;
pub mod schema;
pub mod server;

use std::sync::Arc;

use shared::auth::Auth;
use shared::config::Config;
use shared::ingest::Ingest;
use sqlx::PgPool;
use utoipa::openapi::path::PathItem;
use utoipa::OpenApi;

/// Every HTTP function's routes, by the name `template.yaml` deploys it under.
fn functions() -> [(&'static str, utoipa::openapi::OpenApi); 5] {
    [
        ("ingest", ingest::api().split_for_parts().1),
        ("incidents", incidents::api().split_for_parts().1),
        ("projects", projects::api().split_for_parts().1),
        ("oauth-callback", oauth_callback::api().split_for_parts().1),
        ("uploads", uploads::api().split_for_parts().1),
    ]
}

/// Every function's state, built once from one [`Config`] around one pool: what `cairn serve`
/// lends the merged routers (on Lambda, each function's `main` builds only its own).
pub struct States {
    /// The pool every state shares (one process serves every function).
    pub pool: PgPool,
    /// The configuration every state was built from.
    pub config: Config,
    pub ingest: ingest::AppState,
    pub incidents: incidents::AppState,
    pub projects: projects::AppState,
    pub oauth: oauth_callback::AppState,
    pub uploads: uploads::AppState,
}

impl States {
    /// Builds every function's state from `config` (the pool connects lazily).
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let pool = shared::db::pool(&config)?;
        let auth = Auth::new(&config, pool.clone());
        Ok(Self {
            incidents: incidents::state(
                auth.clone(),
                shared::translate::Locator::new(&config.github.api_url),
            ),
            projects: projects::state(&config, auth.clone()),
            oauth: oauth_callback::state(&config, auth),
            ingest: Arc::new(Ingest::with_pool(&config, pool.clone())),
            uploads: uploads::state(&config, pool.clone()),
            config,
            pool,
        })
    }
}

/// Every function's routes merged, with state, `/healthz` and the shared edge: what `cairn serve`
/// serves on one port, as API Gateway routes each path to its function.
pub fn app(states: &States) -> axum::Router {
    let routes = ingest::router(Arc::clone(&states.ingest))
        .merge(incidents::router(Arc::clone(&states.incidents)))
        .merge(projects::router(Arc::clone(&states.projects)))
        .merge(oauth_callback::router(Arc::clone(&states.oauth)))
        .merge(uploads::router(Arc::clone(&states.uploads)));
    shared::http::finish(routes, states.pool.clone())
}

/// Every route as `(function, METHOD, path template)`, read from what the routers declare (the
/// template test compares `template.yaml` with it). `GET /healthz` is answered by every function
/// (`shared::http::finish`); API Gateway sends it to ingest.
pub fn routes() -> Vec<(&'static str, String, String)> {
    let mut out = vec![("ingest", "GET".to_owned(), "/healthz".to_owned())];
    for (function, doc) in functions() {
        for (path, item) in &doc.paths.paths {
            for method in methods(item) {
                out.push((function, method.to_owned(), path.clone()));
            }
        }
    }
    out
}

fn methods(item: &PathItem) -> impl Iterator<Item = &'static str> + '_ {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
        ("HEAD", &item.head),
        ("OPTIONS", &item.options),
    ]
    .into_iter()
    .filter(|(_, op)| op.is_some())
    .map(|(m, _)| m)
}

/// The OpenAPI document of every function, merged (served at `GET /openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::Modify;
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("cairn")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "cairn puts production errors on the line of code that threw them.",
                ))
                .build(),
        )
        .build();
    doc.merge(shared::http::edge::HealthDoc::openapi());
    for (_, function) in functions() {
        doc.merge(function);
    }
    shared::openapi::Security.modify(&mut doc);
    doc
}

/// [`openapi`] as pretty JSON (what `docs/openapi.json` holds).
pub fn openapi_json() -> String {
    openapi().to_pretty_json().unwrap_or_default() + "\n"
}

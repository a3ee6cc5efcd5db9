//! The `cairn` binary's library: the local server that serves every function's handler on one
//! port with the routes of `template.yaml`, and the local database bootstrap.

pub mod local;
pub mod server;

/// Every route, with the function that serves it (the same set as `template.yaml`).
pub fn routes() -> Vec<(&'static str, &'static str, &'static str)> {
    let mut out = Vec::new();
    for (function, routes) in [
        ("ingest", ingest::ROUTES),
        ("incidents", incidents::ROUTES),
        ("projects", projects::ROUTES),
        ("oauth-callback", oauth_callback::ROUTES),
    ] {
        for (m, p) in routes {
            // Every function answers /healthz; locally one answer is enough.
            if *p == "/healthz" && function != "ingest" {
                continue;
            }
            out.push((function, *m, *p));
        }
    }
    out
}

/// The OpenAPI document of every function, merged (served at `GET /openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::{Modify, OpenApi};
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
    doc.merge(ingest::Doc::openapi());
    doc.merge(incidents::Doc::openapi());
    doc.merge(oauth_callback::Doc::openapi());
    doc.merge(projects::Doc::openapi());
    shared::openapi::Security.modify(&mut doc);
    doc
}

/// [`openapi`] as pretty JSON (what `docs/openapi.json` holds).
pub fn openapi_json() -> String {
    openapi().to_pretty_json().unwrap_or_default() + "\n"
}

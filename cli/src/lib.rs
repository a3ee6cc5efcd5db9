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

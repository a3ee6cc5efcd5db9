//! `cairn projects create owner/name` (the DSN and ingest key, shown this once, with the lines
//! to paste into a Sentry SDK's init) and `cairn projects list`.

use serde_json::{json, Value};

use super::api::Api;
use super::{note, Error, Out};

/// Creates the project of `repo` and prints its key once.
pub fn create(
    api: &Api,
    repo: &str,
    as_json: bool,
    out: &mut Out<impl std::io::Write>,
) -> Result<(), Error> {
    let created = api.expect("POST", "/v1/projects", &[], Some(&json!({ "repo": repo })))?;
    if as_json {
        return out.json(&created);
    }
    let field = |k: &str| created[k].as_str().unwrap_or("?").to_owned();
    let dsn = field("dsn");
    for line in [
        format!(
            "created project {} for {} (sentry id {})",
            field("project_id"),
            field("repo"),
            created["sentry_id"]
        ),
        format!(
            "ingest key (shown this once; keep it secret): {}",
            field("ingest_key")
        ),
        format!("DSN (holds the key): {dsn}"),
        String::new(),
        "Give your app the DSN as a secret and the deployed commit SHA as its release:".to_owned(),
        format!("  CAIRN_DSN={dsn}"),
        "  Python:     sentry_sdk.init(dsn=os.environ[\"CAIRN_DSN\"], release=os.environ.get(\"VERCEL_GIT_COMMIT_SHA\"))".to_owned(),
        "  JavaScript: Sentry.init({ dsn: process.env.CAIRN_DSN, release: process.env.VERCEL_GIT_COMMIT_SHA });".to_owned(),
        "  Rust:       options.release = std::env::var(\"VERCEL_GIT_COMMIT_SHA\").ok().map(Into::into); let _guard = sentry::init((std::env::var(\"CAIRN_DSN\")?, options));".to_owned(),
    ] {
        out.line(&line)?;
    }
    Ok(())
}

/// Lists the projects the signed-in user can read, one per line.
pub fn list(api: &Api, as_json: bool, out: &mut Out<impl std::io::Write>) -> Result<(), Error> {
    let body = api.expect("GET", "/v1/projects", &[], None)?;
    if as_json {
        return out.json(&body);
    }
    let projects = body["projects"].as_array().cloned().unwrap_or_default();
    if projects.is_empty() {
        note(&format!("no projects you can read on {}", api.url()));
    }
    for p in &projects {
        out.line(&project_line(p))?;
    }
    Ok(())
}

/// `owner/name prj_… (sentry id N, K active keys)`.
fn project_line(p: &Value) -> String {
    let active = p["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|k| k["revoked_at"].is_null())
        .count();
    format!(
        "{} {} (sentry id {}, {active} active key{})",
        p["repo"].as_str().unwrap_or("?"),
        p["project_id"].as_str().unwrap_or("?"),
        p["sentry_id"],
        if active == 1 { "" } else { "s" }
    )
}

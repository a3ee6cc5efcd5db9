//! schemathesis (installed by scripts/tool-deps) against the real server with valid
//! credentials: no 5xx, no response outside the OpenAPI document.

use std::path::PathBuf;

use serde_json::json;

use crate::helpers::{sha, TestApp};

fn schemathesis() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = std::env::var_os("CAIRN_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("tests/tools/.venv/bin/schemathesis"));
    assert!(
        path.exists(),
        "schemathesis is not installed at {}: run scripts/tool-deps",
        path.display()
    );
    path
}

async fn run(app: &TestApp, auth: &str, headers: &[String], filter: &[&str]) -> (usize, String) {
    let report = std::env::temp_dir().join(format!(
        "cairn-st-{}",
        shared::crypto::random_alphanumeric(8)
    ));
    let mut cmd = tokio::process::Command::new(schemathesis());
    cmd.arg("run")
        .arg(format!("{}/openapi.json", app.addr))
        .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
        .args(["--phases", "examples,coverage,fuzzing", "--max-examples", "40", "--seed", "1", "--no-color", "--workers", "1"])
        .args(["--generation-database", "none", "--report", "ndjson"])
        .arg("--report-dir")
        .arg(&report)
        .args(["-H", &format!("Authorization: Bearer {auth}")])
        .args(headers.iter().flat_map(|h| ["-H", h.as_str()]))
        .args(filter);
    let out = cmd.output().await.expect("schemathesis runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
    // The summary says e.g. "  880 generated, 880 passed".
    let generated = text
        .lines()
        .filter_map(|l| l.trim().strip_suffix(|_: char| true).map(|_| l.trim()))
        .find_map(|l| {
            l.split_once(" generated")
                .and_then(|(n, _)| n.trim().parse::<usize>().ok())
        })
        .unwrap_or(0);
    eprintln!(
        "{}",
        text.lines()
            .rev()
            .take(25)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    (generated, text)
}

#[tokio::test]
async fn schemathesis_finds_no_server_errors_and_no_schema_violations() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap().to_owned();
    app.ingest(
        &key,
        &json!({"error_message": "x", "environment": "p", "commit_sha": sha("c")}),
    )
    .await;

    let sentry_auth = vec![format!(
        "X-Sentry-Auth: Sentry sentry_key={key}, sentry_version=7"
    )];
    let (ingest_cases, _) = run(
        &app,
        &key,
        &sentry_auth,
        &["--include-tag-regex", "^(ingest|sentry)$"],
    )
    .await;
    let (other_cases, _) = run(
        &app,
        &session,
        &[],
        &[
            "--exclude-tag-regex",
            "^(ingest|sentry)$",
            "--exclude-operation-id",
            "logout",
        ],
    )
    .await;
    let (logout_cases, _) = run(&app, &session, &[], &["--include-operation-id", "logout"]).await;

    eprintln!("schemathesis: {ingest_cases} ingest cases, {other_cases} other cases, {logout_cases} sign-out cases");
    assert!(
        ingest_cases + other_cases > 100,
        "schemathesis generated cases"
    );
}

//! The official SDKs, end to end: each sends a real exception from a small app (`tests/sdk/`)
//! with the DSN cairn gave the project, and the incident must be where the IDE will look for it.
//!
//! The Python and Node SDKs are installed by `scripts/sdk-deps` (run by `scripts/test`) at the
//! versions pinned in `tests/sdk/`; a test fails, never skips, when they are missing. The apps
//! are copied into a temporary `checkout-api/` folder, as a deployed app would sit in its repo's
//! checkout. The Rust SDK is a dev-dependency and captures inside this test process.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{incidents_at, location, SentryProject};
use crate::helpers::{sha, TestApp};

const REPO: &str = "acme/checkout-api";

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sdk")
}

/// `path`, which `scripts/sdk-deps` installs; a missing install fails the test and says so.
fn installed(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed ({} is missing): run scripts/sdk-deps (scripts/test runs it first)",
        path.display()
    );
    path
}

/// A copy of an SDK app in `<temp>/<unique>/checkout-api/`, removed when dropped.
struct Checkout {
    root: PathBuf,
    repo: PathBuf,
}

impl Checkout {
    fn of(app: &Path, files: &[&str]) -> Self {
        let root = std::env::temp_dir().join(format!(
            "cairn-sdk-{}",
            shared::crypto::random_alphanumeric(10).to_ascii_lowercase()
        ));
        let repo = root.join("checkout-api");
        for file in files {
            let to = repo.join(file);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(app.join(file), &to).unwrap_or_else(|e| panic!("copy {file}: {e}"));
        }
        Self { root, repo }
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Runs an SDK app to completion (bounded in time).
async fn run_app(mut cmd: tokio::process::Command, what: &str) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().unwrap_or_else(|e| {
        panic!("start the {what} app: {e} (scripts/sdk-deps installs what the SDK tests need)")
    });
    tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("the {what} app did not finish within 90 s"))
        .expect("wait for the app")
}

/// The JSON line a successful app printed last.
fn printed_json(out: &Output, what: &str) -> Value {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "the {what} app failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|_| panic!("the {what} app printed no JSON:\n{stdout}\n{stderr}"))
}

/// Checks that an app died of its uncaught exception (exit code 1), as the runtime makes it.
fn assert_died_of_the_exception(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the {what} app exits with 1 after an uncaught exception:\n{stderr}"
    );
}

/// The single incident at `commit`; when the SDK said which event it sent, checked to hold it.
async fn the_incident(
    app: &TestApp,
    project: &SentryProject,
    repo: &str,
    commit: &str,
    event_id: Option<&str>,
) -> Value {
    let incidents = incidents_at(app, &project.session, repo, commit).await;
    assert_eq!(
        incidents.len(),
        1,
        "one incident at the release's commit: {incidents:?}"
    );
    if let Some(event_id) = event_id {
        let id = incidents[0]["incident_id"].as_str().unwrap();
        let detail = app
            .get(&format!("/v1/incidents/{id}"), &project.session)
            .await;
        assert_eq!(detail.status, 200, "{:?}", detail.body);
        let events = detail.body["recent_events"]
            .as_array()
            .expect("recent_events");
        assert!(
            events
                .iter()
                .any(|e| e["event_id"].as_str() == Some(&event_id.replace('-', ""))),
            "the SDK's event {event_id} is among {events:?}"
        );
    }
    incidents[0].clone()
}

/// The Python app (`tests/sdk/python`), in a checkout of its own, sending to `dsn` with
/// `release = commit`; `mode` is passed on (`unhandled`: let the exception escape).
fn python_app(dsn: &str, commit: &str, mode: &[&str]) -> (tokio::process::Command, Checkout) {
    let python = installed(sdk_dir().join(".venv/bin/python"), "the Python Sentry SDK");
    let checkout = Checkout::of(
        &sdk_dir().join("python"),
        &["app/__init__.py", "app/main.py", "app/payments.py"],
    );
    let mut cmd = tokio::process::Command::new(python);
    cmd.args(["-m", "app.main", dsn, commit])
        .args(mode)
        .current_dir(&checkout.repo)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    (cmd, checkout)
}

/// Where the Python app's `ZeroDivisionError` must be located.
fn python_location(commit: &str) -> Value {
    json!({
        "error_type": "ZeroDivisionError", "error_message": "division by zero",
        "file_path": "app/payments.py", "line_number": 2, "column_number": null,
        "function": "charge", "commit_sha": commit,
    })
}

/// The Node app (`tests/sdk/node`), as [`python_app`]; `@sentry/node` is found through
/// `NODE_PATH` in the installed `node_modules`.
fn node_app(dsn: &str, commit: &str, mode: &[&str]) -> (tokio::process::Command, Checkout) {
    let sdk = installed(
        sdk_dir().join("node/node_modules/@sentry/node"),
        "@sentry/node",
    );
    let node_modules = sdk.parent().and_then(Path::parent).unwrap().to_owned();
    let checkout = Checkout::of(
        &sdk_dir().join("node"),
        &["src/main.js", "src/handlers/checkout.js"],
    );
    let mut cmd = tokio::process::Command::new("node");
    cmd.args(["src/main.js", dsn, commit])
        .args(mode)
        .current_dir(&checkout.repo)
        .env("NODE_PATH", node_modules);
    (cmd, checkout)
}

/// Where the Node app's `TypeError` must be located.
fn node_location(commit: &str) -> Value {
    json!({
        "error_type": "TypeError", "error_message": "Cannot read properties of null (reading 'items')",
        "file_path": "src/handlers/checkout.js", "line_number": 2, "column_number": 15,
        "function": "priceOf", "commit_sha": commit,
    })
}

#[tokio::test]
async fn the_python_sdk_reports_an_exception_on_the_line_that_raised_it() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, REPO).await;
    let commit = sha("python-sdk");
    let (cmd, _checkout) = python_app(&project.dsn, &commit, &[]);

    let out = printed_json(&run_app(cmd, "Python").await, "Python");

    assert_eq!(
        out["compression"], "br",
        "the SDK compressed with brotli, as it does by default: {out}"
    );
    let incident = the_incident(&app, &project, REPO, &commit, out["event_id"].as_str()).await;
    assert_eq!(location(&incident), python_location(&commit));
    assert_eq!(incident["environment"], "production");
}

#[tokio::test]
async fn the_python_sdk_reports_an_uncaught_exception_before_the_process_dies() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, REPO).await;
    let commit = sha("python-sdk-uncaught");
    let (cmd, _checkout) = python_app(&project.dsn, &commit, &["unhandled"]);

    let out = run_app(cmd, "Python").await;

    assert_died_of_the_exception(&out, "Python");
    let incident = the_incident(&app, &project, REPO, &commit, None).await;
    assert_eq!(location(&incident), python_location(&commit));
}

#[tokio::test]
async fn the_node_sdk_reports_an_exception_on_the_line_and_column_that_threw_it() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, REPO).await;
    let commit = sha("node-sdk");
    let (cmd, _checkout) = node_app(&project.dsn, &commit, &[]);

    let out = printed_json(&run_app(cmd, "Node").await, "Node");

    assert_eq!(out["flushed"], true, "{out}");
    let incident = the_incident(&app, &project, REPO, &commit, out["event_id"].as_str()).await;
    assert_eq!(location(&incident), node_location(&commit));
}

#[tokio::test]
async fn the_node_sdk_reports_an_uncaught_exception_before_the_process_dies() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, REPO).await;
    let commit = sha("node-sdk-uncaught");
    let (cmd, _checkout) = node_app(&project.dsn, &commit, &["unhandled"]);

    let out = run_app(cmd, "Node").await;

    assert_died_of_the_exception(&out, "Node");
    let incident = the_incident(&app, &project, REPO, &commit, None).await;
    assert_eq!(location(&incident), node_location(&commit));
}

/// Captures a real `std` error with the `sentry` crate, as an app would; blocking (the SDK's
/// transport is a thread), so it runs off the test's runtime. Returns the event id and the line
/// of the capture.
fn capture_with_the_rust_sdk(dsn: &str, release: &str) -> (String, u32) {
    let mut options = sentry::ClientOptions::new();
    options.dsn = Some(dsn.parse().expect("cairn's DSN parses as a Sentry DSN"));
    options.release = Some(release.to_owned().into());
    options.environment = Some("production".into());
    options.attach_stacktrace = true;
    let client = Arc::new(sentry::Client::from(sentry::apply_defaults(options)));
    let hub = sentry::Hub::new(
        Some(Arc::clone(&client)),
        Arc::new(sentry::Scope::default()),
    );
    let err = "12 apples".parse::<u32>().unwrap_err();
    let (event_id, line) = (hub.capture_error(&err), line!());
    assert!(
        client.close(Some(Duration::from_secs(20))),
        "the Rust SDK sent its queue"
    );
    (event_id.simple().to_string(), line)
}

#[tokio::test]
async fn the_rust_sdk_reports_an_error_on_the_line_that_captured_it() {
    // Rust frames carry the absolute path the crate was compiled from (`<checkout>/cli/../tests/
    // api/sentry/sdks.rs`): the project's repository is named like this checkout's folder, so
    // cairn strips up to it, as for an app built in a checkout named like its repository.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let repo = format!("acme/{}", checkout.file_name().unwrap().to_str().unwrap());
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, &repo).await;
    let commit = sha("rust-sdk");

    let (dsn, release) = (project.dsn.clone(), commit.clone());
    let (event_id, line) =
        tokio::task::spawn_blocking(move || capture_with_the_rust_sdk(&dsn, &release))
            .await
            .expect("the capture thread");

    let incident = the_incident(&app, &project, &repo, &commit, Some(&event_id)).await;
    assert_eq!(
        location(&incident),
        json!({
            "error_type": "ParseIntError", "error_message": "invalid digit found in string",
            "file_path": "tests/api/sentry/sdks.rs", "line_number": line, "column_number": incident["column_number"],
            "function": incident["function"], "commit_sha": commit,
        }),
        "frames: {}",
        incident["frames"]
    );
    assert!(
        incident["function"]
            .as_str()
            .is_some_and(|f| f.contains("capture_with_the_rust_sdk")),
        "{incident}"
    );
}

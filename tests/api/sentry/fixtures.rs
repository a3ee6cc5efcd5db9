//! Replays of requests captured from the official SDKs (`../shared/fixtures/sentry/`, beside the
//! repository): each `NN.http` (request line and headers as received) and `NN.body` (the body as
//! sent) is sent again over TCP, as it was, with a real key in place of the placeholder.

use std::path::PathBuf;

use serde_json::json;

use super::{incidents_at, location, send_raw, stored_events, SentryProject, FIXTURE_COMMIT};
use crate::helpers::{TestApp, TestResponse};

/// The key the captures were made with (not a valid cairn key).
const PLACEHOLDER_KEY: &str = "cairn_ik_EXAMPLEKEY0123456789abcdefghij";
/// The project id in the captures' DSN.
const PLACEHOLDER_PATH: &str = "/api/42/";

fn fixtures_dir() -> PathBuf {
    // The shared fixtures sit beside the repository, on every machine and in CI.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/sentry");
    assert!(
        dir.is_dir(),
        "the Sentry fixtures are missing: expected them at {}",
        dir.display()
    );
    dir
}

/// Sends `<sdk>/<nn>.http` + `<nn>.body` to `project`, with its key and sentry id.
async fn replay(app: &TestApp, project: &SentryProject, sdk: &str, nn: &str) -> TestResponse {
    let dir = fixtures_dir().join(sdk);
    let head =
        std::fs::read_to_string(dir.join(format!("{nn}.http"))).expect("read the .http fixture");
    let body = std::fs::read(dir.join(format!("{nn}.body"))).expect("read the .body fixture");
    let mut chunked = false;
    let mut lines = Vec::new();
    for (i, line) in head.lines().enumerate() {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            _ if i == 0 => lines.push(format!(
                "{} HTTP/1.1",
                line.replacen(PLACEHOLDER_PATH, &format!("/api/{}/", project.sentry_id), 1)
            )),
            "transfer-encoding" => chunked = line.to_ascii_lowercase().contains("chunked"),
            // `send_raw` frames the body itself.
            "content-length" | "connection" => {}
            _ => lines.push(line.to_owned()),
        }
    }
    let head = lines.join("\n").replace(PLACEHOLDER_KEY, &project.key);
    send_raw(app, &head, &body, chunked).await
}

#[tokio::test]
async fn the_python_sdk_capture_replayed_is_an_incident_on_the_line_that_raised() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, "acme/checkout-api").await;

    let r = replay(&app, &project, "python-sdk-2.75.0", "01").await;

    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body, json!({"id": "465cc9668833467c8ae768bd7c4a1c23"}));
    assert!(r.headers.contains_key("x-sentry-rate-limits"));
    let incidents = incidents_at(&app, &project.session, "acme/checkout-api", FIXTURE_COMMIT).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(
        location(&incidents[0]),
        json!({
            "error_type": "ZeroDivisionError", "error_message": "division by zero",
            "file_path": "app/payments.py", "line_number": 2, "column_number": null,
            "function": "charge", "commit_sha": FIXTURE_COMMIT,
        })
    );
    assert_eq!(incidents[0]["environment"], "production");
    // The SDK echoes the DSN (`extra.sys.argv`); keys are never stored in clear.
    let payload: String = sqlx::query_scalar("select payload::text from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !payload.contains("EXAMPLEKEY"),
        "the key in the payload is scrubbed"
    );
}

#[tokio::test]
async fn the_node_sdk_session_and_error_replayed_give_one_incident_with_line_and_column() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, "acme/checkout-api").await;

    let session = replay(&app, &project, "node-sdk-11.12.0", "01").await;
    let error = replay(&app, &project, "node-sdk-11.12.0", "02").await;

    assert_eq!(
        session.status, 200,
        "a session envelope is accepted: {:?}",
        session.body
    );
    assert_eq!(error.status, 200, "{:?}", error.body);
    assert_eq!(
        error.body,
        json!({"id": "474d3101423f4d37954dc413528fa577"})
    );
    assert_eq!(
        stored_events(&app).await,
        1,
        "the session is dropped, the error stored"
    );
    let incidents = incidents_at(&app, &project.session, "acme/checkout-api", FIXTURE_COMMIT).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(
        location(&incidents[0]),
        json!({
            "error_type": "TypeError", "error_message": "Cannot read properties of null (reading 'items')",
            "file_path": "src/handlers/checkout.js", "line_number": 2, "column_number": 15,
            "function": "priceOf", "commit_sha": FIXTURE_COMMIT,
        })
    );
    let frames = incidents[0]["frames"].as_array().unwrap();
    let caller = &frames[1];
    assert_eq!(
        (
            &caller["file_path"],
            &caller["line_number"],
            &caller["function"],
            &caller["in_app"]
        ),
        (
            &json!("src/handlers/checkout.js"),
            &json!(5),
            &json!("handleCheckout"),
            &json!(true)
        ),
        "frames come newest call first: {frames:?}"
    );
    assert!(
        frames.iter().any(|f| f["in_app"] == false),
        "node internals are not in-app"
    );
}

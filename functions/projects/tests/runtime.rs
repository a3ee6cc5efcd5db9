//! The projects function as Lambda runs it: its binary polling a Runtime API, fed API Gateway
//! HTTP API events (see `tests/lambda/`).

#[path = "../../../tests/lambda/emulator.rs"]
mod emulator;
#[path = "../../../tests/lambda/harness.rs"]
mod harness;

use emulator::http_api_event;
use harness::{assert_error, json_body, Function};
use serde_json::json;

fn binary() -> String {
    harness::binary("projects", env!("CARGO_BIN_EXE_projects"))
}

#[tokio::test]
async fn projects_binary_checks_the_session_against_the_database_on_one_warm_instance() {
    let db_url = harness::fresh_database().await;
    let function = Function::start(&binary(), &db_url).await;

    let health = function
        .invoke(http_api_event(
            "GET",
            "GET /healthz",
            "/healthz",
            &[],
            &[],
            None,
            false,
        ))
        .await;
    let create = function
        .invoke(http_api_event(
            "POST",
            "POST /v1/projects",
            "/v1/projects",
            &[],
            &[
                (
                    "authorization",
                    "Bearer cairn_s_0000000000000000000000000000000000000000",
                ),
                ("content-type", "application/json"),
            ],
            Some(br#"{"repo": "acme/checkout-api"}"#),
            false,
        ))
        .await;
    let revoke = function
        .invoke(http_api_event(
            "DELETE",
            "DELETE /v1/projects/{project_id}/keys/{key_id}",
            "/v1/projects/proj_0000000000/keys/key_0000000000",
            &[
                ("project_id", "proj_0000000000"),
                ("key_id", "key_0000000000"),
            ],
            &[],
            None,
            false,
        ))
        .await;

    assert_eq!(health["statusCode"], 200, "{health}");
    assert_eq!(json_body(&health), json!({"status": "ok"}));
    assert_error(&create, 401, "invalid_session");
    assert_error(&revoke, 401, "missing_session");
}

#[tokio::test]
async fn projects_binary_answers_503_with_retry_after_when_the_database_is_down() {
    let function = Function::start(&binary(), &harness::unreachable_database()).await;

    let resp = function
        .invoke(http_api_event(
            "GET",
            "GET /healthz",
            "/healthz",
            &[],
            &[],
            None,
            false,
        ))
        .await;

    assert_error(&resp, 503, "database_unavailable");
    assert!(resp["headers"]["retry-after"].is_string(), "{resp}");
}

//! The incidents function as Lambda runs it: its binary polling a Runtime API, fed API Gateway
//! HTTP API events (see `tests/lambda/`).

#[path = "../../../tests/lambda/emulator.rs"]
mod emulator;
#[path = "../../../tests/lambda/harness.rs"]
mod harness;

use emulator::http_api_event;
use harness::{assert_error, json_body, Function};
use serde_json::json;

fn binary() -> String {
    harness::binary("incidents", env!("CARGO_BIN_EXE_incidents"))
}

#[tokio::test]
async fn incidents_binary_checks_the_session_against_the_database_on_one_warm_instance() {
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
    let list = function
        .invoke(http_api_event(
            "GET",
            "GET /v1/incidents",
            "/v1/incidents?repo=acme%2Fcheckout-api&commit=a1b2c3d4e5f60718293a4b5c6d7e8f9012345678&status=open",
            &[],
            &[("authorization", "Bearer cairn_s_0000000000000000000000000000000000000000")],
            None,
            false,
        ))
        .await;
    let patch = function
        .invoke(http_api_event(
            "PATCH",
            "PATCH /v1/incidents/{incident_id}",
            "/v1/incidents/inc_0000000000",
            &[("incident_id", "inc_0000000000")],
            &[("content-type", "application/json")],
            Some(br#"{"status": "resolved"}"#),
            false,
        ))
        .await;

    assert_eq!(health["statusCode"], 200, "{health}");
    assert_eq!(json_body(&health), json!({"status": "ok"}));
    assert_error(&list, 401, "invalid_session");
    assert_error(&patch, 401, "missing_session");
}

#[tokio::test]
async fn incidents_binary_answers_503_with_retry_after_when_the_database_is_down() {
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

#[tokio::test]
async fn incidents_binary_serves_the_openapi_document_as_text_without_the_database() {
    let function = Function::start(&binary(), &harness::unreachable_database()).await;

    let resp = function
        .invoke(http_api_event(
            "GET",
            "GET /openapi.json",
            "/openapi.json",
            &[],
            &[],
            None,
            false,
        ))
        .await;

    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!(resp["isBase64Encoded"], false);
    let doc = json_body(&resp);
    assert!(
        doc["paths"]["/v1/events"].is_object(),
        "the whole document: {}",
        doc["paths"]
    );
}

//! The retention function as Lambda runs it: its binary polling a Runtime API, fed the
//! EventBridge scheduled event `template.yaml` sends it. A failed run is a handler error, which
//! the runtime reports through `/invocation/{id}/error` (the scheduler's retry policy applies).

#[path = "../../../tests/lambda/emulator.rs"]
mod emulator;
#[path = "../../../tests/lambda/harness.rs"]
mod harness;

use emulator::Outcome;
use harness::{Function, INVOKE_TIMEOUT};
use serde_json::Value;

fn binary() -> String {
    harness::binary("retention", env!("CARGO_BIN_EXE_retention"))
}

fn scheduled_event() -> Value {
    serde_json::from_str(include_str!("../../../tests/lambda/events/scheduled.json")).unwrap()
}

#[tokio::test]
async fn retention_binary_answers_a_scheduled_event_with_what_it_deleted() {
    let db_url = harness::fresh_database().await;
    let function = Function::start(&binary(), &db_url).await;

    let report = function.invoke(scheduled_event()).await;

    assert_eq!(report["events"], 0, "{report}");
    assert!(report["batches"].as_u64().unwrap() >= 1, "{report}");
}

#[tokio::test]
async fn retention_binary_reports_an_unreachable_database_as_an_invocation_error() {
    let function = Function::start(&binary(), &harness::unreachable_database()).await;

    let outcome = function
        .emulator
        .invoke(scheduled_event(), INVOKE_TIMEOUT)
        .await
        .unwrap();

    let Outcome::Error { error_type, body } = outcome else {
        panic!("expected an error, got {outcome:?}")
    };
    assert!(error_type.is_some(), "the error type header is set");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .contains("pool timed out"),
        "{body}"
    );
    let again = function
        .emulator
        .invoke(scheduled_event(), INVOKE_TIMEOUT)
        .await
        .unwrap();
    assert!(
        matches!(again, Outcome::Error { .. }),
        "the instance survives and answers the next run"
    );
}

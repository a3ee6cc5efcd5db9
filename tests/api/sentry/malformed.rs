//! Malformed envelopes and store bodies: each a clear 4xx with a stable code, never a 500, and
//! nothing written.

use serde_json::json;

use super::wire::{event, post};
use super::{stored_events, SentryProject};
use crate::helpers::{sha, TestApp};

const REPO: &str = "acme/checkout-api";

#[tokio::test]
async fn malformed_envelopes_are_clear_4xx_answers_never_a_500() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let good = event(&format!("{:032x}", 1), "boom", &sha("malformed")).to_string();
    let header = json!({"event_id": format!("{:032x}", 1)}).to_string();
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let many_items = format!(
        "{header}\n{}",
        "{\"type\":\"client_report\"}\n{}\n".repeat(101)
    );
    let cases: Vec<(&str, String, &str, (u16, &str))> = vec![
        ("empty body", String::new(), "envelope", (400, "empty_body")),
        (
            "only whitespace",
            "\n \n".into(),
            "envelope",
            (400, "empty_body"),
        ),
        (
            "bad envelope header line",
            format!("not json\n{{\"type\":\"event\"}}\n{good}\n"),
            "envelope",
            (400, "invalid_envelope_header"),
        ),
        (
            "header line is not an object",
            format!("[1]\n{{\"type\":\"event\"}}\n{good}\n"),
            "envelope",
            (400, "invalid_envelope_header"),
        ),
        (
            "bad item header",
            format!("{header}\n{{\"type\":\n{good}\n"),
            "envelope",
            (400, "invalid_item_header"),
        ),
        (
            "item header without type",
            format!("{header}\n{{\"length\":2}}\n{{}}\n"),
            "envelope",
            (400, "invalid_item_header"),
        ),
        (
            "negative length",
            format!("{header}\n{{\"type\":\"event\",\"length\":-1}}\n{good}\n"),
            "envelope",
            (400, "invalid_item_header"),
        ),
        (
            "length past the end",
            format!("{header}\n{{\"type\":\"event\",\"length\":99999}}\n{good}\n"),
            "envelope",
            (400, "invalid_item_length"),
        ),
        (
            "length short of the payload",
            format!("{header}\n{{\"type\":\"event\",\"length\":5}}\n{good}\n"),
            "envelope",
            (400, "invalid_item_length"),
        ),
        (
            "invalid json event",
            format!("{header}\n{{\"type\":\"event\"}}\n{{\"exception\": [}}\n"),
            "envelope",
            (400, "invalid_json"),
        ),
        (
            "event that is not an object",
            format!("{header}\n{{\"type\":\"event\"}}\n[1, 2]\n"),
            "envelope",
            (400, "invalid_event"),
        ),
        (
            "event nested too deep",
            format!("{header}\n{{\"type\":\"event\"}}\n{{\"extra\": {deep}}}\n"),
            "envelope",
            (400, "json_too_deep"),
        ),
        (
            "too many items",
            many_items,
            "envelope",
            (413, "too_many_items"),
        ),
        ("store: empty", String::new(), "store", (400, "empty_body")),
        (
            "store: invalid json",
            "{\"exception\":".into(),
            "store",
            (400, "invalid_json"),
        ),
        (
            "store: not an object",
            "\"boom\"".into(),
            "store",
            (400, "invalid_json"),
        ),
    ];

    for (what, body, route, (status, code)) in cases {
        let path = if route == "store" {
            p.store_path()
        } else {
            p.envelope_path()
        };
        let r = post(&app, &path, &[("x-sentry-auth", &auth)], body).await;
        assert_eq!((r.status, r.code()), (status, code), "{what}: {:?}", r.body);
    }
    let not_a_project = post(
        &app,
        "/api/not-a-number/envelope/",
        &[("x-sentry-auth", &auth)],
        good.clone(),
    )
    .await;
    assert_eq!(
        (not_a_project.status, not_a_project.code()),
        (404, "not_found"),
        "{:?}",
        not_a_project.body
    );
    assert_eq!(
        stored_events(&app).await,
        0,
        "nothing is written for a refused request"
    );
}

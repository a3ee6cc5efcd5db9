//! What happens to what an envelope carries: events deduplicated by `event_id`, item types
//! cairn does not store accepted and dropped, rate limits in Sentry's terms, the legacy `/store/`
//! endpoint and `capture_message` events.

use serde_json::{json, Value};

use super::wire::{
    assert_rate_limits_header, envelope, event, event_envelope, gzip, outcome, post,
};
use super::{incidents_at, send_raw, stored_events, SentryProject};
use crate::helpers::{sha, Options, TestApp};

const REPO: &str = "acme/checkout-api";

#[tokio::test]
async fn a_resent_event_id_is_counted_once() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("dedupe");
    let id = "474d3101423f4d37954dc413528fa577";
    let as_uuid = "474d3101-423f-4d37-954d-c413528fa577";

    let first = post(
        &app,
        &p.envelope_path(),
        &[("x-sentry-auth", &auth)],
        event_envelope(id, "boom", &commit),
    )
    .await;
    let again = post(
        &app,
        &p.envelope_path(),
        &[("x-sentry-auth", &auth)],
        event_envelope(id, "boom", &commit),
    )
    .await;
    let via_store = post(
        &app,
        &p.store_path(),
        &[("x-sentry-auth", &auth)],
        event(as_uuid, "boom", &commit).to_string(),
    )
    .await;

    for r in [&first, &again, &via_store] {
        assert_eq!(outcome(r), (200, id.to_owned()), "{:?}", r.body);
    }
    app.fold().await;
    assert_eq!(stored_events(&app).await, 1);
    let incidents = incidents_at(&app, &p.session, REPO, &commit).await;
    assert_eq!(incidents[0]["occurrence_count"], 1, "{incidents:?}");
}

#[tokio::test]
async fn sessions_client_reports_transactions_and_unknown_items_are_accepted_and_dropped() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("items");
    let item = |ty: &str, payload: Value| (json!({"type": ty}), payload.to_string().into_bytes());
    let dropped = vec![
        item(
            "session",
            json!({"sid": "1db4992fe5f642758f1aff5c955dc9be", "status": "ok", "errors": 1}),
        ),
        item("sessions", json!({"aggregates": []})),
        item(
            "client_report",
            json!({"discarded_events": [{"reason": "ratelimit_backoff", "category": "transaction", "quantity": 1}]}),
        ),
        item(
            "transaction",
            json!({"type": "transaction", "transaction": "GET /checkout", "spans": []}),
        ),
        item("span", json!({"span_id": "92ab81cedff498bf"})),
        (
            json!({"type": "attachment", "filename": "log.txt", "length": 5}),
            b"hello".to_vec(),
        ),
        item("check_in", json!({"check_in_id": "x", "status": "ok"})),
        item("some_future_type", json!({"anything": true})),
    ];

    let only_dropped = post(
        &app,
        &p.envelope_path(),
        &[("x-sentry-auth", &auth)],
        envelope(&json!({}), &dropped),
    )
    .await;
    assert_eq!(only_dropped.status, 200, "{:?}", only_dropped.body);
    assert_eq!(stored_events(&app).await, 0);

    // As the Node SDK sends: chunked, no item `length`, an event among other items.
    let id = format!("{:032x}", 42);
    let mut mixed = vec![dropped[0].clone()];
    mixed.push(item("event", event(&id, "boom", &commit)));
    mixed.push(dropped[2].clone());
    let head = format!(
        "POST {}?sentry_key={}&sentry_version=7 HTTP/1.1\nHost: cairn.test",
        p.envelope_path(),
        p.key
    );
    let r = send_raw(
        &app,
        &head,
        &envelope(&json!({"event_id": id}), &mixed),
        true,
    )
    .await;
    assert_eq!(outcome(&r), (200, id.clone()), "{:?}", r.body);
    assert_rate_limits_header(&r);
    assert_eq!(stored_events(&app).await, 1);
    let limits = r.headers["x-sentry-rate-limits"].to_str().unwrap();
    assert!(
        limits.split(',').any(|l| l.trim().starts_with("86400:")
            && l.contains("transaction")
            && l.contains("span")),
        "SDKs are told to stop sending what cairn drops: {limits}"
    );
}

#[tokio::test]
async fn a_rate_limited_project_gets_429_with_retry_after_and_the_error_category() {
    let app = TestApp::spawn_with(Options {
        rate_limit_per_minute: 2,
        ..Default::default()
    })
    .await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("ratelimit");
    // The limit counts per clock minute: start well inside one, so the three requests share it.
    crate::helpers::within_one_minute(10).await;
    let mut answers = Vec::new();
    for n in 1..=3u8 {
        answers.push(
            post(
                &app,
                &p.envelope_path(),
                &[("x-sentry-auth", &auth)],
                event_envelope(&format!("{n:032x}"), "boom", &commit),
            )
            .await,
        );
    }

    assert_eq!(
        answers.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![200, 200, 429]
    );
    let limited = &answers[2];
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "retry-after {retry}");
    let limits = limited.headers["x-sentry-rate-limits"].to_str().unwrap();
    let error_limit = limits.split(',').map(str::trim).find(|l| {
        l.split(':')
            .nth(1)
            .is_some_and(|c| c.split(';').any(|c| c == "error"))
    });
    assert_eq!(
        error_limit
            .and_then(|l| l.split(':').next())
            .and_then(|s| s.parse::<u64>().ok()),
        Some(retry),
        "the error category is limited for Retry-After seconds: {limits}"
    );
    assert_eq!(stored_events(&app).await, 2);
}

#[tokio::test]
async fn the_legacy_store_endpoint_and_captured_messages_make_incidents() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("store");
    let message = json!({
        "event_id": format!("{:032x}", 7), "level": "warning", "platform": "python",
        "timestamp": "2026-11-24T05:39:22.473195Z", "tags": {"commit_sha": commit},
        "logentry": {"message": "card %s declined", "formatted": "card 4242 declined"},
        "user": {"id": "user-1"}
    });

    let stored = post(
        &app,
        &p.store_path(),
        &[("x-sentry-auth", &auth), ("content-encoding", "gzip")],
        gzip(message.to_string().as_bytes()),
    )
    .await;
    let raised = post(
        &app,
        &p.store_path(),
        &[("x-sentry-auth", &auth)],
        event(&format!("{:032x}", 8), "boom", &commit).to_string(),
    )
    .await;

    assert_eq!(
        outcome(&stored),
        (200, format!("{:032x}", 7)),
        "{:?}",
        stored.body
    );
    assert_eq!(
        outcome(&raised),
        (200, format!("{:032x}", 8)),
        "{:?}",
        raised.body
    );
    app.fold().await;
    let incidents = incidents_at(&app, &p.session, REPO, &commit).await;
    let by_message = |m: &str| {
        incidents
            .iter()
            .find(|i| i["error_message"] == m)
            .unwrap_or_else(|| panic!("{m} in {incidents:?}"))
    };
    let msg = by_message("card 4242 declined");
    assert_eq!(
        (&msg["error_type"], &msg["level"], &msg["file_path"]),
        (&Value::Null, &json!("warning"), &Value::Null)
    );
    assert_eq!(
        msg["affected_users"], 1,
        "user.id counts as an affected user"
    );
    let err = by_message("boom");
    assert_eq!(
        (&err["error_type"], &err["file_path"], &err["line_number"]),
        (&json!("ValueError"), &json!("app/payments.py"), &json!(2))
    );
}

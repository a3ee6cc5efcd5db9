//! Table tests of the protocol's edges: every compression, every place a key can be, malformed
//! envelopes, limits, dedupe, item types cairn drops, and rate limits. Every answer, success or
//! refusal, must carry `X-Sentry-Rate-Limits` ([`post`] checks it on each one).

use std::io::Write;

use serde_json::{json, Value};

use super::{incidents_at, send_raw, stored_events, SentryProject};
use crate::helpers::{sha, Options, TestApp, TestResponse};

const REPO: &str = "acme/checkout-api";

/// A Python-style error event raised in `app/payments.py:2`, released at `commit`.
fn event(event_id: &str, message: &str, commit: &str) -> Value {
    json!({
        "event_id": event_id, "level": "error", "platform": "python", "release": commit,
        "environment": "production", "timestamp": 1_764_000_000.25,
        "exception": {"values": [{"type": "ValueError", "value": message, "stacktrace": {"frames": [
            {"abs_path": "/srv/checkout-api/app/main.py", "function": "<module>", "lineno": 5, "in_app": true},
            {"abs_path": "/srv/checkout-api/app/payments.py", "function": "charge", "lineno": 2, "in_app": true}
        ]}}]}
    })
}

/// An envelope: the header line, then each item's header line and payload.
fn envelope(header: &Value, items: &[(Value, Vec<u8>)]) -> Vec<u8> {
    let mut out = format!("{header}\n").into_bytes();
    for (item_header, payload) in items {
        out.extend_from_slice(format!("{item_header}\n").as_bytes());
        out.extend_from_slice(payload);
        out.push(b'\n');
    }
    out
}

/// An envelope holding one event item, with its `length`.
fn event_envelope(event_id: &str, message: &str, commit: &str) -> Vec<u8> {
    let payload = event(event_id, message, commit).to_string().into_bytes();
    envelope(&json!({"event_id": event_id}), &[(json!({"type": "event", "length": payload.len()}), payload)])
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `data` as a valid brotli stream (RFC 7932) of uncompressed meta-blocks: real `br` framing
/// without pulling in an encoder. (Compressed brotli from the real Python SDK is covered by the
/// fixture replay and the end-to-end test.)
fn brotli_stored(data: &[u8]) -> Vec<u8> {
    let mut w = BitWriter::default();
    w.bits(0, 1); // WBITS = 16
    for block in data.chunks(1 << 16) {
        // ISLAST = 0, MNIBBLES = 4, MLEN - 1 in 16 bits, ISUNCOMPRESSED = 1, then byte-aligned data.
        w.bits(0, 1);
        w.bits(0, 2);
        w.bits(block.len() as u64 - 1, 16);
        w.bits(1, 1);
        w.align();
        w.out.extend_from_slice(block);
    }
    w.bits(0b11, 2); // ISLAST, ISLASTEMPTY
    w.align();
    w.out
}

/// Writes bits least significant first, as brotli reads them.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn bits(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn align(&mut self) {
        let pad = (8 - self.n % 8) % 8;
        self.bits(0, pad);
    }
}

/// Posts to a Sentry route and checks the answer carries `X-Sentry-Rate-Limits`.
async fn post(app: &TestApp, path: &str, headers: &[(&str, &str)], body: impl Into<hyper::body::Bytes>) -> TestResponse {
    let r = app.send("POST", path, headers, body).await;
    assert_rate_limits_header(&r);
    r
}

fn assert_rate_limits_header(r: &TestResponse) {
    let limits = r.headers.get("x-sentry-rate-limits").map(|v| v.to_str().unwrap().to_owned());
    assert!(
        limits.as_deref().is_some_and(|l| l.contains("transaction")),
        "every Sentry answer switches off transactions (status {}, {:?}): {limits:?}",
        r.status,
        r.body
    );
}

/// `(status, code)` of an answer, with `"id"` standing for a success's id.
fn outcome(r: &TestResponse) -> (u16, String) {
    let code = if r.status == 200 { r.body["id"].as_str().unwrap_or("no id").to_owned() } else { r.code().to_owned() };
    (r.status, code)
}

#[tokio::test]
async fn every_content_encoding_is_decoded_and_an_unknown_one_is_a_415() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("encodings");
    let body = |id: &str| event_envelope(id, &format!("bad amount for {id}"), &commit);
    let id = |n: u8| format!("{n:032x}");
    let cases: Vec<(Option<&str>, Vec<u8>, (u16, String))> = vec![
        (None, body(&id(1)), (200, id(1))),
        (Some("identity"), body(&id(2)), (200, id(2))),
        (Some("gzip"), gzip(&body(&id(3))), (200, id(3))),
        (Some("x-gzip"), gzip(&body(&id(4))), (200, id(4))),
        (Some("deflate"), zlib(&body(&id(5))), (200, id(5))),
        (Some("deflate"), raw_deflate(&body(&id(6))), (200, id(6))),
        (Some("br"), brotli_stored(&body(&id(7))), (200, id(7))),
        (Some("BR"), brotli_stored(&body(&id(8))), (200, id(8))),
        (Some("zstd"), body(&id(9)), (415, "unsupported_content_encoding".into())),
        (Some("gzip"), body(&id(10)), (400, "invalid_compression".into())),
        (Some("br"), b"\xff\xff\xff\xff not brotli".to_vec(), (400, "invalid_compression".into())),
    ];

    for (encoding, payload, want) in cases {
        let mut headers = vec![("x-sentry-auth", auth.as_str()), ("content-type", "application/x-sentry-envelope")];
        headers.extend(encoding.map(|e| ("content-encoding", e)));
        let r = post(&app, &p.envelope_path(), &headers, payload).await;
        assert_eq!(outcome(&r), want, "content-encoding {encoding:?}: {:?}", r.body);
    }

    assert_eq!(stored_events(&app).await, 8);
    // Numbers in the message are placeholders for grouping: one incident.
    assert_eq!(incidents_at(&app, &p.session, REPO, &commit).await.len(), 1);
}

#[tokio::test]
async fn the_key_comes_from_the_auth_header_the_query_or_the_envelope_dsn_and_must_fit_the_url() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let other = SentryProject::create(&app, "acme/other-app").await;
    let commit = sha("auth");
    let body = |n: u8| event_envelope(&format!("{n:032x}"), "boom", &commit);
    let with_dsn = |n: u8, dsn: &str| {
        let payload = event(&format!("{n:032x}"), "boom", &commit).to_string().into_bytes();
        envelope(&json!({"dsn": dsn}), &[(json!({"type": "event"}), payload)])
    };
    let envelope_path = p.envelope_path();
    let query_path = format!("{envelope_path}?sentry_version=7&sentry_key={}&sentry_client=sentry.javascript.node%2F11.12.0", p.key);
    let auth = p.auth_header();
    let bearer_style = format!("Sentry sentry_key={}", p.key);
    let other_auth = other.auth_header();
    let unknown_auth = format!("Sentry sentry_key=cairn_ik_{}", "x".repeat(32));
    let store_path = p.store_path();
    let store_body = event(&format!("{:032x}", 6), "boom", &commit).to_string();
    let cases: Vec<(&str, &str, Vec<(&str, &str)>, Vec<u8>, (u16, String))> = vec![
        ("X-Sentry-Auth", &envelope_path, vec![("x-sentry-auth", &auth)], body(1), (200, format!("{:032x}", 1))),
        ("Authorization: Sentry", &envelope_path, vec![("authorization", &bearer_style)], body(2), (200, format!("{:032x}", 2))),
        ("sentry_key query", &query_path, vec![], body(3), (200, format!("{:032x}", 3))),
        ("envelope dsn", &envelope_path, vec![], with_dsn(4, &p.dsn), (200, format!("{:032x}", 4))),
        ("store + X-Sentry-Auth", &store_path, vec![("x-sentry-auth", &auth)], store_body.into(), (200, format!("{:032x}", 6))),
        ("no key", &envelope_path, vec![], body(7), (401, "missing_ingest_key".into())),
        ("unknown key", &envelope_path, vec![("x-sentry-auth", &unknown_auth)], body(8), (401, "invalid_ingest_key".into())),
        ("another project's key", &envelope_path, vec![("x-sentry-auth", &other_auth)], body(9), (403, "project_mismatch".into())),
        ("another project's dsn", &envelope_path, vec![], with_dsn(10, &other.dsn), (403, "project_mismatch".into())),
    ];

    for (what, path, headers, payload, want) in cases {
        let r = post(&app, path, &headers, payload).await;
        assert_eq!(outcome(&r), want, "{what}: {:?}", r.body);
    }

    // Revoked: the key stops working at once.
    let revoke_path = format!("/v1/projects/{}/keys/{}", p.project_id, p.key_id);
    let revoke = app.send("DELETE", &revoke_path, &[("authorization", &format!("Bearer {}", p.session))], "").await;
    assert_eq!(revoke.status, 200, "{:?}", revoke.body);
    let r = post(&app, &envelope_path, &[("x-sentry-auth", &auth)], body(11)).await;
    assert_eq!(outcome(&r), (401, "invalid_ingest_key".into()), "revoked key: {:?}", r.body);
    assert_eq!(stored_events(&app).await, 5, "only the accepted events are stored");
}

#[tokio::test]
async fn malformed_envelopes_are_clear_4xx_answers_never_a_500() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let good = event(&format!("{:032x}", 1), "boom", &sha("malformed")).to_string();
    let header = json!({"event_id": format!("{:032x}", 1)}).to_string();
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let many_items = format!("{header}\n{}", "{\"type\":\"client_report\"}\n{}\n".repeat(101));
    let cases: Vec<(&str, String, &str, (u16, &str))> = vec![
        ("empty body", String::new(), "envelope", (400, "empty_body")),
        ("only whitespace", "\n \n".into(), "envelope", (400, "empty_body")),
        ("bad envelope header line", format!("not json\n{{\"type\":\"event\"}}\n{good}\n"), "envelope", (400, "invalid_envelope_header")),
        ("header line is not an object", format!("[1]\n{{\"type\":\"event\"}}\n{good}\n"), "envelope", (400, "invalid_envelope_header")),
        ("bad item header", format!("{header}\n{{\"type\":\n{good}\n"), "envelope", (400, "invalid_item_header")),
        ("item header without type", format!("{header}\n{{\"length\":2}}\n{{}}\n"), "envelope", (400, "invalid_item_header")),
        ("negative length", format!("{header}\n{{\"type\":\"event\",\"length\":-1}}\n{good}\n"), "envelope", (400, "invalid_item_header")),
        ("length past the end", format!("{header}\n{{\"type\":\"event\",\"length\":99999}}\n{good}\n"), "envelope", (400, "invalid_item_length")),
        ("length short of the payload", format!("{header}\n{{\"type\":\"event\",\"length\":5}}\n{good}\n"), "envelope", (400, "invalid_item_length")),
        ("invalid json event", format!("{header}\n{{\"type\":\"event\"}}\n{{\"exception\": [}}\n"), "envelope", (400, "invalid_json")),
        ("event that is not an object", format!("{header}\n{{\"type\":\"event\"}}\n[1, 2]\n"), "envelope", (400, "invalid_event")),
        ("event nested too deep", format!("{header}\n{{\"type\":\"event\"}}\n{{\"extra\": {deep}}}\n"), "envelope", (400, "json_too_deep")),
        ("too many items", many_items, "envelope", (413, "too_many_items")),
        ("store: empty", String::new(), "store", (400, "empty_body")),
        ("store: invalid json", "{\"exception\":".into(), "store", (400, "invalid_json")),
        ("store: not an object", "\"boom\"".into(), "store", (400, "invalid_json")),
    ];

    for (what, body, route, (status, code)) in cases {
        let path = if route == "store" { p.store_path() } else { p.envelope_path() };
        let r = post(&app, &path, &[("x-sentry-auth", &auth)], body).await;
        assert_eq!((r.status, r.code()), (status, code), "{what}: {:?}", r.body);
    }
    let not_a_project = post(&app, "/api/not-a-number/envelope/", &[("x-sentry-auth", &auth)], good.clone()).await;
    assert_eq!((not_a_project.status, not_a_project.code()), (404, "not_found"), "{:?}", not_a_project.body);
    assert_eq!(stored_events(&app).await, 0, "nothing is written for a refused request");
}

#[tokio::test]
async fn oversize_bodies_and_decompression_bombs_are_refused_with_413() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("limits");
    let big = event_envelope(&format!("{:032x}", 1), &"x".repeat(1024 * 1024 + 100), &commit);
    // 9 MiB of one byte compresses to a few KiB and would decompress past the 8 MiB limit.
    let bomb = vec![b' '; 9 * 1024 * 1024];
    let cases: Vec<(&str, Option<&str>, Vec<u8>, (u16, &str))> = vec![
        ("over 1 MiB as sent", None, big.clone(), (413, "payload_too_large")),
        ("gzip bomb", Some("gzip"), gzip(&bomb), (413, "payload_too_large")),
        ("deflate bomb", Some("deflate"), zlib(&bomb), (413, "payload_too_large")),
        ("one event over 1 MiB, compressed under it", Some("gzip"), gzip(&big), (413, "event_too_large")),
    ];

    for (what, encoding, body, (status, code)) in cases {
        assert!(body.len() < 1024 * 1024 || what == "over 1 MiB as sent", "{what}: {} bytes", body.len());
        let mut headers = vec![("x-sentry-auth", auth.as_str())];
        headers.extend(encoding.map(|e| ("content-encoding", e)));
        let r = post(&app, &p.envelope_path(), &headers, body).await;
        assert_eq!((r.status, r.code()), (status, code), "{what}: {:?}", r.body);
    }
    // Chunked, so the server only learns the size while reading (as from the Node SDK).
    let head = format!("POST {} HTTP/1.1\nHost: cairn.test\nX-Sentry-Auth: {auth}", p.envelope_path());
    let r = send_raw(&app, &head, &big, true).await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"), "chunked: {:?}", r.body);
    assert_rate_limits_header(&r);
    assert_eq!(stored_events(&app).await, 0);
}

#[tokio::test]
async fn a_resent_event_id_is_counted_once() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("dedupe");
    let id = "474d3101423f4d37954dc413528fa577";
    let as_uuid = "474d3101-423f-4d37-954d-c413528fa577";

    let first = post(&app, &p.envelope_path(), &[("x-sentry-auth", &auth)], event_envelope(id, "boom", &commit)).await;
    let again = post(&app, &p.envelope_path(), &[("x-sentry-auth", &auth)], event_envelope(id, "boom", &commit)).await;
    let via_store = post(&app, &p.store_path(), &[("x-sentry-auth", &auth)], event(as_uuid, "boom", &commit).to_string()).await;

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
        item("session", json!({"sid": "1db4992fe5f642758f1aff5c955dc9be", "status": "ok", "errors": 1})),
        item("sessions", json!({"aggregates": []})),
        item("client_report", json!({"discarded_events": [{"reason": "ratelimit_backoff", "category": "transaction", "quantity": 1}]})),
        item("transaction", json!({"type": "transaction", "transaction": "GET /checkout", "spans": []})),
        item("span", json!({"span_id": "92ab81cedff498bf"})),
        (json!({"type": "attachment", "filename": "log.txt", "length": 5}), b"hello".to_vec()),
        item("check_in", json!({"check_in_id": "x", "status": "ok"})),
        item("some_future_type", json!({"anything": true})),
    ];

    let only_dropped = post(&app, &p.envelope_path(), &[("x-sentry-auth", &auth)], envelope(&json!({}), &dropped)).await;
    assert_eq!(only_dropped.status, 200, "{:?}", only_dropped.body);
    assert_eq!(stored_events(&app).await, 0);

    // As the Node SDK sends: chunked, no item `length`, an event among other items.
    let id = format!("{:032x}", 42);
    let mut mixed = vec![dropped[0].clone()];
    mixed.push(item("event", event(&id, "boom", &commit)));
    mixed.push(dropped[2].clone());
    let head = format!("POST {}?sentry_key={}&sentry_version=7 HTTP/1.1\nHost: cairn.test", p.envelope_path(), p.key);
    let r = send_raw(&app, &head, &envelope(&json!({"event_id": id}), &mixed), true).await;
    assert_eq!(outcome(&r), (200, id.clone()), "{:?}", r.body);
    assert_rate_limits_header(&r);
    assert_eq!(stored_events(&app).await, 1);
    let limits = r.headers["x-sentry-rate-limits"].to_str().unwrap();
    assert!(
        limits.split(',').any(|l| l.trim().starts_with("86400:") && l.contains("transaction") && l.contains("span")),
        "SDKs are told to stop sending what cairn drops: {limits}"
    );
}

#[tokio::test]
async fn a_rate_limited_project_gets_429_with_retry_after_and_the_error_category() {
    let app = TestApp::spawn_with(Options { rate_limit_per_minute: 2, ..Default::default() }).await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("ratelimit");
    let mut answers = Vec::new();
    for n in 1..=3u8 {
        answers.push(post(&app, &p.envelope_path(), &[("x-sentry-auth", &auth)], event_envelope(&format!("{n:032x}"), "boom", &commit)).await);
    }

    assert_eq!(answers.iter().map(|r| r.status).collect::<Vec<_>>(), vec![200, 200, 429]);
    let limited = &answers[2];
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "retry-after {retry}");
    let limits = limited.headers["x-sentry-rate-limits"].to_str().unwrap();
    let error_limit = limits.split(',').map(str::trim).find(|l| l.split(':').nth(1).is_some_and(|c| c.split(';').any(|c| c == "error")));
    assert_eq!(
        error_limit.and_then(|l| l.split(':').next()).and_then(|s| s.parse::<u64>().ok()),
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

    let stored = post(&app, &p.store_path(), &[("x-sentry-auth", &auth), ("content-encoding", "gzip")], gzip(message.to_string().as_bytes())).await;
    let raised = post(&app, &p.store_path(), &[("x-sentry-auth", &auth)], event(&format!("{:032x}", 8), "boom", &commit).to_string()).await;

    assert_eq!(outcome(&stored), (200, format!("{:032x}", 7)), "{:?}", stored.body);
    assert_eq!(outcome(&raised), (200, format!("{:032x}", 8)), "{:?}", raised.body);
    let incidents = incidents_at(&app, &p.session, REPO, &commit).await;
    let by_message = |m: &str| incidents.iter().find(|i| i["error_message"] == m).unwrap_or_else(|| panic!("{m} in {incidents:?}"));
    let msg = by_message("card 4242 declined");
    assert_eq!((&msg["error_type"], &msg["level"], &msg["file_path"]), (&Value::Null, &json!("warning"), &Value::Null));
    let err = by_message("boom");
    assert_eq!((&err["error_type"], &err["file_path"], &err["line_number"]), (&json!("ValueError"), &json!("app/payments.py"), &json!(2)));
}

#[tokio::test]
async fn a_browser_sdk_can_read_the_answer_from_the_apps_origin() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    // As @sentry/browser (and the client side of @sentry/nextjs) posts: a CORS simple request.
    let path = format!("{}?sentry_version=7&sentry_key={}&sentry_client=sentry.javascript.nextjs%2F10.0.0", p.envelope_path(), p.key);
    let headers = [("origin", "https://shop.example.com"), ("content-type", "text/plain;charset=UTF-8")];

    let accepted = post(&app, &path, &headers, event_envelope(&format!("{:032x}", 1), "boom", &sha("browser"))).await;
    let refused = post(&app, &p.envelope_path(), &headers, event_envelope(&format!("{:032x}", 2), "boom", &sha("browser"))).await;

    assert_eq!(outcome(&accepted), (200, format!("{:032x}", 1)), "{:?}", accepted.body);
    assert_eq!(outcome(&refused), (401, "missing_ingest_key".into()), "{:?}", refused.body);
    for r in [&accepted, &refused] {
        assert_eq!(r.headers["access-control-allow-origin"], "*");
        let exposed = r.headers["access-control-expose-headers"].to_str().unwrap();
        assert!(exposed.contains("x-sentry-rate-limits") && exposed.contains("retry-after"), "{exposed}");
    }
}

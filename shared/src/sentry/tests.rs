//! End-to-end replays of real SDK requests, and the public entry points.

use super::*;
use crate::event::Frame;

const PYTHON: &[u8] =
    include_bytes!("../../../../shared/fixtures/sentry/python-sdk-2.75.0/01.body");
const NODE_SESSION: &[u8] =
    include_bytes!("../../../../shared/fixtures/sentry/node-sdk-11.12.0/01.body");
const NODE_EVENT: &[u8] =
    include_bytes!("../../../../shared/fixtures/sentry/node-sdk-11.12.0/02.body");
const PYTHON_HTTP: &str =
    include_str!("../../../../shared/fixtures/sentry/python-sdk-2.75.0/01.http");
const NODE_HTTP: &str = include_str!("../../../../shared/fixtures/sentry/node-sdk-11.12.0/02.http");
const SHA: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const KEY: &str = "cairn_ik_EXAMPLEKEY0123456789abcdefghij";

/// `Content-Encoding` of a captured `.http` request, as the handler would read it.
fn header<'a>(http: &'a str, name: &str) -> Option<&'a str> {
    http.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Decode and parse a captured request the way the ingest handler does.
fn replay(http: &str, body: &[u8]) -> (EnvelopeHeader, Vec<ErrorEvent>) {
    let decoded = decode_body(
        header(http, "content-encoding"),
        body,
        MAX_DECOMPRESSED_BYTES,
    )
    .unwrap_or_else(|e| panic!("decode: {e}"));
    events_from_envelope(&decoded).unwrap_or_else(|e| panic!("parse: {e}"))
}

fn top_in_app(event: &ErrorEvent) -> Option<&Frame> {
    event.frames.iter().rev().find(|f| f.in_app == Some(true))
}

#[test]
fn python_sdk_brotli_envelope() {
    let (envelope, events) = replay(PYTHON_HTTP, PYTHON);
    assert_eq!(
        envelope.event_id.as_deref(),
        Some("465cc9668833467c8ae768bd7c4a1c23")
    );
    assert_eq!(events.len(), 1);
    let event = events.first().cloned().unwrap_or_default();
    assert_eq!(
        event.event_id.as_deref(),
        Some("465cc9668833467c8ae768bd7c4a1c23")
    );
    assert_eq!(event.error_type.as_deref(), Some("ZeroDivisionError"));
    assert_eq!(event.error_message, "division by zero");
    let want = Frame {
        file_path: Some("/srv/checkout-api/app/payments.py".into()),
        module: Some("app.payments".into()),
        function: Some("charge".into()),
        line_number: Some(2),
        column_number: None,
        in_app: Some(true),
    };
    assert_eq!(top_in_app(&event), Some(&want));
    assert_eq!(event.frames.len(), 2);
    assert_eq!(
        event.frames.first().and_then(|f| f.file_path.as_deref()),
        Some("/srv/checkout-api/app/main.py")
    );
    assert_eq!(event.commit_sha.as_deref(), Some(SHA));
    assert_eq!(event.release.as_deref(), Some(SHA));
    assert_eq!(event.environment.as_deref(), Some("production"));
    assert_eq!(event.level.as_deref(), Some("error"));
    assert_eq!(event.platform.as_deref(), Some("python"));
    assert_eq!(
        event.occurred_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-24T05:39:22.473195+00:00")
    );
    // The payload keeps the useful parts, without frame vars or the key echoed in sys.argv.
    let payload = event.payload.to_value().to_string();
    assert!(payload.contains("\"context_line\""));
    assert!(!payload.contains("\"vars\""));
    assert!(!payload.contains(KEY), "ingest key leaked into the payload");
    assert_eq!(
        header(PYTHON_HTTP, "x-sentry-auth")
            .and_then(key_from_auth_header)
            .as_deref(),
        Some(KEY)
    );
}

#[test]
fn node_sdk_chunked_envelope_without_lengths() {
    let (envelope, events) = replay(NODE_HTTP, NODE_EVENT);
    assert_eq!(
        envelope.sdk.and_then(|s| s.name).as_deref(),
        Some("sentry.javascript.node")
    );
    assert_eq!(events.len(), 1);
    let event = events.first().cloned().unwrap_or_default();
    assert_eq!(
        event.event_id.as_deref(),
        Some("474d3101423f4d37954dc413528fa577")
    );
    assert_eq!(event.error_type.as_deref(), Some("TypeError"));
    assert_eq!(
        event.error_message,
        "Cannot read properties of null (reading 'items')"
    );
    let want = Frame {
        file_path: Some("/srv/checkout-api/src/handlers/checkout.js".into()),
        module: Some("handlers:checkout".into()),
        function: Some("priceOf".into()),
        line_number: Some(2),
        column_number: Some(15),
        in_app: Some(true),
    };
    assert_eq!(top_in_app(&event), Some(&want));
    assert_eq!(
        event.frames.first().and_then(|f| f.file_path.as_deref()),
        Some("node:internal/main/run_main_module")
    );
    assert_eq!(event.commit_sha.as_deref(), Some(SHA));
    assert_eq!(event.environment.as_deref(), Some("production"));
    assert_eq!(event.platform.as_deref(), Some("node"));
    assert_eq!(
        event.occurred_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-24T05:39:23.036+00:00")
    );
    let query = NODE_HTTP
        .lines()
        .next()
        .and_then(|l| l.split_once('?'))
        .map(|(_, q)| q);
    let query = query
        .and_then(|q| q.split_whitespace().next())
        .unwrap_or_default();
    assert_eq!(key_from_query(query).as_deref(), Some(KEY));
}

#[test]
fn node_session_envelope_has_no_events() {
    let (envelope, events) = replay(NODE_HTTP, NODE_SESSION);
    assert_eq!(envelope.event_id, None);
    assert!(events.is_empty());
}

#[test]
fn skips_every_non_event_item() {
    let mut body = b"{\"event_id\":\"0123456789abcdef0123456789abcdef\"}\n".to_vec();
    for ty in SKIPPED_ITEM_TYPES.iter().chain(&["error", "something_new"]) {
        // Payloads that are not events must not even be parsed.
        body.extend_from_slice(format!("{{\"type\":\"{ty}\",\"length\":3}}\nnot\n").as_bytes());
    }
    body.extend_from_slice(b"{\"type\":\"event\"}\n{\"message\":\"kept\"}\n");
    let (_, events) = events_from_envelope(&body).unwrap_or_default();
    assert_eq!(events.len(), 1);
    let event = events.first().cloned().unwrap_or_default();
    assert_eq!(event.error_message, "kept");
    assert_eq!(event.error_type, None);
    // The event had no event_id: the envelope header's is used.
    assert_eq!(
        event.event_id.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
}

#[test]
fn event_id_of_the_event_wins_over_the_header() {
    let body = b"{\"event_id\":\"header\"}\n{\"type\":\"event\"}\n{\"event_id\":\"item\"}\n";
    let ids: Vec<Option<String>> = events_from_envelope(body)
        .map(|(_, e)| e.into_iter().map(|e| e.event_id).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![Some("item".to_owned())]);
}

#[test]
fn malformed_envelopes_are_clear_client_errors() {
    let deep_event = format!(
        "{{}}\n{{\"type\":\"event\"}}\n{}{}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    let big_event = format!(
        "{{}}\n{{\"type\":\"event\"}}\n{{\"message\":\"{}\"}}\n",
        "x".repeat(MAX_EVENT_BYTES)
    );
    let cases: Vec<(&str, Vec<u8>, (u16, &str))> = vec![
        ("empty body", Vec::new(), (400, "empty_body")),
        ("only whitespace", b"\n \n".to_vec(), (400, "empty_body")),
        (
            "bad header line",
            b"sentry\n{\"type\":\"event\"}\n{}".to_vec(),
            (400, "invalid_envelope_header"),
        ),
        (
            "item header not json",
            b"{}\n{type:event}\n{}".to_vec(),
            (400, "invalid_item_header"),
        ),
        (
            "length past the end",
            b"{}\n{\"type\":\"event\",\"length\":4096}\n{}".to_vec(),
            (400, "invalid_item_length"),
        ),
        (
            "invalid json item",
            b"{}\n{\"type\":\"event\"}\n{\"exception\":\n".to_vec(),
            (400, "invalid_json"),
        ),
        (
            "event not an object",
            b"{}\n{\"type\":\"event\"}\n[1,2]\n".to_vec(),
            (400, "invalid_event"),
        ),
        (
            "deep event",
            deep_event.into_bytes(),
            (400, "json_too_deep"),
        ),
        (
            "event too large",
            big_event.into_bytes(),
            (413, "event_too_large"),
        ),
    ];
    for (name, body, want) in cases {
        let got = events_from_envelope(&body).map_err(|e| (e.status(), e.code()));
        assert_eq!(got.err(), Some(want), "{name}");
    }
}

#[test]
fn store_bodies() {
    use base64::Engine as _;
    use std::io::Write as _;
    let json = br#"{"event_id":"abc","exception":[{"type":"ValueError","value":"bad"}],"timestamp":1795498763.5}"#;
    let event = event_from_store(json);
    assert_eq!(
        event.as_ref().map(|e| e.error_type.as_deref()),
        Ok(Some("ValueError"))
    );
    assert_eq!(
        event.as_ref().map(|e| e.event_id.as_deref()),
        Ok(Some("abc"))
    );
    let padded = [b"\n  ".as_slice(), json, b"\n"].concat();
    assert_eq!(event_from_store(&padded), event);

    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let packed = zlib
        .write_all(json)
        .and_then(|()| zlib.finish())
        .unwrap_or_default();
    let raven = base64::engine::general_purpose::STANDARD.encode(packed);
    assert_eq!(event_from_store(raven.as_bytes()), event);

    for (body, code) in [
        (&b""[..], "empty_body"),
        (b"  \n", "empty_body"),
        (b"{\"a\":", "invalid_json"),
        (b"!!", "invalid_json"),
    ] {
        assert_eq!(
            event_from_store(body).map_err(|e| e.code()).err(),
            Some(code)
        );
    }
}

#[test]
fn error_codes_and_statuses() {
    let cases = [
        (
            SentryError::PayloadTooLarge { limit: 1 },
            413,
            "payload_too_large",
        ),
        (
            SentryError::UnsupportedEncoding("zstd".into()),
            415,
            "unsupported_content_encoding",
        ),
        (
            SentryError::BadCompression("x".into()),
            400,
            "invalid_compression",
        ),
        (SentryError::EmptyBody, 400, "empty_body"),
        (
            SentryError::InvalidEnvelopeHeader("x".into()),
            400,
            "invalid_envelope_header",
        ),
        (
            SentryError::InvalidItemHeader("x".into()),
            400,
            "invalid_item_header",
        ),
        (
            SentryError::ItemLengthOutOfBounds("x".into()),
            400,
            "invalid_item_length",
        ),
        (
            SentryError::TooManyItems { limit: 1 },
            413,
            "too_many_items",
        ),
        (SentryError::InvalidJson("x".into()), 400, "invalid_json"),
        (SentryError::InvalidEvent("x".into()), 400, "invalid_event"),
        (SentryError::TooDeep { limit: 64 }, 400, "json_too_deep"),
        (
            SentryError::EventTooLarge { limit: 1 },
            413,
            "event_too_large",
        ),
        (SentryError::MissingKey, 401, "missing_sentry_key"),
    ];
    for (error, status, code) in cases {
        assert_eq!((error.status(), error.code()), (status, code));
        let message = error.to_string();
        assert_eq!(
            message.chars().next().map(char::is_lowercase),
            Some(true),
            "{message}"
        );
    }
}

#[test]
fn dsn_in_the_envelope_header() {
    let body = format!("{{\"dsn\":\"https://{KEY}@cairn.example/42\"}}\n");
    let (header, _) = events_from_envelope(body.as_bytes()).unwrap_or_default();
    let key = header.dsn.as_deref().and_then(key_from_dsn);
    assert_eq!(key, Some((KEY.to_owned(), "42".to_owned())));
}

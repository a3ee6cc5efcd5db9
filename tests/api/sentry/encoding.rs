//! Bodies as SDKs send them: every `Content-Encoding`, and the size limits (as sent, once
//! decompressed, per event), with decompression bombs refused while decompressing.

use super::wire::{
    assert_rate_limits_header, brotli_stored, event_envelope, gzip, outcome, post, raw_deflate,
    zlib,
};
use super::{incidents_at, send_raw, stored_events, SentryProject};
use crate::helpers::{sha, TestApp};

const REPO: &str = "acme/checkout-api";

#[tokio::test]
async fn every_content_encoding_is_decoded_and_an_unknown_one_is_a_415() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("encodings");
    let body = |id: &str| event_envelope(id, &format!("bad amount for {id}"), &commit);
    let id = |n: u8| format!("{n:032x}");
    let cases = vec![
        (None, body(&id(1)), (200, id(1))),
        (Some("identity"), body(&id(2)), (200, id(2))),
        (Some("gzip"), gzip(&body(&id(3))), (200, id(3))),
        (Some("x-gzip"), gzip(&body(&id(4))), (200, id(4))),
        (Some("deflate"), zlib(&body(&id(5))), (200, id(5))),
        (Some("deflate"), raw_deflate(&body(&id(6))), (200, id(6))),
        (Some("br"), brotli_stored(&body(&id(7))), (200, id(7))),
        (Some("BR"), brotli_stored(&body(&id(8))), (200, id(8))),
        (
            Some("zstd"),
            body(&id(9)),
            (415, "unsupported_content_encoding".into()),
        ),
        (
            Some("gzip"),
            body(&id(10)),
            (400, "invalid_compression".into()),
        ),
        (
            Some("br"),
            b"\xff\xff\xff\xff not brotli".to_vec(),
            (400, "invalid_compression".into()),
        ),
    ];

    for (encoding, payload, want) in cases {
        let mut headers = vec![
            ("x-sentry-auth", auth.as_str()),
            ("content-type", "application/x-sentry-envelope"),
        ];
        headers.extend(encoding.map(|e| ("content-encoding", e)));
        let r = post(&app, &p.envelope_path(), &headers, payload).await;
        assert_eq!(
            outcome(&r),
            want,
            "content-encoding {encoding:?}: {:?}",
            r.body
        );
    }

    assert_eq!(stored_events(&app).await, 8);
    // Numbers in the message are placeholders for grouping: one incident.
    assert_eq!(incidents_at(&app, &p.session, REPO, &commit).await.len(), 1);
}

#[tokio::test]
async fn oversize_bodies_and_decompression_bombs_are_refused_with_413() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let auth = p.auth_header();
    let commit = sha("limits");
    let big = event_envelope(
        &format!("{:032x}", 1),
        &"x".repeat(1024 * 1024 + 100),
        &commit,
    );
    // 9 MiB of one byte compresses to a few KiB and would decompress past the 8 MiB limit.
    let bomb = vec![b' '; 9 * 1024 * 1024];
    let cases = vec![
        (
            "over 1 MiB as sent",
            None,
            big.clone(),
            (413, "payload_too_large"),
        ),
        (
            "gzip bomb",
            Some("gzip"),
            gzip(&bomb),
            (413, "payload_too_large"),
        ),
        (
            "deflate bomb",
            Some("deflate"),
            zlib(&bomb),
            (413, "payload_too_large"),
        ),
        (
            "one event over 1 MiB, compressed under it",
            Some("gzip"),
            gzip(&big),
            (413, "event_too_large"),
        ),
    ];

    for (what, encoding, body, (status, code)) in cases {
        assert!(
            body.len() < 1024 * 1024 || what == "over 1 MiB as sent",
            "{what}: {} bytes",
            body.len()
        );
        let mut headers = vec![("x-sentry-auth", auth.as_str())];
        headers.extend(encoding.map(|e| ("content-encoding", e)));
        let r = post(&app, &p.envelope_path(), &headers, body).await;
        assert_eq!((r.status, r.code()), (status, code), "{what}: {:?}", r.body);
    }
    // Chunked, so the server only learns the size while reading (as from the Node SDK).
    let head = format!(
        "POST {} HTTP/1.1\nHost: cairn.test\nX-Sentry-Auth: {auth}",
        p.envelope_path()
    );
    let r = send_raw(&app, &head, &big, true).await;
    assert_eq!(
        (r.status, r.code()),
        (413, "payload_too_large"),
        "chunked: {:?}",
        r.body
    );
    assert_rate_limits_header(&r);
    assert_eq!(stored_events(&app).await, 0);
}

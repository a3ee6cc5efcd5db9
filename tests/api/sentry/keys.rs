//! Where the key comes from (`X-Sentry-Auth`, `Authorization: Sentry`, the `sentry_key` query
//! parameter, the envelope `dsn`), what a missing, unknown, revoked or foreign key gets, and the
//! CORS answer browser SDKs need.

use serde_json::json;

use super::wire::{envelope, event, event_envelope, outcome, post};
use super::{stored_events, SentryProject};
use crate::helpers::{sha, TestApp};

const REPO: &str = "acme/checkout-api";

/// One way of sending a key: what it is, the path, the headers, the body, the expected
/// `(status, id or code)`.
type KeyCase<'a> = (
    &'a str,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Vec<u8>,
    (u16, String),
);

#[tokio::test]
async fn the_key_comes_from_the_auth_header_the_query_or_the_envelope_dsn_and_must_fit_the_url() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let other = SentryProject::create(&app, "acme/other-app").await;
    let commit = sha("auth");
    let body = |n: u8| event_envelope(&format!("{n:032x}"), "boom", &commit);
    let with_dsn = |n: u8, dsn: &str| {
        let payload = event(&format!("{n:032x}"), "boom", &commit)
            .to_string()
            .into_bytes();
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
    let cases: Vec<KeyCase<'_>> = vec![
        (
            "X-Sentry-Auth",
            &envelope_path,
            vec![("x-sentry-auth", &auth)],
            body(1),
            (200, format!("{:032x}", 1)),
        ),
        (
            "Authorization: Sentry",
            &envelope_path,
            vec![("authorization", &bearer_style)],
            body(2),
            (200, format!("{:032x}", 2)),
        ),
        (
            "sentry_key query",
            &query_path,
            vec![],
            body(3),
            (200, format!("{:032x}", 3)),
        ),
        (
            "envelope dsn",
            &envelope_path,
            vec![],
            with_dsn(4, &p.dsn),
            (200, format!("{:032x}", 4)),
        ),
        (
            "store + X-Sentry-Auth",
            &store_path,
            vec![("x-sentry-auth", &auth)],
            store_body.into(),
            (200, format!("{:032x}", 6)),
        ),
        (
            "no key",
            &envelope_path,
            vec![],
            body(7),
            (401, "missing_ingest_key".into()),
        ),
        (
            "unknown key",
            &envelope_path,
            vec![("x-sentry-auth", &unknown_auth)],
            body(8),
            (401, "invalid_ingest_key".into()),
        ),
        (
            "another project's key",
            &envelope_path,
            vec![("x-sentry-auth", &other_auth)],
            body(9),
            (403, "project_mismatch".into()),
        ),
        (
            "another project's dsn",
            &envelope_path,
            vec![],
            with_dsn(10, &other.dsn),
            (403, "project_mismatch".into()),
        ),
    ];

    for (what, path, headers, payload, want) in cases {
        let r = post(&app, path, &headers, payload).await;
        assert_eq!(outcome(&r), want, "{what}: {:?}", r.body);
    }

    // Revoked: the key stops working at once.
    let revoke_path = format!("/v1/projects/{}/keys/{}", p.project_id, p.key_id);
    let revoke = app
        .send(
            "DELETE",
            &revoke_path,
            &[("authorization", &format!("Bearer {}", p.session))],
            "",
        )
        .await;
    assert_eq!(revoke.status, 200, "{:?}", revoke.body);
    let r = post(&app, &envelope_path, &[("x-sentry-auth", &auth)], body(11)).await;
    assert_eq!(
        outcome(&r),
        (401, "invalid_ingest_key".into()),
        "revoked key: {:?}",
        r.body
    );
    assert_eq!(
        stored_events(&app).await,
        5,
        "only the accepted events are stored"
    );
}

#[tokio::test]
async fn a_browser_sdk_can_read_the_answer_from_the_apps_origin() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    // As @sentry/browser (and the client side of @sentry/nextjs) posts: a CORS simple request.
    let path = format!(
        "{}?sentry_version=7&sentry_key={}&sentry_client=sentry.javascript.nextjs%2F10.0.0",
        p.envelope_path(),
        p.key
    );
    let headers = [
        ("origin", "https://shop.example.com"),
        ("content-type", "text/plain;charset=UTF-8"),
    ];

    let accepted = post(
        &app,
        &path,
        &headers,
        event_envelope(&format!("{:032x}", 1), "boom", &sha("browser")),
    )
    .await;
    let refused = post(
        &app,
        &p.envelope_path(),
        &headers,
        event_envelope(&format!("{:032x}", 2), "boom", &sha("browser")),
    )
    .await;

    assert_eq!(
        outcome(&accepted),
        (200, format!("{:032x}", 1)),
        "{:?}",
        accepted.body
    );
    assert_eq!(
        outcome(&refused),
        (401, "missing_ingest_key".into()),
        "{:?}",
        refused.body
    );
    for r in [&accepted, &refused] {
        assert_eq!(r.headers["access-control-allow-origin"], "*");
        let exposed = r.headers["access-control-expose-headers"].to_str().unwrap();
        assert!(
            exposed.contains("x-sentry-rate-limits") && exposed.contains("retry-after"),
            "{exposed}"
        );
    }
}

#[tokio::test]
async fn a_bad_key_is_refused_before_the_body_is_decoded_or_parsed() {
    use super::wire::gzip;
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let wrong_key = format!("cairn_ik_{}", "x".repeat(32));
    let wrong_auth = format!("Sentry sentry_key={wrong_key}");
    // ~400 KB of gzip that breaks half way: decoding it would be 400 invalid_compression.
    let mut seed = 0x2545_f491_u32;
    let noise: Vec<u8> = (0..400_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        })
        .collect();
    let mut corrupt = gzip(&noise);
    let half = corrupt.len() / 2;
    corrupt[half..half + 64].fill(0xff);
    // 9 MiB of one byte in a few KiB: decoding it would be 413 payload_too_large.
    let bomb = gzip(&vec![b' '; 9 * 1024 * 1024]);
    // An envelope whose key is only in its header's DSN, followed by the same bomb.
    let dsn_then_bomb = |key: &str| {
        let mut body = format!(
            "{}\n",
            json!({"dsn": format!("http://{key}@127.0.0.1/{}", p.sentry_id)})
        )
        .into_bytes();
        body.extend(vec![b' '; 9 * 1024 * 1024]);
        gzip(&body)
    };
    let envelope_path = p.envelope_path();
    let store_with_wrong_key = format!("{}?sentry_key={wrong_key}", p.store_path());
    let gz = ("content-encoding", "gzip");
    let cases: Vec<KeyCase<'_>> = vec![
        (
            "corrupt gzip, wrong X-Sentry-Auth",
            &envelope_path,
            vec![("x-sentry-auth", &wrong_auth), gz],
            corrupt.clone(),
            (401, "invalid_ingest_key".into()),
        ),
        (
            "gzip bomb, wrong X-Sentry-Auth",
            &envelope_path,
            vec![("x-sentry-auth", &wrong_auth), gz],
            bomb.clone(),
            (401, "invalid_ingest_key".into()),
        ),
        (
            "gzip bomb to store, wrong sentry_key",
            &store_with_wrong_key,
            vec![gz],
            bomb.clone(),
            (401, "invalid_ingest_key".into()),
        ),
        (
            "gzip bomb, no key anywhere",
            &envelope_path,
            vec![gz],
            bomb.clone(),
            (401, "missing_ingest_key".into()),
        ),
        (
            "wrong key in the header line's DSN, then a bomb",
            &envelope_path,
            vec![gz],
            dsn_then_bomb(&wrong_key),
            (401, "invalid_ingest_key".into()),
        ),
        (
            // Authenticated by its header line, the envelope is then decoded in full: a bomb
            // is still refused, as the key's owner sent it.
            "the right key in the header line's DSN, then a bomb",
            &envelope_path,
            vec![gz],
            dsn_then_bomb(&p.key),
            (413, "payload_too_large".into()),
        ),
    ];

    for (what, path, headers, body, expected) in cases {
        assert!(body.len() < 1024 * 1024, "{what}: {} bytes", body.len());
        let r = post(&app, path, &headers, body).await;
        assert_eq!(outcome(&r), expected, "{what}");
    }
    let native = app
        .send(
            "POST",
            "/v1/events",
            &[("authorization", &format!("Bearer {wrong_key}")), gz],
            corrupt,
        )
        .await;
    assert_eq!((native.status, native.code()), (401, "invalid_ingest_key"));
    assert_eq!(stored_events(&app).await, 0);
}

#[tokio::test]
async fn a_browser_preflight_is_answered_so_an_sdk_with_extra_headers_can_post() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    // What Chrome sends before @sentry/browser's fetch when the SDK was given
    // `transportOptions: {headers: {"x-tenant": "eu"}}`: no key, no body.
    let asked = "content-type,x-tenant";
    let preflight = |path: String, request_headers: &'static str| {
        let app = &app;
        async move {
            app.send(
                "OPTIONS",
                &path,
                &[
                    ("origin", "https://shop.example.com"),
                    ("access-control-request-method", "POST"),
                    ("access-control-request-headers", request_headers),
                ],
                "",
            )
            .await
        }
    };
    let store_path = p.envelope_path().replace("/envelope/", "/store/");
    for path in [
        p.envelope_path(),
        store_path,
        "/api/999999/envelope/".to_owned(),
    ] {
        let r = preflight(path.clone(), asked).await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.raw);
        assert_eq!(r.headers["access-control-allow-origin"], "*", "{path}");
        let methods = r.headers["access-control-allow-methods"].to_str().unwrap();
        assert!(methods.contains("POST"), "{path}: {methods}");
        assert_eq!(r.headers["access-control-allow-headers"], asked, "{path}");
        assert_eq!(r.headers["access-control-max-age"], "3600", "{path}");
        assert!(r.raw.is_empty(), "{path}");
    }
    // A list that is not header names is not echoed: the SDK's own headers are allowed instead.
    let odd = preflight(p.envelope_path(), "x-a;b=c").await;
    assert_eq!(odd.status, 200);
    let allowed = odd.headers["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(
        allowed.contains("content-type") && allowed.contains("x-sentry-auth"),
        "{allowed}"
    );

    // Then the POST itself, with the extra header, as the browser sends it after the preflight.
    let path = format!("{}?sentry_key={}", p.envelope_path(), p.key);
    let r = post(
        &app,
        &path,
        &[
            ("origin", "https://shop.example.com"),
            ("content-type", "application/x-sentry-envelope"),
            ("x-tenant", "eu"),
        ],
        event_envelope(&format!("{:032x}", 7), "boom", &sha("preflight")),
    )
    .await;
    assert_eq!(outcome(&r), (200, format!("{:032x}", 7)), "{:?}", r.body);
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    assert_eq!(stored_events(&app).await, 1);
}

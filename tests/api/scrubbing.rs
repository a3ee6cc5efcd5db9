//! What a stored event keeps: credentials, cookies, secrets and end users' emails are replaced
//! with `[Filtered]` before storage, IP addresses are removed unless the project opts in, native
//! payloads are trimmed like Sentry's, and end users are counted by a keyed hash.

use serde_json::{json, Value};

use crate::helpers::{sha, TestApp};
use crate::sentry::SentryProject;

const REPO: &str = "acme/checkout-api";

/// Secrets an SDK sends about a request and its user, none of which may be stored.
const SECRETS: &[&str] = &[
    "Bearer eyJsecretJWT",
    "sid=cookie-secret",
    "hunter2",
    "sk_live_secret",
    "ann@example.com",
    "api-key-secret",
    "gho_query_token",
];

fn sentry_event(event_id: &str, ip: &str) -> Value {
    json!({
        "event_id": event_id, "level": "error", "platform": "python", "release": sha("scrub"),
        "environment": "production",
        "exception": {"values": [{"type": "ValueError", "value": "card declined", "stacktrace": {"frames": [
            {"abs_path": "/srv/checkout-api/app/payments.py", "function": "charge", "lineno": 2, "in_app": true}
        ]}}]},
        "request": {
            "url": "https://shop.example.com/pay?token=gho_query_token&step=2",
            "method": "POST",
            "headers": {"Authorization": "Bearer eyJsecretJWT", "Cookie": "sid=cookie-secret",
                        "X-Api-Key": "api-key-secret", "X-Forwarded-For": ip, "User-Agent": "curl/8"},
            "cookies": {"sid": "cookie-secret"},
            "data": {"card": "4242", "password": "hunter2"},
            "env": {"REMOTE_ADDR": ip}
        },
        "extra": {"stripe": {"secret_key": "sk_live_secret"}},
        "user": {"id": "user-17", "email": "ann@example.com", "ip_address": ip}
    })
}

async fn stored_payloads(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select payload::text from incident_events order by received_at")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sentry_event_is_stored_without_credentials_cookies_secrets_emails_or_ips() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;

    let r = app
        .send(
            "POST",
            &p.store_path(),
            &[
                ("x-sentry-auth", &p.auth_header()),
                ("content-type", "application/json"),
            ],
            sentry_event(&format!("{:032x}", 1), "203.0.113.9").to_string(),
        )
        .await;

    assert_eq!(r.status, 200, "{:?}", r.body);
    let payload = stored_payloads(&app).await.pop().unwrap();
    for secret in SECRETS.iter().chain(&["203.0.113.9"]) {
        assert!(!payload.contains(secret), "{secret} was stored: {payload}");
    }
    let doc: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(doc["request"]["headers"]["Authorization"], "[Filtered]");
    assert_eq!(doc["request"]["headers"]["User-Agent"], "curl/8");
    assert_eq!(
        doc["request"]["url"],
        "https://shop.example.com/pay?token=[Filtered]&step=2"
    );
    assert_eq!(doc["request"]["data"]["card"], "4242");
    assert_eq!(doc["user"], json!({"id": "user-17", "email": "[Filtered]"}));
    assert_eq!(doc["exception"]["values"][0]["value"], "card declined");
}

#[tokio::test]
async fn a_project_keeps_ip_addresses_only_once_an_admin_opts_in() {
    let app = TestApp::spawn().await;
    let p = SentryProject::create(&app, REPO).await;
    let reader = app.sign_in(77, "reader").await;
    app.github.grant("reader", REPO, "read");
    let path = format!("/v1/projects/{}", p.project_id);
    let patch = |session: &str, body: Value| {
        let app = &app;
        let path = path.clone();
        let session = session.to_owned();
        async move {
            app.send(
                "PATCH",
                &path,
                &[
                    ("authorization", &format!("Bearer {session}")),
                    ("content-type", "application/json"),
                ],
                body.to_string(),
            )
            .await
        }
    };
    let send = |n: u8| {
        let app = &app;
        let p = &p;
        async move {
            app.send(
                "POST",
                &p.store_path(),
                &[("x-sentry-auth", &p.auth_header())],
                sentry_event(&format!("{n:032x}"), "198.51.100.4").to_string(),
            )
            .await
        }
    };

    let before = app.get(&path, &p.session).await;
    assert_eq!(send(1).await.status, 200);
    let by_reader = patch(&reader, json!({"store_ip_addresses": true})).await;
    let unknown_field = patch(&p.session, json!({"store_ips": true})).await;
    let opted_in = patch(&p.session, json!({"store_ip_addresses": true})).await;
    // Within the key cache's second, the old setting may still apply.
    tokio::time::sleep(shared::ingest::key::KEY_CACHE_TTL).await;
    assert_eq!(send(2).await.status, 200);

    assert_eq!(before.body["store_ip_addresses"], false);
    assert_eq!(
        (by_reader.status, by_reader.code()),
        (403, "not_repo_admin")
    );
    assert_eq!(unknown_field.status, 422);
    assert_eq!(opted_in.status, 200, "{:?}", opted_in.body);
    assert_eq!(opted_in.body["store_ip_addresses"], true);
    let payloads = stored_payloads(&app).await;
    assert!(!payloads[0].contains("198.51.100.4"), "{}", payloads[0]);
    let kept: Value = serde_json::from_str(&payloads[1]).unwrap();
    assert_eq!(kept["user"]["ip_address"], "198.51.100.4");
    assert_eq!(
        kept["request"]["headers"]["X-Forwarded-For"],
        "198.51.100.4"
    );
    assert_eq!(
        kept["request"]["headers"]["Cookie"], "[Filtered]",
        "secrets still go"
    );
    let audit = app
        .get(&format!("/v1/projects/{}/audit", p.project_id), &p.session)
        .await;
    assert!(audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "project.ip_addresses_stored"));
}

#[tokio::test]
async fn a_native_event_is_scrubbed_and_trimmed_like_a_sentry_one() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project(REPO).await;
    let key = project["ingest_key"].as_str().unwrap();

    let r = app
        .ingest(
            key,
            &json!({
                "error_message": "boom", "environment": "production", "commit_sha": sha("n"),
                "user_id": "ann@example.com",
                "metadata": {"headers": {"authorization": "Bearer eyJsecretJWT"}, "db_password": "hunter2",
                             "dump": "x".repeat(600 * 1024)},
                "tags": {"api_key": "api-key-secret"}
            }),
        )
        .await;

    assert_eq!(r.status, 202, "{:?}", r.body);
    let payload = stored_payloads(&app).await.pop().unwrap();
    assert!(
        payload.len() <= 256 * 1024,
        "{} bytes stored",
        payload.len()
    );
    for secret in SECRETS {
        assert!(!payload.contains(secret), "{secret} was stored");
    }
    let doc: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(doc["error_message"], "boom");
    assert_eq!(doc["user_id"], "[Filtered]");
    assert_eq!(doc["tags"]["api_key"], "[Filtered]");
    assert!(
        doc.get("metadata").is_none(),
        "the oversized section went first"
    );
}

#[tokio::test]
async fn end_users_are_counted_by_a_hash_keyed_with_the_servers_secret() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project(REPO).await;
    let key = project["ingest_key"].as_str().unwrap();
    let project_id = project["project_id"].as_str().unwrap();

    let r = app
        .ingest(
            key,
            &json!({"error_message": "boom", "environment": "production", "commit_sha": sha("u"),
                    "user_id": "ann@example.com"}),
        )
        .await;
    app.fold().await;

    assert_eq!(r.status, 202);
    let stored: Vec<u8> = sqlx::query_scalar("select user_hash from incident_users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let unkeyed = shared::crypto::sha256(format!("{project_id}:ann@example.com").as_bytes());
    let keyed = shared::scrub::UserHasher::new(&shared::config::SecretKey([42; 32]))
        .hash(project_id, "ann@example.com");
    assert_ne!(
        stored, unkeyed,
        "anyone could recompute an unkeyed hash from a guessed email"
    );
    assert_eq!(stored, keyed);
}

//! The auth matrix for every authenticated route, request limits, and secrets kept out of logs.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{sha, Options, TestApp};

/// Every session-authenticated route with a body that would be valid.
fn session_routes(
    project_id: &str,
    key_id: &str,
    incident_id: &str,
) -> Vec<(&'static str, String, Option<serde_json::Value>)> {
    vec![
        ("GET", "/v1/me".into(), None),
        ("DELETE", "/v1/auth/session".into(), None),
        ("GET", "/v1/incidents?repo=acme/checkout-api".into(), None),
        ("GET", format!("/v1/incidents/{incident_id}"), None),
        (
            "PATCH",
            format!("/v1/incidents/{incident_id}"),
            Some(json!({"status": "resolved"})),
        ),
        ("GET", "/v1/projects".into(), None),
        (
            "POST",
            "/v1/projects".into(),
            Some(json!({"repo": "acme/other"})),
        ),
        ("GET", format!("/v1/projects/{project_id}"), None),
        (
            "POST",
            format!("/v1/projects/{project_id}/keys"),
            Some(json!({})),
        ),
        (
            "DELETE",
            format!("/v1/projects/{project_id}/keys/{key_id}"),
            None,
        ),
    ]
}

#[tokio::test]
async fn every_session_route_refuses_bad_credentials_alike() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap().to_owned();
    let inc = app
        .ingest(
            &key,
            &json!({"error_message": "x", "environment": "p", "commit_sha": sha("c")}),
        )
        .await;
    let incident_id = inc.body["incident_id"].as_str().unwrap().to_owned();
    let expired = app.sign_in(501, "expired").await;
    sqlx::query("update sessions set expires_at = now() - interval '1 minute' where user_id = (select id from users where github_login = 'expired')")
        .execute(&app.pool)
        .await
        .unwrap();
    let revoked = app.sign_in(502, "revoked").await;
    app.send(
        "DELETE",
        "/v1/auth/session",
        &[("authorization", &format!("Bearer {revoked}"))],
        "",
    )
    .await;
    let unknown = format!("cairn_s_{}", "A".repeat(40));
    let bad: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("malformed", Some("Bearer".into())),
        ("wrong scheme", Some(format!("Basic {session}"))),
        ("wrong prefix", Some(format!("Bearer {key}"))),
        ("truncated", Some(format!("Bearer {}", &session[..20]))),
        ("unknown", Some(format!("Bearer {unknown}"))),
        ("expired", Some(format!("Bearer {expired}"))),
        ("revoked", Some(format!("Bearer {revoked}"))),
    ];
    for (method, path, body) in session_routes(
        project["project_id"].as_str().unwrap(),
        project["key_id"].as_str().unwrap(),
        &incident_id,
    ) {
        let mut answers = Vec::new();
        for (what, auth) in &bad {
            let mut headers = vec![("content-type", "application/json")];
            if let Some(a) = auth {
                headers.push(("authorization", a.as_str()));
            }
            let r = app
                .send(
                    method,
                    &path,
                    &headers,
                    body.as_ref().map(|b| b.to_string()).unwrap_or_default(),
                )
                .await;
            assert_eq!(r.status, 401, "{what} on {method} {path}: {:?}", r.body);
            answers.push(r.body["error"]["code"].as_str().unwrap().to_owned());
        }
        // No bearer credential at all is `missing_session`; every credential that is not a live
        // session gets the one answer: nothing tells an expired token from a forged one.
        assert!(
            answers[..3].iter().all(|c| c == "missing_session"),
            "{method} {path}: {answers:?}"
        );
        assert!(
            answers[3..].iter().all(|c| c == "invalid_session"),
            "{method} {path}: {answers:?}"
        );
    }
    // Nothing was changed by any refused request.
    let status: String = sqlx::query_scalar("select status from incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "open");
}

#[tokio::test]
async fn another_tenants_valid_session_gets_the_404_of_a_missing_object() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap().to_owned();
    let inc = app
        .ingest(
            &key,
            &json!({"error_message": "x", "environment": "p", "commit_sha": sha("c")}),
        )
        .await;
    let incident_id = inc.body["incident_id"].as_str().unwrap().to_owned();
    let (other, _) = app.project("globex/shop").await;

    for (method, path, body) in session_routes(
        project["project_id"].as_str().unwrap(),
        project["key_id"].as_str().unwrap(),
        &incident_id,
    ) {
        if matches!(
            path.as_str(),
            "/v1/me" | "/v1/auth/session" | "/v1/projects"
        ) {
            continue;
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = format!("Bearer {other}");
        let mine = app
            .send(
                method,
                &path,
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                body.clone(),
            )
            .await;
        let ghost = path
            .replace(
                project["project_id"].as_str().unwrap(),
                "proj_aaaaaaaaaaaaaaaaaaaa",
            )
            .replace(&incident_id, "inc_aaaaaaaaaaaaaaaaaaaa")
            .replace("acme/checkout-api", "acme/ghost");
        let missing = app
            .send(
                method,
                &ghost,
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                body,
            )
            .await;
        if path == "/v1/projects" {
            continue;
        }
        assert_eq!(mine.status, 404, "{method} {path}: {:?}", mine.body);
        assert_eq!(mine.body, missing.body, "{method} {path} reveals nothing");
    }
    let other_list = app.get("/v1/projects", &other).await;
    assert_eq!(other_list.body["projects"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn oversized_and_slow_requests_are_refused_with_their_codes() {
    let app = TestApp::spawn_with(Options {
        limits: cairn::server::Limits {
            body_timeout: Duration::from_millis(500),
            header_timeout: Duration::from_millis(500),
        },
        ..Default::default()
    })
    .await;
    let addr = app.addr.trim_start_matches("http://").to_owned();

    // Declared too large: refused before reading.
    let big = app
        .send(
            "POST",
            "/v1/events",
            &[("content-type", "application/json")],
            vec![b'x'; 2 * 1024 * 1024],
        )
        .await;
    assert_eq!((big.status, big.code()), (413, "payload_too_large"));

    // A body that stalls: 400 body_timeout once the timeout passes.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"a\":")
        .await
        .unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("answered")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(
        text.starts_with("HTTP/1.1 400") && text.contains("body_timeout"),
        "{text}"
    );

    // Headers that never finish: the connection is closed.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"POST /v1/events HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(r, Ok(0)) || r.is_err() || String::from_utf8_lossy(&buf).contains("408"));

    // Huge headers: refused by the HTTP layer.
    let huge = "a".repeat(1024 * 1024);
    let r = app
        .send("GET", "/healthz", &[("x-big", huge.as_str())], "")
        .await;
    assert!(r.status == 431 || r.status == 400, "{}", r.status);
}

#[tokio::test]
async fn a_flood_of_oversized_chunked_bodies_keeps_memory_bounded() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap().to_owned();
    let rss = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            / 1024
    };
    let before = rss();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let addr = app.addr.trim_start_matches("http://").to_owned();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            // Chunked, no length: the server must stop reading at 1 MiB.
            let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let head = format!("POST /v1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\ntransfer-encoding: chunked\r\n\r\n");
            s.write_all(head.as_bytes()).await.unwrap();
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "y".repeat(64 * 1024));
            for _ in 0..64 {
                if s.write_all(chunk.as_bytes()).await.is_err() {
                    break;
                }
            }
            let mut buf = vec![0; 1024];
            let n = s.read(&mut buf).await.unwrap_or(0);
            String::from_utf8_lossy(&buf[..n]).to_string()
        }));
    }
    for t in tasks {
        let answer = t.await.unwrap();
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 413"),
            "{answer}"
        );
    }
    let grown = rss().saturating_sub(before);
    assert!(
        grown < 256,
        "memory grew by {grown} MiB for 64 × 4 MiB bodies"
    );
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let logs = crate::logs::capture();
    let app = TestApp::spawn().await;
    app.github.add_user(7, "secretive", "gho_SECRET_TOKEN_7");
    app.github
        .add_code("SECRET_OAUTH_CODE", "gho_SECRET_TOKEN_7");
    let login = app.send("GET", "/v1/auth/github/login", &[], "").await;
    let location = url::Url::parse(login.headers["location"].to_str().unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let cookie = login.cookie();
    let cb = app
        .send(
            "GET",
            &format!("/v1/auth/github/callback?code=SECRET_OAUTH_CODE&state={state}"),
            &[("cookie", &cookie)],
            "",
        )
        .await;
    let session = cb.body["session_token"].as_str().unwrap().to_owned();
    app.github.grant("secretive", "acme/checkout-api", "admin");
    let project = app
        .post_json(
            "/v1/projects",
            &session,
            &json!({"repo": "acme/checkout-api"}),
        )
        .await;
    let key = project.body["ingest_key"].as_str().unwrap().to_owned();
    app.ingest(
        &key,
        &json!({"error_message": "x", "environment": "p", "commit_sha": sha("c")}),
    )
    .await;
    app.ingest(
        &key,
        &json!({"error_message": "no commit", "environment": "p"}),
    )
    .await;
    app.send(
        "POST",
        &format!("/api/{}/store/?sentry_key={key}", project.body["sentry_id"]),
        &[],
        "{}",
    )
    .await;
    app.get("/v1/me", &format!("{session}x")).await;
    // An upload token: minted, used, refused with a bad body, revoked, then refused.
    let pid = project.body["project_id"].as_str().unwrap();
    let minted = app
        .post_json(
            &format!("/v1/projects/{pid}/upload-tokens"),
            &session,
            &json!({}),
        )
        .await;
    let upload_token = minted.body["token"].as_str().unwrap().to_owned();
    let org = "/api/0/organizations/acme";
    app.get(&format!("{org}/chunk-upload/"), &upload_token)
        .await;
    app.post_json(
        &format!("{org}/artifactbundle/assemble/"),
        &upload_token,
        &json!({"checksum": "nope", "chunks": []}),
    )
    .await;
    app.send(
        "DELETE",
        &format!(
            "/v1/projects/{pid}/upload-tokens/{}",
            minted.body["token_id"].as_str().unwrap()
        ),
        &[("authorization", &format!("Bearer {session}"))],
        "",
    )
    .await;
    app.get(&format!("{org}/chunk-upload/"), &upload_token)
        .await;
    // The token's payload (URL, org) is public; its secret is what follows the last `_`.
    let upload_secret = upload_token.rsplit_once('_').unwrap().1.to_owned();
    app.send(
        "POST",
        "/v1/auth/token",
        &[],
        json!({"github_token": "gho_SECRET_BAD_TOKEN"}).to_string(),
    )
    .await;
    app.send(
        "DELETE",
        "/v1/auth/session",
        &[("authorization", &format!("Bearer {session}"))],
        "",
    )
    .await;

    let captured = logs.text();
    assert!(
        captured.contains("request refused"),
        "debug logs were captured"
    );
    for secret in [
        key.as_str(),
        session.as_str(),
        "gho_SECRET_TOKEN_7",
        "SECRET_OAUTH_CODE",
        "gho_SECRET_BAD_TOKEN",
        state.as_str(),
        cookie.split_once('=').unwrap().1,
        "test-client-secret",
        upload_token.as_str(),
        upload_secret.as_str(),
    ] {
        assert!(
            !captured.contains(secret),
            "a secret reached the logs: {}…",
            &secret[..8]
        );
    }
}

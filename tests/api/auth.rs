//! Sign-in: the GitHub OAuth web flow, the token exchange, sessions.

use serde_json::json;

use crate::helpers::{Options, TestApp};

async fn login(app: &TestApp, return_to: Option<&str>) -> (String, url::Url) {
    let path = match return_to {
        Some(rt) => format!(
            "/v1/auth/github/login?return_to={}",
            url::form_urlencoded::byte_serialize(rt.as_bytes()).collect::<String>()
        ),
        None => "/v1/auth/github/login".to_owned(),
    };
    let r = app.send("GET", &path, &[], "").await;
    assert_eq!(r.status, 302, "{:?}", r.body);
    let location = url::Url::parse(r.headers["location"].to_str().unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    (state, location)
}

#[tokio::test]
async fn the_oauth_web_flow_issues_a_session() {
    let app = TestApp::spawn().await;
    app.github.add_user(42, "octocat", "gho_token42");
    app.github.add_code("code-1", "gho_token42");

    let (state, location) = login(&app, None).await;
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    let cb = app
        .send(
            "GET",
            &format!("/v1/auth/github/callback?code=code-1&state={state}"),
            &[],
            "",
        )
        .await;

    assert!(location
        .as_str()
        .starts_with(&format!("{}/login/oauth/authorize", app.github.url)));
    assert_eq!(pairs["client_id"], "test-client-id");
    assert_eq!(pairs["code_challenge_method"], "S256");
    assert_eq!(cb.status, 200, "{:?}", cb.body);
    let token = cb.body["session_token"].as_str().unwrap();
    assert!(token.starts_with("cairn_s_"));
    assert_eq!(
        cb.body["user"],
        json!({"github_login": "octocat", "github_id": 42})
    );
    // The PKCE verifier sent to GitHub matches the challenge sent to the browser.
    let verifier = app.github.last_exchange().unwrap()["code_verifier"]
        .as_str()
        .unwrap()
        .to_owned();
    use base64::Engine;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(shared::crypto::sha256(verifier.as_bytes()));
    assert_eq!(pairs["code_challenge"], challenge);
    let me = app.get("/v1/me", token).await;
    assert_eq!(me.body["user"]["github_email"], "octocat@example.com");
    // The GitHub token is stored encrypted, the session only as a hash.
    let (hash, enc): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("select token_hash, github_token_enc from sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(hash, shared::crypto::sha256(token.as_bytes()));
    assert!(!enc.windows(11).any(|w| w == b"gho_token42"));
}

#[tokio::test]
async fn an_oauth_state_works_once_and_bad_codes_are_refused() {
    let app = TestApp::spawn().await;
    app.github.add_user(42, "octocat", "gho_token42");
    app.github.add_code("code-1", "gho_token42");
    let (state, _) = login(&app, None).await;
    let (state2, _) = login(&app, None).await;

    let bad_code = app
        .send(
            "GET",
            &format!("/v1/auth/github/callback?code=wrong&state={state2}"),
            &[],
            "",
        )
        .await;
    let ok = app
        .send(
            "GET",
            &format!("/v1/auth/github/callback?code=code-1&state={state}"),
            &[],
            "",
        )
        .await;
    let replay = app
        .send(
            "GET",
            &format!("/v1/auth/github/callback?code=code-1&state={state}"),
            &[],
            "",
        )
        .await;
    let unknown = app
        .send(
            "GET",
            "/v1/auth/github/callback?code=code-1&state=nope",
            &[],
            "",
        )
        .await;
    let denied = app
        .send(
            "GET",
            "/v1/auth/github/callback?error=access_denied&state=x",
            &[],
            "",
        )
        .await;

    assert_eq!(
        (bad_code.status, bad_code.code()),
        (400, "invalid_oauth_code")
    );
    assert_eq!(ok.status, 200);
    assert_eq!((replay.status, replay.code()), (400, "invalid_oauth_state"));
    assert_eq!(
        (unknown.status, unknown.code()),
        (400, "invalid_oauth_state")
    );
    assert_eq!((denied.status, denied.code()), (400, "oauth_access_denied"));
}

#[tokio::test]
async fn an_expired_state_is_refused() {
    let app = TestApp::spawn().await;
    app.github.add_user(42, "octocat", "gho_token42");
    app.github.add_code("code-1", "gho_token42");
    let (state, _) = login(&app, None).await;
    sqlx::query("update oauth_states set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();

    let r = app
        .send(
            "GET",
            &format!("/v1/auth/github/callback?code=code-1&state={state}"),
            &[],
            "",
        )
        .await;

    assert_eq!((r.status, r.code()), (400, "invalid_oauth_state"));
}

#[tokio::test]
async fn the_callback_redirects_to_an_allowed_return_to_only() {
    let app = TestApp::spawn().await;
    app.github.add_user(42, "octocat", "gho_token42");
    app.github.add_code("code-1", "gho_token42");
    let (state, _) = login(&app, Some("vscode://cairn.cairn/auth")).await;

    let cb = app
        .send(
            "GET",
            &format!("/v1/auth/github/callback?code=code-1&state={state}"),
            &[],
            "",
        )
        .await;
    let evil = app
        .send(
            "GET",
            "/v1/auth/github/login?return_to=https%3A%2F%2Fevil.example%2F",
            &[],
            "",
        )
        .await;

    assert_eq!(cb.status, 302);
    let loc = cb.headers["location"].to_str().unwrap();
    assert!(
        loc.starts_with("vscode://cairn.cairn/auth?session_token=cairn_s_"),
        "{loc}"
    );
    assert_eq!((evil.status, evil.code()), (422, "return_to_not_allowed"));
}

#[tokio::test]
async fn sign_in_without_github_configured_is_a_503_with_a_code() {
    let app = TestApp::spawn_with(Options {
        github_configured: false,
        ..Default::default()
    })
    .await;

    let r = app.send("GET", "/v1/auth/github/login", &[], "").await;

    assert_eq!((r.status, r.code()), (503, "github_not_configured"));
}

#[tokio::test]
async fn a_github_token_is_traded_for_a_session_and_sign_out_ends_it() {
    let app = TestApp::spawn().await;
    let session = app.sign_in(5, "dev").await;

    let me = app.get("/v1/me", &session).await;
    let bad = app
        .send(
            "POST",
            "/v1/auth/token",
            &[("content-type", "application/json")],
            json!({"github_token": "gho_wrong"}).to_string(),
        )
        .await;
    let out = app
        .send(
            "DELETE",
            "/v1/auth/session",
            &[("authorization", &format!("Bearer {session}"))],
            "",
        )
        .await;
    let after = app.get("/v1/me", &session).await;

    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"]["github_login"], "dev");
    assert_eq!((bad.status, bad.code()), (401, "invalid_github_token"));
    assert_eq!(out.status, 204);
    assert_eq!((after.status, after.code()), (401, "invalid_session"));
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let app = TestApp::spawn().await;
    let session = app.sign_in(5, "dev").await;
    sqlx::query("update sessions set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();

    let r = app.get("/v1/me", &session).await;

    assert_eq!((r.status, r.code()), (401, "invalid_session"));
}

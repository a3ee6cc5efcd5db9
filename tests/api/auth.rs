//! Sign-in: the GitHub OAuth web flow, the token exchange, sessions.

use serde_json::json;

use crate::helpers::{Options, TestApp, TestResponse};

/// Starts a browser sign-in: the state sent to GitHub, GitHub's authorize URL, and the cookie
/// the browser got (`name=value`, as it sends it back).
async fn login(app: &TestApp, return_to: Option<&str>) -> (String, url::Url, String) {
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
    (state, location, r.cookie())
}

/// GitHub sends the browser back: the callback with `code` and `state`, and the browser's cookie.
async fn callback(app: &TestApp, code: &str, state: &str, cookie: Option<&str>) -> TestResponse {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    app.send(
        "GET",
        &format!("/v1/auth/github/callback?code={code}&state={state}"),
        &headers,
        "",
    )
    .await
}

#[tokio::test]
async fn the_oauth_web_flow_issues_a_session() {
    let app = TestApp::spawn().await;
    app.github.add_user(42, "octocat", "gho_token42");
    app.github.add_code("code-1", "gho_token42");

    let (state, location, cookie) = login(&app, None).await;
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    let cb = callback(&app, "code-1", &state, Some(&cookie)).await;

    assert!(location
        .as_str()
        .starts_with(&format!("{}/login/oauth/authorize", app.github.url)));
    assert_eq!(pairs["client_id"], "test-client-id");
    assert_eq!(pairs["code_challenge_method"], "S256");
    assert_eq!(cb.status, 200, "{:?}", cb.body);
    assert_eq!(cb.headers["cache-control"], "no-store");
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
    let (state, _, cookie) = login(&app, None).await;
    let (state2, _, cookie2) = login(&app, None).await;

    let bad_code = callback(&app, "wrong", &state2, Some(&cookie2)).await;
    let ok = callback(&app, "code-1", &state, Some(&cookie)).await;
    let replay = callback(&app, "code-1", &state, Some(&cookie)).await;
    let unknown = callback(&app, "code-1", "nope", Some(&cookie)).await;
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
    let (state, _, cookie) = login(&app, None).await;
    sqlx::query("update oauth_states set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();

    let r = callback(&app, "code-1", &state, Some(&cookie)).await;

    assert_eq!((r.status, r.code()), (400, "invalid_oauth_state"));
}

#[tokio::test]
async fn the_callback_hands_the_token_to_an_allowed_return_to_in_its_fragment_only() {
    let app = TestApp::spawn().await;
    app.github.add_user(42, "octocat", "gho_token42");
    app.github.add_code("code-1", "gho_token42");
    let (state, _, cookie) = login(&app, Some("vscode://cairn.cairn/auth?from=login")).await;

    let cb = callback(&app, "code-1", &state, Some(&cookie)).await;

    assert_eq!(cb.status, 302);
    assert_eq!(cb.headers["cache-control"], "no-store");
    let loc = url::Url::parse(cb.headers["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        (loc.scheme(), loc.host_str()),
        ("vscode", Some("cairn.cairn"))
    );
    assert_eq!(
        loc.query(),
        Some("from=login"),
        "never the token in the query"
    );
    let fragment: std::collections::HashMap<_, _> =
        url::form_urlencoded::parse(loc.fragment().unwrap().as_bytes())
            .into_owned()
            .collect();
    let token = &fragment["session_token"];
    assert!(token.starts_with("cairn_s_"), "{loc}");
    assert!(fragment.contains_key("expires_at"));
    assert_eq!(app.get("/v1/me", token).await.status, 200);
}

#[tokio::test]
async fn only_the_configured_editor_extension_and_origins_may_receive_a_token() {
    let app = TestApp::spawn().await;
    let try_return_to = |rt: &'static str| {
        let app = &app;
        async move {
            let path = format!(
                "/v1/auth/github/login?return_to={}",
                url::form_urlencoded::byte_serialize(rt.as_bytes()).collect::<String>()
            );
            let r = app.send("GET", &path, &[], "").await;
            (r.status, r.code().to_owned())
        }
    };

    for allowed in [
        "vscode://cairn.cairn/auth",
        "vscode-insiders://cairn.cairn/auth",
        "vscode://Cairn.Cairn/auth",
        "http://localhost:5173/signed-in",
    ] {
        assert_eq!(try_return_to(allowed).await.0, 302, "{allowed}");
    }
    for refused in [
        "vscode://attacker.evil-ext/cb",
        "vscode://cairn.cairn.evil/cb",
        "vscode-insiders://attacker.evil-ext/cb",
        "https://evil.example/",
        "http://user:pass@localhost:5173/",
        "javascript:alert(1)",
        "cursor://cairn.cairn/auth",
    ] {
        assert_eq!(
            try_return_to(refused).await,
            (422, "return_to_not_allowed".to_owned()),
            "{refused}"
        );
    }
}

#[tokio::test]
async fn a_sign_in_started_elsewhere_cannot_be_finished_in_another_browser() {
    // The attacker starts a sign-in that would send the token to their own handler, and hands
    // the victim GitHub's authorize link; the victim's browser comes back without the cookie.
    let app = TestApp::spawn().await;
    app.github.add_user(42, "victim", "gho_victim");
    app.github.add_code("victims-code", "gho_victim");
    let (state, _, attackers_cookie) = login(&app, Some("vscode://cairn.cairn/auth")).await;
    let (_, _, victims_own_cookie) = login(&app, None).await;

    let without_cookie = callback(&app, "victims-code", &state, None).await;
    let with_another_cookie =
        callback(&app, "victims-code", &state, Some(&victims_own_cookie)).await;
    let then_the_attacker = callback(&app, "victims-code", &state, Some(&attackers_cookie)).await;

    assert_eq!(
        (without_cookie.status, without_cookie.code()),
        (400, "oauth_browser_mismatch")
    );
    assert!(without_cookie.headers.get("location").is_none());
    // The first try used the state up: nothing is left to finish, with any cookie.
    assert_eq!(
        (with_another_cookie.status, with_another_cookie.code()),
        (400, "invalid_oauth_state")
    );
    assert_eq!(
        (then_the_attacker.status, then_the_attacker.code()),
        (400, "invalid_oauth_state")
    );
    assert!(
        app.github.last_exchange().is_none(),
        "the code was never exchanged"
    );
    let sessions: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    // Every callback answer clears the binding cookie.
    assert!(without_cookie
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("cairn_oauth=;") && c.contains("Max-Age=0")));
}

#[tokio::test]
async fn the_binding_cookie_is_http_only_same_site_lax_and_lives_as_long_as_the_state() {
    let app = TestApp::spawn().await;

    let r = app.send("GET", "/v1/auth/github/login", &[], "").await;

    let set = r.set_cookies();
    assert_eq!(set.len(), 1, "{set:?}");
    let attrs: Vec<&str> = set[0].split(';').map(str::trim).collect();
    // Plain http (a local server): browsers refuse `__Host-` and `Secure` there; over https the
    // cookie is `__Host-cairn_oauth` and `Secure` (see shared::auth::oauth's unit tests).
    assert!(attrs[0].starts_with("cairn_oauth="), "{attrs:?}");
    for a in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=600"] {
        assert!(attrs.contains(&a), "{a} missing: {attrs:?}");
    }
    assert!(
        !attrs.iter().any(|a| a.starts_with("Domain")),
        "host-only: {attrs:?}"
    );
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

#[tokio::test]
async fn sign_in_routes_are_limited_per_client_address_with_retry_after() {
    let app = TestApp::spawn().await;
    app.github.add_user(5, "dev", "gho_dev");
    let token = |forwarded_for: &'static str| {
        let app = &app;
        async move {
            app.send(
                "POST",
                "/v1/auth/token",
                &[
                    ("content-type", "application/json"),
                    ("x-forwarded-for", forwarded_for),
                ],
                json!({"github_token": "gho_dev"}).to_string(),
            )
            .await
        }
    };
    let login = |forwarded_for: &'static str| {
        let app = &app;
        async move {
            app.send(
                "GET",
                "/v1/auth/github/login",
                &[("x-forwarded-for", forwarded_for)],
                "",
            )
            .await
        }
    };

    // The limit is per clock minute: 62 calls (each token call asks the fake GitHub) must not
    // straddle two windows, even on a loaded machine.
    crate::helpers::within_one_minute(45).await;
    for _ in 0..30 {
        assert_eq!(token("198.51.100.1").await.status, 200);
        assert_eq!(login("198.51.100.1").await.status, 302);
    }
    let calls_to_github = app.github.count("GET /user");
    // The server counts the address that connected: a client's own X-Forwarded-For changes
    // nothing (only API Gateway's last entry is trusted, on Lambda).
    let token_over = token("198.51.100.2").await;
    let login_over = login("198.51.100.3").await;

    for over in [&token_over, &login_over] {
        assert_eq!((over.status, over.code()), (429, "rate_limited"));
        let retry: u64 = over.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
    assert_eq!(
        app.github.count("GET /user"),
        calls_to_github,
        "no GitHub call past the limit"
    );
    let states: i64 = sqlx::query_scalar("select count(*) from oauth_states")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(states, 30, "no state row past the limit");
}

#[tokio::test]
async fn expired_sign_in_states_are_swept_by_the_next_sign_in() {
    let app = TestApp::spawn().await;
    login(&app, None).await;
    sqlx::query("update oauth_states set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();

    login(&app, None).await;

    let (left, longest): (i64, Option<f64>) = sqlx::query_as(
        "select count(*), max(extract(epoch from expires_at - now()))::float8 from oauth_states",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(left, 1, "only the live state is left");
    assert!(
        longest.unwrap() <= 600.0,
        "a state lives at most ten minutes"
    );
}

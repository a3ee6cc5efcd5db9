//! The oauth-callback function as Lambda runs it: its binary polling a Runtime API, fed API
//! Gateway HTTP API events (see `tests/lambda/`).

#[path = "../../../tests/lambda/emulator.rs"]
mod emulator;
#[path = "../../../tests/lambda/harness.rs"]
mod harness;

use emulator::http_api_event;
use harness::{assert_error, Function, SECRET_KEY};

fn binary() -> String {
    harness::binary("oauth-callback", env!("CARGO_BIN_EXE_oauth-callback"))
}

#[tokio::test]
async fn oauth_callback_binary_redirects_to_github_with_a_stored_state() {
    let db_url = harness::fresh_database().await;
    let function = Function::start_with(
        &binary(),
        &[
            ("DATABASE_URL", &db_url),
            ("CAIRN_SECRET_KEY", SECRET_KEY),
            ("CAIRN_PUBLIC_URL", "https://errors.example.com"),
            ("GITHUB_CLIENT_ID", "Iv1.runtime"),
            ("GITHUB_CLIENT_SECRET", "not-a-real-secret"),
            ("GITHUB_OAUTH_URL", "https://github.example.com"),
        ],
    )
    .await;

    let resp = function
        .invoke(http_api_event(
            "GET",
            "GET /v1/auth/github/login",
            "/v1/auth/github/login",
            &[],
            &[],
            None,
            false,
        ))
        .await;

    assert_eq!(resp["statusCode"], 302, "{resp}");
    assert_eq!(resp["isBase64Encoded"], false);
    assert!(resp["body"].is_null() || resp["body"] == "", "{resp}");
    let location =
        url::Url::parse(resp["headers"]["location"].as_str().expect("a location")).unwrap();
    assert_eq!(location.host_str(), Some("github.example.com"));
    assert_eq!(location.path(), "/login/oauth/authorize");
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("client_id").map(String::as_str),
        Some("Iv1.runtime")
    );
    assert!(query.contains_key("state"), "{location}");
    // Over https the sign-in is bound to the browser by a `__Host-` cookie (HTTP API v2 sends
    // it in `cookies`).
    let cookies: Vec<&str> = resp["cookies"]
        .as_array()
        .map(|c| c.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let binding = cookies
        .iter()
        .find(|c| c.starts_with("__Host-cairn_oauth="))
        .unwrap_or_else(|| panic!("a binding cookie: {resp}"));
    for attr in [
        "Path=/",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Max-Age=600",
    ] {
        assert!(binding.split("; ").any(|a| a == attr), "{attr}: {binding}");
    }
    let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
    let stored: i64 = sqlx::query_scalar("select count(*) from oauth_states")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the state is kept for the callback");
}

#[tokio::test]
async fn oauth_callback_binary_says_github_is_not_configured_without_a_client() {
    let function = Function::start(&binary(), &harness::unreachable_database()).await;

    let resp = function
        .invoke(http_api_event(
            "GET",
            "GET /v1/auth/github/login",
            "/v1/auth/github/login",
            &[],
            &[],
            None,
            false,
        ))
        .await;

    assert_error(&resp, 503, "github_not_configured");
}

#[tokio::test]
async fn oauth_callback_binary_answers_503_with_retry_after_when_the_database_is_down() {
    let function = Function::start(&binary(), &harness::unreachable_database()).await;

    let resp = function
        .invoke(http_api_event(
            "GET",
            "GET /healthz",
            "/healthz",
            &[],
            &[],
            None,
            false,
        ))
        .await;

    assert_error(&resp, 503, "database_unavailable");
    assert!(resp["headers"]["retry-after"].is_string(), "{resp}");
}

#[tokio::test]
async fn oauth_callback_binary_never_logs_the_raw_event_even_with_rust_log_trace() {
    // lambda_runtime traces every raw event it receives (`raw JSON event received from
    // Lambda`), headers and all: the binaries drop those events whatever RUST_LOG says.
    let emulator = emulator::Emulator::start().await;
    let mut child = emulator::spawn_function_logged(
        &binary(),
        &emulator,
        &[
            ("DATABASE_URL", &harness::unreachable_database()),
            ("CAIRN_SECRET_KEY", SECRET_KEY),
            ("CAIRN_PUBLIC_URL", "https://errors.example.com"),
            ("RUST_LOG", "trace"),
        ],
    );

    let resp = emulator
        .invoke(
            http_api_event(
                "GET",
                "GET /v1/me",
                "/v1/me",
                &[],
                &[(
                    "authorization",
                    "Bearer cairn_s_RAWEVENTSECRET0123456789abcdefghijklmno",
                )],
                None,
                false,
            ),
            std::time::Duration::from_secs(10),
        )
        .await;
    child.start_kill().unwrap();
    let out = child.wait_with_output().await.unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    assert!(
        matches!(resp, Ok(emulator::Outcome::Response(_))),
        "{resp:?}"
    );
    assert!(!logs.is_empty(), "the function logged at trace");
    assert!(
        !logs.contains("RAWEVENTSECRET"),
        "the raw event reached the logs:\n{logs}"
    );
    assert!(!logs.contains("raw JSON event received"), "{logs}");
}

#[tokio::test]
async fn oauth_callback_binary_limits_sign_ins_by_the_address_api_gateway_saw() {
    let db_url = harness::fresh_database().await;
    let function = Function::start_with(
        &binary(),
        &[
            ("DATABASE_URL", &db_url),
            ("CAIRN_SECRET_KEY", SECRET_KEY),
            ("CAIRN_PUBLIC_URL", "https://errors.example.com"),
            ("GITHUB_CLIENT_ID", "Iv1.runtime"),
            ("GITHUB_CLIENT_SECRET", "not-a-real-secret"),
        ],
    )
    .await;
    // API Gateway appends the address that connected to it to X-Forwarded-For; what comes
    // before it is whatever the client sent.
    let login = |forwarded_for: &'static str| {
        function.invoke(http_api_event(
            "GET",
            "GET /v1/auth/github/login",
            "/v1/auth/github/login",
            &[],
            &[("x-forwarded-for", forwarded_for)],
            None,
            false,
        ))
    };

    for i in 0..30 {
        let spoofed = if i % 2 == 0 {
            "192.0.2.1, 198.51.100.9"
        } else {
            "198.51.100.9"
        };
        assert_eq!(login(spoofed).await["statusCode"], 302, "login {i}");
    }
    let over = login("192.0.2.77, 198.51.100.9").await;
    let someone_else = login("198.51.100.10").await;

    assert_error(&over, 429, "rate_limited");
    assert!(over["headers"]["retry-after"].is_string(), "{over}");
    assert_eq!(someone_else["statusCode"], 302, "{someone_else}");
}

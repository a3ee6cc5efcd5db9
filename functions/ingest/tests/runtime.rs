//! The ingest function as Lambda runs it: its binary polling a Runtime API, fed API Gateway HTTP
//! API events. Handler tests never cross this path (event decoding, base64 bodies, the response
//! encoding, init failures).

#[path = "../../../tests/lambda/emulator.rs"]
mod emulator;
#[path = "../../../tests/lambda/harness.rs"]
mod harness;

use std::io::Write;
use std::time::Duration;

use emulator::http_api_event;
use harness::{assert_error, json_body, Function};
use serde_json::json;

fn binary() -> String {
    harness::binary("ingest", env!("CARGO_BIN_EXE_ingest"))
}

/// A project with one live ingest key, written as `POST /v1/projects` would; returns the key.
async fn project_with_key(db_url: &str) -> String {
    let pool = sqlx::PgPool::connect(db_url).await.unwrap();
    let user_id: i64 = sqlx::query_scalar(
        "insert into users (github_id, github_login) values (4242, 'octo') returning id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let repo = shared::domain::RepoFullName::parse("acme/checkout-api").unwrap();
    let (project_id, _) = shared::projects::insert_project(&mut tx, &repo, 1, user_id, None)
        .await
        .unwrap();
    let key = shared::domain::IngestKey::generate();
    sqlx::query("insert into ingest_keys (key_id, project_id, key_hash, prefix) values ('key_runtime', $1, $2, $3)")
        .bind(&project_id)
        .bind(key.hash())
        .bind(key.visible_prefix())
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("insert into api_key_usage (key_id, project_id) values ('key_runtime', $1)")
        .bind(&project_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    key.expose().to_owned()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn ingest_binary_stores_a_gzipped_base64_event_through_the_runtime_api() {
    // Arrange
    let db_url = harness::fresh_database().await;
    let key = project_with_key(&db_url).await;
    let function = Function::start(&binary(), &db_url).await;
    let event = json!({
        "error_message": "division by zero",
        "error_type": "ZeroDivisionError",
        "environment": "production",
        "commit_sha": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
        "event_id": "6f1c0a3e2b6d4f0e9a8b7c6d5e4f3a2b",
        "stack_trace": "Traceback (most recent call last):\n  File \"/var/task/app/payments.py\", line 2, in charge\nZeroDivisionError: division by zero"
    });
    let body = gzip(event.to_string().as_bytes());

    // Act: API Gateway base64-encodes a binary (gzip) body.
    let resp = function
        .invoke(http_api_event(
            "POST",
            "POST /v1/events",
            "/v1/events",
            &[],
            &[
                ("authorization", &format!("Bearer {key}")),
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            Some(&body),
            true,
        ))
        .await;

    // Assert
    assert_eq!(resp["statusCode"], 202, "{resp}");
    assert_eq!(resp["headers"]["content-type"], "application/json");
    assert_eq!(resp["isBase64Encoded"], false);
    let answer = json_body(&resp);
    assert_eq!(answer["event_id"], "6f1c0a3e2b6d4f0e9a8b7c6d5e4f3a2b");
    assert!(
        answer["incident_id"].as_str().unwrap().starts_with("inc_"),
        "{answer}"
    );
    let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
    let (stored, file): (i64, Option<String>) = sqlx::query_as(
        "select (select count(*) from incident_events), (select file_path from incidents limit 1)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 1);
    assert_eq!(file.as_deref(), Some("app/payments.py"));
    assert_eq!(
        function.emulator.taken().len(),
        1,
        "one invocation, one poll answered"
    );
}

#[tokio::test]
async fn ingest_binary_serves_healthz_and_rejects_a_bad_key_on_one_warm_instance() {
    let db_url = harness::fresh_database().await;
    let function = Function::start(&binary(), &db_url).await;

    let health = function
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
    let bad_key = function
        .invoke(http_api_event(
            "POST",
            "POST /v1/events",
            "/v1/events",
            &[],
            &[(
                "authorization",
                "Bearer cairn_ik_0000000000000000000000000000000x",
            )],
            Some(br#"{"error_message": "x", "environment": "production"}"#),
            false,
        ))
        .await;

    assert_eq!(health["statusCode"], 200, "{health}");
    assert_eq!(json_body(&health), json!({"status": "ok"}));
    assert_error(&bad_key, 401, "invalid_ingest_key");
    assert_eq!(
        function.emulator.taken().len(),
        2,
        "the same process served both"
    );
}

#[tokio::test]
async fn ingest_binary_answers_a_sentry_store_request_without_a_key_with_a_401() {
    let function = Function::start(&binary(), &harness::unreachable_database()).await;

    let resp = function
        .invoke(http_api_event(
            "POST",
            "POST /api/{sentry_id}/store/",
            "/api/7/store/",
            &[("sentry_id", "7")],
            &[("content-type", "application/json")],
            Some(br#"{"message": "boom"}"#),
            false,
        ))
        .await;

    assert_eq!(resp["statusCode"], 401, "{resp}");
    assert_eq!(resp["isBase64Encoded"], false);
    assert!(
        resp["headers"]["x-sentry-rate-limits"].is_string(),
        "{resp}"
    );
}

#[tokio::test]
async fn ingest_binary_answers_503_with_retry_after_when_the_database_is_down() {
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
async fn ingest_binary_reports_a_missing_secret_key_to_init_error_and_exits() {
    let mut function = Function::start_with(
        &binary(),
        &[("DATABASE_URL", &harness::unreachable_database())],
    )
    .await;

    let init = function
        .emulator
        .init_error(Duration::from_secs(20))
        .await
        .expect("an init error report");
    let status = tokio::time::timeout(Duration::from_secs(10), function.child.wait())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(init.error_type.as_deref(), Some("Runtime.ConfigError"));
    assert_eq!(init.body["errorType"], "Runtime.ConfigError");
    assert!(
        init.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("CAIRN_SECRET_KEY"),
        "{:?}",
        init.body
    );
    assert!(!status.success());
    assert!(
        function.emulator.first_poll().is_none(),
        "it never asked for an invocation"
    );
}

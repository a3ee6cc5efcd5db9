//! The uploads function as Lambda runs it: its binary polling a Runtime API, fed API Gateway
//! HTTP API events (see `tests/lambda/`). A chunk arrives as API Gateway hands a binary body
//! over: base64-encoded multipart.

#[path = "../../../tests/lambda/emulator.rs"]
mod emulator;
#[path = "../../../tests/lambda/harness.rs"]
mod harness;

use std::io::Write;

use emulator::http_api_event;
use harness::{assert_error, json_body, Function};
use sha1::{Digest, Sha1};
use shared::sourcemaps::tokens::UploadToken;

fn binary() -> String {
    harness::binary("uploads", env!("CARGO_BIN_EXE_uploads"))
}

/// A project with an upload token, written straight into the database; returns the token.
async fn project_with_token(db_url: &str) -> String {
    let pool = sqlx::PgPool::connect(db_url).await.unwrap();
    let user: i64 = sqlx::query_scalar(
        "insert into users (github_id, github_login) values (1, 'admin') returning id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into projects (project_id, owner_id, repo_owner, repo_name, repo_full_name)
         values ('proj_1', $1, 'acme', 'checkout-web', 'acme/checkout-web')",
    )
    .bind(user)
    .execute(&pool)
    .await
    .unwrap();
    let token = UploadToken::generate("https://errors.example.com", "acme", chrono::Utc::now());
    sqlx::query("insert into upload_tokens (token_id, project_id, token_hash) values ('utok_1', 'proj_1', $1)")
        .bind(token.hash())
        .execute(&pool)
        .await
        .unwrap();
    token.expose().to_owned()
}

fn chunk_form(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    let name = hex::encode(Sha1::digest(data));
    let mut body = format!(
        "--b\r\nContent-Disposition: form-data; name=\"file_gzip\"; filename=\"{name}\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&gz.finish().unwrap());
    body.extend_from_slice(b"\r\n--b--\r\n");
    body
}

#[tokio::test]
async fn uploads_binary_takes_a_base64_chunk_with_an_upload_token_on_one_warm_instance() {
    let db_url = harness::fresh_database().await;
    let token = project_with_token(&db_url).await;
    let function = Function::start(&binary(), &db_url).await;
    let auth = format!("Bearer {token}");
    let route = "POST /api/0/organizations/{org}/chunk-upload/";
    let path = "/api/0/organizations/acme/chunk-upload/";
    // The emulator base64-encodes it, as API Gateway does a binary body.
    let form = chunk_form(b"a slice of a bundle");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "multipart/form-data; boundary=b"),
    ];

    let options = function
        .invoke(http_api_event(
            "GET",
            "GET /api/0/organizations/{org}/chunk-upload/",
            path,
            &[("org", "acme")],
            &headers[..1],
            None,
            false,
        ))
        .await;
    let stored = function
        .invoke(http_api_event(
            "POST",
            route,
            path,
            &[("org", "acme")],
            &headers,
            Some(&form),
            true,
        ))
        .await;
    let anonymous = function
        .invoke(http_api_event(
            "POST",
            route,
            path,
            &[("org", "acme")],
            &headers[1..],
            Some(&form),
            true,
        ))
        .await;

    assert_eq!(options["statusCode"], 200, "{options}");
    assert_eq!(json_body(&options)["chunkSize"], 512 * 1024);
    assert_eq!(stored["statusCode"], 200, "{stored}");
    assert_error(&anonymous, 401, "missing_upload_token");
    let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
    let chunks: i64 = sqlx::query_scalar("select count(*) from upload_chunks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(chunks, 1);
}

#[tokio::test]
async fn uploads_binary_answers_503_with_retry_after_when_the_database_is_down() {
    let function = Function::start(&binary(), &harness::unreachable_database()).await;
    let token = UploadToken::generate("https://errors.example.com", "acme", chrono::Utc::now());
    let auth = format!("Bearer {}", token.expose());

    let resp = function
        .invoke(http_api_event(
            "GET",
            "GET /api/0/organizations/{org}/chunk-upload/",
            "/api/0/organizations/acme/chunk-upload/",
            &[("org", "acme")],
            &[("authorization", &auth)],
            None,
            false,
        ))
        .await;

    assert_error(&resp, 503, "database_unavailable");
    assert!(resp["headers"]["retry-after"].is_string(), "{resp}");
}

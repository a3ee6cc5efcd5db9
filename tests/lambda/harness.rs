//! What the runtime-path tests share besides the emulator: a fresh migrated database per test
//! (one throwaway PostgreSQL cluster per test binary, or `DATABASE_URL`'s server when set), the
//! environment a deployed function gets, and a started function binary with its emulator.

#![allow(dead_code)] // each includer uses a different part of it

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use sqlx::Connection;

use crate::emulator::{self, Emulator, Outcome};

/// A secret key as `template.yaml` passes it (64 hex characters).
pub const SECRET_KEY: &str = "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a";
/// How long one invocation may take in a test.
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

struct Cluster {
    base: String,
    template: String,
    _pg: Option<shared::localpg::LocalPostgres>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        // Its own thread and runtime: the caller's runtime may be single-threaded.
        std::thread::spawn(|| {
            let (base, pg) = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
                Some(url) => {
                    let mut u = url::Url::parse(&url).expect("DATABASE_URL is a URL");
                    u.set_path("/");
                    (u.to_string(), None)
                }
                None => {
                    let dir = std::env::temp_dir()
                        .join(format!("cairn-lambda-pg-{}", std::process::id()));
                    let port = shared::localpg::free_port().expect("a free port");
                    let pg = shared::localpg::LocalPostgres::start(&dir, port)
                        .expect("start a throwaway PostgreSQL");
                    pg.stop_when_process_exits(std::process::id());
                    (pg.base_url(), Some(pg))
                }
            };
            let template = format!("cairn_lambda_template_{}", std::process::id());
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&format!("{base}postgres"))
                    .await
                    .expect("connect");
                sqlx::query(&format!("drop database if exists {template}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                sqlx::query(&format!("create database {template}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                let mut conn = sqlx::PgConnection::connect(&format!("{base}{template}"))
                    .await
                    .unwrap();
                shared::db::MIGRATOR
                    .run(&mut conn)
                    .await
                    .expect("migrations apply");
                conn.close().await.unwrap();
            });
            Cluster {
                base,
                template,
                _pg: pg,
            }
        })
        .join()
        .expect("cluster setup")
    })
}

/// A fresh, migrated database; returns its URL.
pub async fn fresh_database() -> String {
    let c = cluster();
    let name = format!(
        "l_{}",
        shared::crypto::random_alphanumeric(12).to_ascii_lowercase()
    );
    let mut admin = sqlx::PgConnection::connect(&format!("{}postgres", c.base))
        .await
        .unwrap();
    for attempt in 0..50 {
        // The template is briefly busy while another test clones it.
        match sqlx::query(&format!("create database {name} template {}", c.template))
            .execute(&mut admin)
            .await
        {
            Ok(_) => break,
            Err(e) if attempt == 49 => panic!("create test database: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    format!("{}{name}", c.base)
}

/// A database URL nothing listens on: every query fails to connect.
pub fn unreachable_database() -> String {
    let port = shared::localpg::free_port().expect("a free port");
    format!("postgres://postgres@127.0.0.1:{port}/cairn")
}

/// A function binary running against its own emulator.
pub struct Function {
    pub emulator: Emulator,
    pub child: tokio::process::Child,
}

impl Function {
    /// Starts `binary` with the environment `template.yaml` gives it, `DATABASE_URL` = `db_url`.
    pub async fn start(binary: &str, db_url: &str) -> Self {
        Self::start_with(
            binary,
            &[
                ("DATABASE_URL", db_url),
                ("CAIRN_SECRET_KEY", SECRET_KEY),
                ("CAIRN_PUBLIC_URL", "https://errors.example.com"),
                ("CAIRN_DB_MAX_CONNECTIONS", "2"),
                ("CAIRN_DB_ACQUIRE_TIMEOUT_MS", "1500"),
                ("CAIRN_DB_STATEMENT_CACHE", "0"),
            ],
        )
        .await
    }

    /// Starts `binary` with exactly `env` (besides Lambda's reserved variables).
    pub async fn start_with(binary: &str, env: &[(&str, &str)]) -> Self {
        let emulator = Emulator::start().await;
        let child = emulator::spawn_function(binary, &emulator, env);
        Self { emulator, child }
    }

    /// Sends one HTTP API event; panics unless the function answered through `/response`.
    pub async fn invoke(&self, event: Value) -> Value {
        match self.emulator.invoke(event, INVOKE_TIMEOUT).await {
            Ok(Outcome::Response(v)) => v,
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

/// The JSON body of an API Gateway response.
pub fn json_body(resp: &Value) -> Value {
    serde_json::from_slice(&emulator::response_body(resp)).expect("a JSON body")
}

/// Asserts the response is cairn's JSON error `code` with `status`, sent as text.
pub fn assert_error(resp: &Value, status: u16, code: &str) {
    assert_eq!(resp["statusCode"], status, "{resp}");
    assert_eq!(
        resp["headers"]["content-type"], "application/json",
        "{resp}"
    );
    assert_eq!(
        resp["isBase64Encoded"], false,
        "JSON goes out as text: {resp}"
    );
    assert_eq!(json_body(resp)["error"]["code"], code, "{resp}");
}

/// The function binary to run: `$CAIRN_LAMBDA_BIN_DIR/<name>` when set (e.g. `target/release`,
/// to run these tests against release builds), else the one cargo built for this test.
pub fn binary(name: &str, built_for_this_test: &str) -> String {
    match std::env::var("CAIRN_LAMBDA_BIN_DIR") {
        Ok(dir) if !dir.is_empty() => std::path::Path::new(&dir)
            .join(name)
            .to_string_lossy()
            .into_owned(),
        _ => built_for_this_test.to_owned(),
    }
}

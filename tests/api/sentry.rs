//! The Sentry protocol (`POST /api/{sentry_id}/envelope/` and `/store/`): official Sentry SDKs
//! must work against cairn unmodified. Replays of captured SDK requests (`fixtures`), the real
//! SDKs end to end (`sdks`), and table tests of the protocol's edges (`encoding`, `keys`,
//! `malformed`, `items`, with requests built by `wire`).
//!
//! Requests go over a real TCP connection to the real local server; some are written byte by
//! byte ([`send_raw`]) so a test can send exactly what an SDK sends (chunked, no length).

mod encoding;
mod fixtures;
mod items;
mod keys;
mod malformed;
mod sdks;
mod wire;

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, TestResponse};

/// The commit every fixture was captured at (the SDKs' `release`).
pub const FIXTURE_COMMIT: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

/// A project set up as a user would: created through `POST /v1/projects`.
pub struct SentryProject {
    /// The admin's cairn session (can read the repo's incidents).
    pub session: String,
    pub project_id: String,
    pub key_id: String,
    pub key: String,
    pub sentry_id: i64,
    /// The DSN the project route returned.
    pub dsn: String,
}

impl SentryProject {
    pub async fn create(app: &TestApp, repo: &str) -> Self {
        let (session, body) = app.project(repo).await;
        let text = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in {body}"))
                .to_owned()
        };
        Self {
            session,
            project_id: text("project_id"),
            key_id: text("key_id"),
            key: text("ingest_key"),
            sentry_id: body["sentry_id"].as_i64().expect("sentry_id"),
            dsn: text("dsn"),
        }
    }

    pub fn envelope_path(&self) -> String {
        format!("/api/{}/envelope/", self.sentry_id)
    }

    pub fn store_path(&self) -> String {
        format!("/api/{}/store/", self.sentry_id)
    }

    /// `X-Sentry-Auth` as the Python SDK writes it.
    pub fn auth_header(&self) -> String {
        format!(
            "Sentry sentry_key={}, sentry_version=7, sentry_client=sentry.python/2.75.0",
            self.key
        )
    }
}

/// The open incidents of `repo` seen at `commit`, as the VS Code extension asks for them.
pub async fn incidents_at(app: &TestApp, session: &str, repo: &str, commit: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/v1/incidents?repo={repo}&commit={commit}"),
            session,
        )
        .await;
    assert_eq!(r.status, 200, "list incidents: {:?}", r.body);
    r.body["incidents"]
        .as_array()
        .expect("incidents array")
        .clone()
}

/// The fields of an incident that locate it for the IDE, for one `assert_eq!`.
pub fn location(incident: &Value) -> Value {
    json!({
        "error_type": incident["error_type"],
        "error_message": incident["error_message"],
        "file_path": incident["file_path"],
        "line_number": incident["line_number"],
        "column_number": incident["column_number"],
        "function": incident["function"],
        "commit_sha": incident["commit_sha"],
    })
}

/// How many events were stored (all projects).
pub async fn stored_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Sends one HTTP/1.1 request written by hand on a new connection: `head` is the request line
/// and headers (`\n`-separated, without `Content-Length`, `Transfer-Encoding` or `Connection`).
/// With `chunked`, the body goes in several chunks without a `Content-Length`, as the Node SDK
/// sends it; otherwise with a `Content-Length`.
pub async fn send_raw(app: &TestApp, head: &str, body: &[u8], chunked: bool) -> TestResponse {
    let addr = app.addr.trim_start_matches("http://");
    let mut request = Vec::new();
    for line in head.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        request.extend_from_slice(line.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"Connection: close\r\n");
    if chunked {
        request.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for chunk in body.chunks(700) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
    } else {
        request.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(body);
    }
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to cairn");
        stream.write_all(&request).await.expect("send the request");
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .expect("read the answer");
        answer
    };
    let answer = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .expect("answer within 30 s");
    parse_response(&answer)
}

/// Parses an HTTP/1.1 answer (`Content-Length` or chunked body).
fn parse_response(answer: &[u8]) -> TestResponse {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the answer's headers");
    let head = std::str::from_utf8(&answer[..split]).expect("ascii headers");
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let mut headers = hyper::HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("header line");
        headers.append(
            hyper::header::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    let mut body = answer[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked")
    {
        body = dechunk(&body);
    }
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    TestResponse {
        status,
        headers,
        body: json,
        raw: body.into(),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

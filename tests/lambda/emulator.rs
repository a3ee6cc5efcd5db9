//! A Lambda Runtime API emulator: the interface a function binary talks to on Lambda, on a
//! loopback port, so tests and the init benchmark can run the real binary as Lambda would.
//!
//! It speaks the documented Runtime API (2018-06-01): `GET /runtime/invocation/next` (long poll,
//! answered with the event and the `Lambda-Runtime-*` headers), `POST
//! /runtime/invocation/{id}/response`, `POST /runtime/invocation/{id}/error` and `POST
//! /runtime/init/error`. Events are API Gateway HTTP API (payload 2.0) requests built from
//! `events/http-api-v2.json`. Shared by the function crates' `tests/runtime.rs` and
//! `benches/lambda-init` through `#[path]`.

#![allow(dead_code)] // each includer uses a different part of it

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Notify};

/// The ARN every invocation claims to be for.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:cairn-emulated";
/// The X-Ray trace header every invocation carries.
pub const TRACE_ID: &str =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0";
const PREFIX: &str = "/2018-06-01/runtime";

/// What the function did with one invocation.
#[derive(Debug)]
pub enum Outcome {
    /// `POST …/invocation/{id}/response`: the body the function returned.
    Response(Value),
    /// `POST …/invocation/{id}/error`: what a handler `Err` or panic reports.
    Error {
        error_type: Option<String>,
        body: Value,
    },
}

/// What the function reported to `POST /runtime/init/error` before its first poll.
#[derive(Debug, Clone)]
pub struct InitError {
    pub error_type: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct State {
    queue: Mutex<VecDeque<(String, Value)>>,
    queued: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_poll: Mutex<Option<Instant>>,
    /// Request ids the function has taken with `/next`, in order.
    taken: Mutex<Vec<String>>,
}

/// A running emulator; dropped, it stops serving.
pub struct Emulator {
    addr: std::net::SocketAddr,
    state: Arc<State>,
    init_error: watch::Receiver<Option<InitError>>,
    next_id: AtomicU64,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Emulator {
    /// Starts serving on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the runtime API");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State::default());
        let (init_tx, init_error) = watch::channel(None);
        let init_tx = Arc::new(init_tx);
        let task = {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (state, init_tx) = (Arc::clone(&state), Arc::clone(&init_tx));
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| {
                            serve(Arc::clone(&state), Arc::clone(&init_tx), req)
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            })
        };
        Self {
            addr,
            state,
            init_error,
            next_id: AtomicU64::new(1),
            task,
        }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API` (`host:port`, no scheme, as on Lambda).
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    /// When the function first asked for an invocation (its init was over).
    pub fn first_poll(&self) -> Option<Instant> {
        *self.state.first_poll.lock().unwrap()
    }

    /// Request ids the function has taken, in order.
    pub fn taken(&self) -> Vec<String> {
        self.state.taken.lock().unwrap().clone()
    }

    /// Queues `event`, waits for the function's answer (or `Err` after `timeout`, or at once
    /// if the function reports an init error).
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Result<Outcome, String> {
        let id = format!(
            "8476a536-e9f4-11e8-9739-{:012x}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let (tx, rx) = oneshot::channel();
        self.state.waiting.lock().unwrap().insert(id.clone(), tx);
        self.state
            .queue
            .lock()
            .unwrap()
            .push_back((id.clone(), event));
        self.state.queued.notify_one();
        let mut init_error = self.init_error.clone();
        tokio::select! {
            outcome = rx => outcome.map_err(|_| format!("invocation {id} was dropped")),
            reported = init_error.wait_for(Option::is_some) => {
                Err(format!("init error: {:?}", reported.ok().map(|r| r.clone())))
            }
            () = tokio::time::sleep(timeout) => Err(format!("no answer to invocation {id} within {timeout:?}")),
        }
    }

    /// Waits up to `timeout` for a report to `/runtime/init/error`.
    pub async fn init_error(&self, timeout: Duration) -> Option<InitError> {
        let mut rx = self.init_error.clone();
        let got = tokio::time::timeout(timeout, rx.wait_for(Option::is_some)).await;
        got.ok().and_then(|r| r.ok().and_then(|v| v.clone()))
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: Value) -> Reply {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    resp
}

fn accepted() -> Reply {
    reply(StatusCode::ACCEPTED, json!({"status": "OK"}))
}

async fn serve(
    state: Arc<State>,
    init_tx: Arc<watch::Sender<Option<InitError>>>,
    req: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let error_type = req
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body_json = || {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()))
    };
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            json!({"errorMessage": "unknown path"}),
        ));
    };
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    Ok(match (method, parts.as_slice()) {
        (Method::GET, ["invocation", "next"]) => next(&state).await,
        (Method::POST, ["invocation", id, kind @ ("response" | "error")]) => {
            let Some(tx) = state.waiting.lock().unwrap().remove(*id) else {
                return Ok(reply(
                    StatusCode::BAD_REQUEST,
                    json!({"errorMessage": "unknown request id"}),
                ));
            };
            let outcome = if *kind == "response" {
                Outcome::Response(body_json())
            } else {
                Outcome::Error {
                    error_type,
                    body: body_json(),
                }
            };
            let _ = tx.send(outcome);
            accepted()
        }
        (Method::POST, ["init", "error"]) => {
            init_tx.send_replace(Some(InitError {
                error_type,
                body: body_json(),
            }));
            accepted()
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"errorMessage": "unknown path"}),
        ),
    })
}

/// `GET /runtime/invocation/next`: blocks until an event is queued.
async fn next(state: &State) -> Reply {
    state
        .first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    let (id, event) = loop {
        let notified = state.queued.notified();
        if let Some(item) = state.queue.lock().unwrap().pop_front() {
            break item;
        }
        notified.await;
    };
    state.taken.lock().unwrap().push(id.clone());
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(30);
    let mut resp = reply(StatusCode::OK, event);
    let h = resp.headers_mut();
    h.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    h.insert(
        "lambda-runtime-deadline-ms",
        deadline.as_millis().to_string().parse().unwrap(),
    );
    h.insert(
        "lambda-runtime-invoked-function-arn",
        FUNCTION_ARN.parse().unwrap(),
    );
    h.insert("lambda-runtime-trace-id", TRACE_ID.parse().unwrap());
    resp
}

/// An API Gateway HTTP API (payload format 2.0) event for `method` `path_and_query`, as API
/// Gateway sends it: `route_key` is the matched route (`"POST /v1/events"`), `path_params` its
/// variables, and a body that is not UTF-8 text (or `base64`) arrives base64-encoded.
pub fn http_api_event(
    method: &str,
    route_key: &str,
    path_and_query: &str,
    path_params: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    base64: bool,
) -> Value {
    let mut event: Value =
        serde_json::from_str(include_str!("events/http-api-v2.json")).expect("fixture is JSON");
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    event["routeKey"] = json!(route_key);
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["routeKey"] = json!(route_key);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    event["requestContext"]["timeEpoch"] = json!(now.as_millis() as u64);
    if !query.is_empty() {
        let params: serde_json::Map<String, Value> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), json!(v)))
            .collect();
        event["queryStringParameters"] = Value::Object(params);
    }
    if !path_params.is_empty() {
        event["pathParameters"] = path_params
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
    }
    for (k, v) in headers {
        event["headers"][k.to_ascii_lowercase()] = json!(v);
    }
    if let Some(body) = body {
        match (base64, std::str::from_utf8(body)) {
            (false, Ok(text)) => {
                event["body"] = json!(text);
                event["isBase64Encoded"] = json!(false);
            }
            _ => {
                event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
                event["isBase64Encoded"] = json!(true);
            }
        }
        event["headers"]["content-length"] = json!(body.len().to_string());
    }
    event
}

/// The body of an API Gateway HTTP API response the function returned, decoded.
pub fn response_body(resp: &Value) -> Vec<u8> {
    let body = resp["body"].as_str().unwrap_or_default();
    if resp["isBase64Encoded"].as_bool().unwrap_or(false) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64 body")
    } else {
        body.as_bytes().to_vec()
    }
}

/// Starts a function binary as Lambda would: a clean environment with the reserved `AWS_*`
/// variables, `AWS_LAMBDA_RUNTIME_API` pointing at `emulator`, plus `env`.
pub fn spawn_function(
    binary: &str,
    emulator: &Emulator,
    env: &[(&str, &str)],
) -> tokio::process::Child {
    function_command(binary, emulator, env)
        .spawn()
        .unwrap_or_else(|e| panic!("start {binary}: {e}"))
}

/// [`spawn_function`] with the function's stdout and stderr (its logs) piped to the test.
pub fn spawn_function_logged(
    binary: &str,
    emulator: &Emulator,
    env: &[(&str, &str)],
) -> tokio::process::Child {
    function_command(binary, emulator, env)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {binary}: {e}"))
}

fn function_command(
    binary: &str,
    emulator: &Emulator,
    env: &[(&str, &str)],
) -> tokio::process::Command {
    let name = std::path::Path::new(binary)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let mut cmd = tokio::process::Command::new(binary);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", emulator.runtime_api())
        .env("AWS_LAMBDA_FUNCTION_NAME", format!("cairn-{name}"))
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/cairn-{name}"),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2024/01/01/[$LATEST]emulated")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "eu-west-1")
        .env("LAMBDA_TASK_ROOT", "/var/task")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

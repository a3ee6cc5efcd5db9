//! The local HTTP server: hyper on one port, each request read with a size cap and a timeout,
//! turned into the `lambda_http::Request` the functions take, and dispatched by path exactly as
//! API Gateway would route it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use lambda_http::Body;
use shared::http::{error_response, MAX_BODY_BYTES};
use shared::{ApiError, App};
use tokio::net::TcpListener;

/// KiB of request bodies being handled at once (parsed, prepared, waiting for their commit):
/// a body costs several times its size once parsed into events, so this bounds the server's
/// memory under any number of connections. Further requests wait, already read (each read is
/// bounded by [`MAX_BODY_BYTES`] and the body timeout), for room. 2 MiB keeps about twenty
/// arrays of 100 events in flight, enough for several group statements at once: at 512 KiB
/// only one or two ran at a time and the machine sat 19–24 % idle under the batched load; at
/// 2 MiB, 2–8 %, with a peak RSS of 56–62.5 MiB (one malloc arena, cli/src/main.rs).
const BODY_KIB_IN_FLIGHT: u32 = 2048;
static IN_FLIGHT: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(BODY_KIB_IN_FLIGHT as usize);

/// Timeouts for reading requests from the network.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client may take to send its whole body.
    pub body_timeout: Duration,
    /// How long a client may take to send its request headers.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// Sends a request to the function that serves its path.
pub async fn dispatch(app: &App, req: lambda_http::Request) -> shared::http::Response {
    let path = req.uri().path().to_owned();
    if path == "/v1/events" || path.starts_with("/api/") || path == "/healthz" {
        ingest::handle(app, req).await
    } else if path == "/v1/incidents"
        || path.starts_with("/v1/incidents/")
        || path == "/openapi.json"
    {
        incidents::handle(app, req).await
    } else if path == "/v1/projects"
        || path.starts_with("/v1/projects/")
        || path == "/v1/hooks"
        || path.starts_with("/v1/hooks/")
    {
        projects::handle(app, req).await
    } else if path.starts_with("/v1/auth/") || path == "/v1/me" {
        oauth_callback::handle(app, req).await
    } else {
        shared::http::respond("local", Err(ApiError::not_found("route")))
    }
}

fn to_hyper(resp: shared::http::Response) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = resp.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

async fn serve_one(
    app: Arc<App>,
    limits: Limits,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    // Refused before dispatch: still answered with the headers the route's clients expect
    // (Sentry SDKs read `X-Sentry-Rate-Limits` on every answer).
    let refuse = |err: ApiError| {
        let resp = error_response(&err);
        Ok(to_hyper(ingest::sentry_routes::with_sentry_headers(
            parts.uri.path(),
            resp,
        )))
    };
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return refuse(ApiError::too_large(
            "payload_too_large",
            "request body exceeds 1 MiB",
        ));
    }
    let read = tokio::time::timeout(
        limits.body_timeout,
        Limited::new(body, MAX_BODY_BYTES).collect(),
    )
    .await;
    let bytes = match read {
        Err(_) => {
            return refuse(ApiError::bad_request(
                "body_timeout",
                "the request body was not sent in time",
            ));
        }
        Ok(Err(e)) => {
            let err = if e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::too_large("payload_too_large", "request body exceeds 1 MiB")
            } else {
                ApiError::bad_request("invalid_body", "the request body could not be read")
            };
            return refuse(err);
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let kib = (bytes.len().div_ceil(1024).max(1) as u32).min(BODY_KIB_IN_FLIGHT);
    let Ok(_room) = IN_FLIGHT.acquire_many(kib).await else {
        return refuse(ApiError::unavailable(
            "shutting_down",
            "the server is shutting down",
            None,
        ));
    };
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        Body::Binary(Vec::from(bytes))
    };
    let req = lambda_http::Request::from_parts(parts, body);
    Ok(to_hyper(dispatch(&app, req).await))
}

/// Serves `app` on `listener` until the task is dropped.
pub async fn serve(app: Arc<App>, listener: TcpListener) {
    serve_with(app, listener, Limits::default()).await
}

/// [`serve`] with explicit read timeouts.
pub async fn serve_with(app: Arc<App>, listener: TcpListener, limits: Limits) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let svc = service_fn(move |req| serve_one(Arc::clone(&app), limits, req));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), svc);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
}

/// Folds pending counts every second, so counts converge even when no request comes.
pub async fn fold_loop(app: Arc<App>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = shared::ingest::fold::fold_if_free(&app.pool).await {
            tracing::debug!(error = %e, "background fold failed");
        }
    }
}

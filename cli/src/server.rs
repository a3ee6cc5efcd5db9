//! The local HTTP server: hyper on one port, each request read with a size cap and a timeout (as
//! API Gateway reads it before a function runs), then handed to the merged router of every
//! function ([`crate::app`]), which routes it as API Gateway would.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::response::IntoResponse;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use shared::http::{too_large, Response, MAX_BODY_BYTES};
use shared::ApiError;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_service::Service;

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

async fn serve_one(
    router: axum::Router,
    limits: Limits,
    peer: std::net::SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<Response, Infallible> {
    let (mut parts, body) = req.into_parts();
    // Who connected: the sign-in routes' per-client limits count by it.
    parts.extensions.insert(shared::http::PeerAddr(peer));
    // Refused before routing: still answered with the headers the route's clients expect
    // (Sentry SDKs read `X-Sentry-Rate-Limits` on every answer).
    let refuse = |err: ApiError| {
        let resp = err.into_response();
        Ok(if parts.uri.path().starts_with("/api/") {
            ingest::sentry_routes::with_sentry_headers(resp)
        } else {
            resp
        })
    };
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return refuse(too_large());
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
                too_large()
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
    let req = axum::extract::Request::from_parts(parts, Body::from(bytes));
    let mut router = router;
    router.call(req).await
}

/// Serves `router` (every function's, [`crate::app`]) on `listener` until the task is dropped.
pub async fn serve(router: axum::Router, listener: TcpListener) {
    serve_with(router, listener, Limits::default()).await
}

/// [`serve`] with explicit read timeouts.
pub async fn serve_with(router: axum::Router, listener: TcpListener, limits: Limits) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| serve_one(router.clone(), limits, peer, req));
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
pub async fn fold_loop(pool: PgPool) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = shared::ingest::fold::fold_if_free(&pool).await {
            tracing::debug!(error = %e, "background fold failed");
        }
    }
}

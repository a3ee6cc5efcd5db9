//! The response boundary. Every error a handler or an extractor returns becomes the uniform body
//! `{"error": {"code", "message"}}` here ([`ApiError`]'s `IntoResponse`), and every failure is
//! logged once, by one layer that knows the route's template: 5xx as `error!` with the cause,
//! 4xx as `debug!`. Unknown paths and methods get the same JSON errors (`404 not_found`,
//! `405 method_not_allowed`), and every function answers `GET /healthz`.

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;

use super::Response;
use crate::error::ApiError;

/// What the logging layer learns of a failed request (kept in the response's extensions; the
/// cause is never sent, and is only written out for a 5xx, the one class logged with it).
#[derive(Clone)]
struct Failure {
    code: &'static str,
    cause: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = super::json(
            self.status(),
            &serde_json::json!({"error": {"code": self.code(), "message": self.to_string()}}),
        );
        if let Some(secs) = self.retry_after() {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        let cause = match &self {
            ApiError::Internal(src)
            | ApiError::Unavailable {
                source: Some(src), ..
            } => Some(format!("{src:#}")),
            ApiError::Unavailable { .. } => Some(self.to_string()),
            _ => None,
        };
        resp.extensions_mut().insert(Failure {
            code: self.code(),
            cause,
        });
        resp
    }
}

/// Makes a function's routes (with their state) the app that serves them: `GET /healthz`, JSON
/// answers for unknown paths and methods, and the one log line per failure. Each Lambda
/// function's `main` serves this; `cairn serve` serves it over the merged routes of all of them.
pub fn finish(routes: Router, pool: PgPool) -> Router {
    routes
        .route("/healthz", get(health).with_state(pool))
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(log_failures))
}

async fn log_failures(route: Option<MatchedPath>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let resp = next.run(req).await;
    if let Some(failure) = resp.extensions().get::<Failure>() {
        let route = match &route {
            Some(path) => format!("{method} {}", path.as_str()),
            None => "unrouted".to_owned(),
        };
        let status = resp.status().as_u16();
        if status >= 500 {
            let cause = failure.cause.as_deref().unwrap_or_default();
            tracing::error!(route, status, code = failure.code, error = %cause, "request failed");
        } else {
            tracing::debug!(route, status, code = failure.code, "request refused");
        }
    }
    resp
}

/// `GET /healthz`: 200 when the database answers.
// Every function answers it (see `finish`): `{"status": "ok"}`, or the uniform 503 with
// `Retry-After` when the database does not answer.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "the database answers"),
              (status = 503, description = "the database does not answer", body = crate::openapi::ErrorBody)))]
pub async fn health(State(pool): State<PgPool>) -> Result<Response, ApiError> {
    crate::db::ping(&pool).await?;
    Ok(super::json(200, &serde_json::json!({"status": "ok"})))
}

/// The OpenAPI description of `GET /healthz`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(health))]
pub struct HealthDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_uniform_bodies_and_retry_after() {
        let resp = ApiError::RateLimited { retry_after: 7 }.into_response();
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "7");
        assert!(resp.extensions().get::<Failure>().is_some());
    }
}

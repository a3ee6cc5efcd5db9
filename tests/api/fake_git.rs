//! Real git repositories the tests commit to, served by the fake GitHub as GitHub documents
//! its compare API (`GET /repos/{o}/{r}/compare/{base}...{head}`: status, merge base, counts,
//! commits, and up to 300 files with `git diff`'s own patches) and its contents API
//! (`GET /repos/{o}/{r}/contents/{path}?ref=`, raw or base64 JSON), with settable latency and
//! failures (rate limited, 5xx, unknown commit).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{json, Value};

use crate::git_json;
pub use crate::git_repo::GitRepo;

/// How the fake answers the git routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 403 with `x-ratelimit-remaining: 0` (the primary rate limit).
    RateLimited,
    /// 429 with `retry-after` (a secondary rate limit).
    SecondaryRateLimit,
    /// 502 from every git route.
    ServerError,
    /// Only the contents API fails (502): comparisons still work.
    ContentsError,
}

#[derive(Default)]
struct Inner {
    /// "owner/name" (lowercase) → repository directory
    repos: HashMap<String, PathBuf>,
    latency: Duration,
    failure: Option<Failure>,
    /// "compare" or "contents", per request answered
    calls: Vec<String>,
}

/// The git routes of the fake GitHub (a handle: clones share the settings).
#[derive(Clone, Default)]
pub struct Served(Arc<Mutex<Inner>>);

impl Served {
    /// Serves `repo` as `name` ("owner/name").
    pub fn serve(&self, name: &str, repo: &GitRepo) {
        let mut inner = self.0.lock().unwrap();
        inner
            .repos
            .insert(name.to_ascii_lowercase(), repo.dir.clone());
    }

    /// Every git route waits this long before answering.
    pub fn set_latency(&self, latency: Duration) {
        self.0.lock().unwrap().latency = latency;
    }

    /// Every git route fails this way from now on (`None`: answers again).
    pub fn fail(&self, failure: Option<Failure>) {
        self.0.lock().unwrap().failure = failure;
    }

    /// How many `compare` or `contents` requests were answered.
    pub fn calls(&self, kind: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| *c == kind)
            .count()
    }

    /// The answer to a git route of a served repository; `None` for any other request.
    pub async fn answer(
        &self,
        method: &str,
        uri: &hyper::Uri,
        headers: &hyper::HeaderMap,
    ) -> Option<hyper::Response<Full<Bytes>>> {
        let rest = uri.path().strip_prefix("/repos/")?;
        let mut parts = rest.splitn(4, '/');
        let (owner, name, kind, tail) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if method != "GET" || !matches!(kind, "compare" | "contents") {
            return None;
        }
        let (dir, latency, failure) = {
            let mut inner = self.0.lock().unwrap();
            let dir = inner
                .repos
                .get(&format!("{owner}/{name}").to_ascii_lowercase())?
                .clone();
            inner.calls.push(kind.to_owned());
            (dir, inner.latency, inner.failure)
        };
        tokio::time::sleep(latency).await;
        if !headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer ") || v.starts_with("token "))
        {
            return Some(reply(401, json!({"message": "Requires authentication"})));
        }
        match failure {
            Some(Failure::RateLimited) => return Some(rate_limited()),
            Some(Failure::SecondaryRateLimit) => {
                let body = json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."});
                let mut r = reply(429, body);
                r.headers_mut().insert("retry-after", "60".parse().unwrap());
                return Some(r);
            }
            Some(Failure::ServerError) => {
                return Some(reply(502, json!({"message": "Server Error"})))
            }
            Some(Failure::ContentsError) if kind == "contents" => {
                return Some(reply(502, json!({"message": "Server Error"})))
            }
            _ => {}
        }
        let query: HashMap<String, String> =
            url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        let repo_url = format!("https://api.github.com/repos/{owner}/{name}");
        let raw = headers
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("raw"));
        let (tail, is_compare) = (tail.to_owned(), kind == "compare");
        let answer = tokio::task::spawn_blocking(move || match is_compare {
            true => git_json::compare(&dir, &repo_url, &tail, &query),
            false => git_json::contents(&dir, &repo_url, &tail, &query, raw),
        });
        Some(answer.await.unwrap())
    }
}

pub fn reply(status: u16, body: Value) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

pub fn not_found() -> hyper::Response<Full<Bytes>> {
    reply(
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/commits/commits#compare-two-commits", "status": "404"}),
    )
}

fn rate_limited() -> hyper::Response<Full<Bytes>> {
    let mut r = reply(
        403,
        json!({"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}),
    );
    let reset = chrono::Utc::now().timestamp() + 600;
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", "5000".parse().unwrap());
    h.insert("x-ratelimit-remaining", "0".parse().unwrap());
    h.insert("x-ratelimit-used", "5000".parse().unwrap());
    h.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
    r
}

//! [`Commits`] over GitHub's REST API with octocrab: one client built on first use, the
//! caller's token sent per request, every call bounded in time and in size, and GitHub's
//! answers sorted into rate limited, unknown commit, refused and unavailable.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Limited};
use secrecy::{ExposeSecret, SecretString};

use super::github::{Commits, CommitsError, Comparison};
use crate::domain::{CommitSha, RepoFullName};

/// Bounds on one GitHub call.
#[derive(Debug, Clone)]
pub struct CallLimits {
    /// From sending the request to the last byte of the answer.
    pub timeout: Duration,
    /// Largest comparison read (300 files of patches are a few MB at most).
    pub max_comparison_bytes: usize,
    /// Largest file read for the in-process diff.
    pub max_file_bytes: usize,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(2000),
            max_comparison_bytes: 16 << 20,
            max_file_bytes: 1 << 20,
        }
    }
}

/// octocrab against `GITHUB_API_URL`.
pub struct OctocrabCommits {
    api_url: String,
    limits: CallLimits,
    client: OnceLock<octocrab::Octocrab>,
}

impl OctocrabCommits {
    /// A client for `api_url` (built on the first call, so functions that never translate
    /// never build it).
    pub fn new(api_url: &str, limits: CallLimits) -> Self {
        Self {
            api_url: api_url.trim_end_matches('/').to_owned(),
            limits,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&octocrab::Octocrab, CommitsError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let built = octocrab::Octocrab::builder()
            .base_uri(self.api_url.as_str())
            .and_then(|b| {
                b.set_connect_timeout(Some(self.limits.timeout))
                    .set_read_timeout(Some(self.limits.timeout))
                    .build()
            })
            .map_err(|e| CommitsError::Unavailable(e.into()))?;
        Ok(self.client.get_or_init(|| built))
    }

    /// GETs `path_and_query` with the token, within the time budget; the status, headers and
    /// at most `max` bytes of body.
    async fn get(
        &self,
        token: &SecretString,
        path_and_query: String,
        accept: &'static str,
        max: usize,
    ) -> Result<(StatusCode, HeaderMap, axum::body::Bytes), CommitsError> {
        let client = self.client()?;
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| CommitsError::Refused(401))?;
        auth.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, auth);
        let call = async {
            let response = client
                ._get_with_headers(path_and_query, Some(headers))
                .await
                .map_err(|e| CommitsError::Unavailable(e.into()))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, max)
                .collect()
                .await
                .map_err(|e| match e.downcast::<http_body_util::LengthLimitError>() {
                    Ok(_) => CommitsError::TooLarge(max),
                    Err(e) => CommitsError::Unavailable(anyhow::anyhow!(e)),
                })?
                .to_bytes();
            Ok((parts.status, parts.headers, body))
        };
        tokio::time::timeout(self.limits.timeout, call)
            .await
            .map_err(|_| CommitsError::Timeout(self.limits.timeout))?
    }
}

/// Sorts a non-2xx answer. A 404 means different things per call, so it is the caller's.
fn failure(status: StatusCode, headers: &HeaderMap) -> CommitsError {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let retry_after = text("retry-after")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let exhausted = text("x-ratelimit-remaining").is_some_and(|r| r.trim() == "0");
    match status.as_u16() {
        403 | 429 if exhausted || retry_after.is_some() => {
            let until_reset = text("x-ratelimit-reset")
                .and_then(|s| s.trim().parse::<u64>().ok())
                .and_then(|reset| {
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
                    Some(Duration::from_secs(reset.saturating_sub(now)))
                });
            CommitsError::RateLimited {
                retry_after: retry_after.or(until_reset),
            }
        }
        // A 429 without headers is still a rate limit.
        429 => CommitsError::RateLimited { retry_after: None },
        code @ (401 | 403) => CommitsError::Refused(code),
        code => CommitsError::Unavailable(anyhow::anyhow!("github answered {code}")),
    }
}

/// `/repos/{owner}/{name}/contents/{path}?ref={sha}` with each path segment percent-encoded;
/// `None` for a path that cannot name a file in a repo (empty, `.` or `..` segments).
fn contents_path(repo: &RepoFullName, commit: &CommitSha, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return None;
    }
    let mut url = url::Url::parse("http://github.invalid/").ok()?;
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(["repos", &repo.owner, &repo.name, "contents"])
        .extend(segments);
    Some(format!("{}?ref={}", url.path(), commit.as_str()))
}

#[async_trait]
impl Commits for OctocrabCommits {
    async fn compare(
        &self,
        token: &SecretString,
        repo: &RepoFullName,
        base: &CommitSha,
        head: &CommitSha,
    ) -> Result<Comparison, CommitsError> {
        // `per_page=1`: the commits are paginated and not needed; the files come on page 1.
        let path = format!(
            "/repos/{}/{}/compare/{}...{}?per_page=1",
            repo.owner,
            repo.name,
            base.as_str(),
            head.as_str()
        );
        let max = self.limits.max_comparison_bytes;
        let (status, headers, body) = self
            .get(token, path, "application/vnd.github+json", max)
            .await?;
        match status.as_u16() {
            200 => serde_json::from_slice(&body).map_err(|e| CommitsError::Unavailable(e.into())),
            404 | 422 => Err(CommitsError::UnknownCommit),
            _ => Err(failure(status, &headers)),
        }
    }

    async fn file_at(
        &self,
        token: &SecretString,
        repo: &RepoFullName,
        commit: &CommitSha,
        path: &str,
    ) -> Result<Option<String>, CommitsError> {
        let Some(path) = contents_path(repo, commit, path) else {
            return Ok(None);
        };
        let max = self.limits.max_file_bytes;
        let (status, headers, body) = self
            .get(token, path, "application/vnd.github.raw+json", max)
            .await?;
        match status.as_u16() {
            200 => Ok(Some(String::from_utf8_lossy(&body).into_owned())),
            404 => Ok(None),
            _ => Err(failure(status, &headers)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_paths_are_percent_encoded_per_segment() {
        let repo = RepoFullName::parse("acme/app").unwrap();
        let sha = CommitSha::parse(&"a".repeat(40)).unwrap();
        let p = contents_path(&repo, &sha, "src/my file#1.py").unwrap();
        assert_eq!(
            p,
            format!(
                "/repos/acme/app/contents/src/my%20file%231.py?ref={}",
                "a".repeat(40)
            )
        );
        assert!(contents_path(&repo, &sha, "src/../etc/passwd").is_none());
        assert!(contents_path(&repo, &sha, "").is_none());
    }

    #[test]
    fn rate_limits_are_told_from_refusals() {
        let mut h = HeaderMap::new();
        assert!(matches!(
            failure(StatusCode::FORBIDDEN, &h),
            CommitsError::Refused(403)
        ));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        assert!(matches!(
            failure(StatusCode::FORBIDDEN, &h),
            CommitsError::RateLimited { .. }
        ));
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("30"));
        assert!(matches!(
            failure(StatusCode::TOO_MANY_REQUESTS, &h),
            CommitsError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(30)
        ));
        assert!(matches!(
            failure(StatusCode::BAD_GATEWAY, &HeaderMap::new()),
            CommitsError::Unavailable(_)
        ));
    }
}

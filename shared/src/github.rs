//! GitHub, behind a small trait: the OAuth code exchange, the signed-in user, and what a token
//! may do on a repo (found by name or by GitHub's numeric id). The real implementation uses
//! octocrab pointed at the configured base URLs, so tests aim the very same code at a local fake.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::GitHubConfig;
use crate::domain::RepoFullName;

/// A GitHub account.
#[derive(Debug, Clone, Deserialize)]
pub struct GitHubUser {
    pub id: i64,
    pub login: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// What a user may do on a repo, lowest to highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    None,
    Read,
    Write,
    Admin,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "admin" => Self::Admin,
            "write" => Self::Write,
            "read" => Self::Read,
            _ => Self::None,
        }
    }
}

/// A repo as GitHub identifies it: the numeric id is stable across renames and transfers, the
/// name is only what it is called now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubRepo {
    pub id: i64,
    pub full_name: RepoFullName,
    pub private: bool,
}

/// Which repo to ask about.
#[derive(Debug, Clone, Copy)]
pub enum RepoRef<'a> {
    /// `GET /repos/{owner}/{name}` (GitHub follows a rename with a redirect to the id).
    Name(&'a RepoFullName),
    /// `GET /repositories/{id}`.
    Id(i64),
}

/// GitHub's answer about one repo for one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPermission {
    /// What the token may do there, its OAuth scopes taken into account.
    pub permission: Permission,
    /// The repo, when the token may see it.
    pub repo: Option<GitHubRepo>,
    /// Whether this is GitHub's definite answer (a 200 or a 404), which may be cached. Another
    /// refusal (a 403 that is neither a rate limit nor SSO: an IP allow list, a blocked repo)
    /// is no access for this request only.
    pub definite: bool,
}

/// Failures talking to GitHub.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("github sign-in is not configured")]
    NotConfigured,
    #[error("github refused the authorization code: {0}")]
    BadCode(String),
    #[error("github refused the token")]
    Unauthorized,
    /// A 403 or 429 with GitHub's rate-limit headers (or any 429).
    #[error("github rate limit exceeded")]
    RateLimited,
    /// A 403 with `X-GitHub-SSO: required`: the organization enforces SAML single sign-on and
    /// the token is not authorized for it.
    #[error("github requires SAML single sign-on authorization for this token")]
    SsoRequired,
    #[error("github is unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// The GitHub operations cairn uses.
#[async_trait]
pub trait GitHub: Send + Sync {
    /// Exchanges an OAuth web-flow code (with its PKCE verifier) for a user access token.
    async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<SecretString, GitHubError>;
    /// The user the token belongs to, with their primary verified email when GitHub gives it.
    async fn user(&self, token: &SecretString) -> Result<GitHubUser, GitHubError>;
    /// What `token` may do on `repo` (`None` when GitHub says 404: no access or no repo).
    async fn permission(
        &self,
        token: &SecretString,
        repo: RepoRef<'_>,
    ) -> Result<RepoPermission, GitHubError>;
    /// The OAuth app's client id and authorize URL base, when configured.
    fn authorize_base(&self) -> Option<(String, String)>;
}

/// octocrab against `GITHUB_OAUTH_URL` / `GITHUB_API_URL`.
pub struct OctocrabGitHub {
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    oauth_url: String,
    api_url: String,
    timeout: std::time::Duration,
}

impl OctocrabGitHub {
    pub fn new(config: &GitHubConfig) -> Self {
        Self {
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            oauth_url: config.oauth_url.clone(),
            api_url: config.api_url.clone(),
            timeout: config.timeout,
        }
    }

    fn client(
        &self,
        base: &str,
        token: Option<&SecretString>,
    ) -> Result<octocrab::Octocrab, GitHubError> {
        let mut b = octocrab::Octocrab::builder()
            .base_uri(base)
            .map_err(|e| GitHubError::Unavailable(e.into()))?
            .set_connect_timeout(Some(self.timeout))
            .set_read_timeout(Some(self.timeout))
            .add_header(http::header::ACCEPT, "application/json".to_owned());
        if let Some(t) = token {
            b = b.personal_token(t.expose_secret().to_owned());
        }
        b.build().map_err(|e| GitHubError::Unavailable(e.into()))
    }
}

fn classify(e: octocrab::Error) -> GitHubError {
    match &e {
        octocrab::Error::GitHub { source, .. } if source.status_code.as_u16() == 401 => {
            GitHubError::Unauthorized
        }
        _ => GitHubError::Unavailable(e.into()),
    }
}

impl OctocrabGitHub {
    /// GETs `path` with the token: status, headers and body, whatever the status (octocrab's
    /// typed `get` drops the headers that tell a rate limit or SSO from a refusal).
    async fn get_raw(
        &self,
        token: &SecretString,
        path: &str,
    ) -> Result<(u16, http::HeaderMap, Vec<u8>), GitHubError> {
        use http_body_util::BodyExt;
        let client = self.client(&self.api_url, Some(token))?;
        let call = async {
            let resp = client
                ._get(path)
                .await
                .map_err(|e| GitHubError::Unavailable(e.into()))?;
            let (parts, body) = resp.into_parts();
            let body = http_body_util::Limited::new(body, MAX_REPO_BYTES)
                .collect()
                .await
                .map_err(|e| GitHubError::Unavailable(anyhow::anyhow!(e)))?
                .to_bytes();
            Ok((parts.status.as_u16(), parts.headers, body.to_vec()))
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| GitHubError::Unavailable(anyhow::anyhow!("github timed out")))?
    }
}

/// The most of a repo's JSON read (a few KB in practice).
const MAX_REPO_BYTES: usize = 1 << 20;

fn no_access(definite: bool) -> RepoPermission {
    RepoPermission {
        permission: Permission::None,
        repo: None,
        definite,
    }
}

/// Sorts a refusal that is not a 404: a rate limit or missing SSO authorization is an error (the
/// caller retries later; nothing is cached), a 401 is a refused token, another 403 is no access
/// for now (`None`), anything else GitHub being unavailable.
fn refusal(status: u16, headers: &http::HeaderMap) -> Option<GitHubError> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let exhausted = text("x-ratelimit-remaining").is_some_and(|r| r.trim() == "0");
    let sso = text("x-github-sso").is_some_and(|v| v.trim_start().starts_with("required"));
    match status {
        401 => Some(GitHubError::Unauthorized),
        429 => Some(GitHubError::RateLimited),
        403 if exhausted || text("retry-after").is_some() => Some(GitHubError::RateLimited),
        403 if sso => Some(GitHubError::SsoRequired),
        403 => None,
        code => Some(GitHubError::Unavailable(anyhow::anyhow!(
            "github answered {code}"
        ))),
    }
}

/// The path of a redirect to `/repositories/{id}` (how GitHub answers a renamed repo's old
/// name); `None` for any other location.
fn redirect_to_repository(headers: &http::HeaderMap) -> Option<String> {
    let location = headers.get(http::header::LOCATION)?.to_str().ok()?;
    let path = url::Url::parse(location)
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| location.to_owned());
    let id: i64 = path
        .trim_end_matches('/')
        .rsplit_once("/repositories/")?
        .1
        .parse()
        .ok()?;
    Some(format!("/repositories/{id}"))
}

/// What a token may do on a repo, given what GitHub reported for its user and the token's OAuth
/// scopes (`X-OAuth-Scopes`, sent for OAuth and classic tokens only). GitHub reports the user's
/// role whatever the token, so a token another app holds with no scope would otherwise borrow
/// it: without `repo` a token reaches no private repo, and without `repo` or `public_repo` it
/// cannot write to a public one, so it only reads. A token without the header (a GitHub App's or
/// a fine-grained token) only sees what it was granted: GitHub's answer stands.
pub fn scoped(reported: Permission, private: bool, scopes: Option<&str>) -> Permission {
    let Some(scopes) = scopes else {
        return reported;
    };
    let has = |want: &str| scopes.split(',').any(|s| s.trim() == want);
    if has("repo") {
        reported
    } else if private {
        Permission::None
    } else if has("public_repo") {
        reported
    } else {
        reported.min(Permission::Read)
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

#[derive(Deserialize)]
struct Repo {
    id: i64,
    full_name: String,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    permissions: Option<RepoPermissions>,
}

#[derive(Deserialize, Default)]
struct RepoPermissions {
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    push: bool,
}

#[async_trait]
impl GitHub for OctocrabGitHub {
    async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<SecretString, GitHubError> {
        let (Some(id), Some(secret)) = (&self.client_id, &self.client_secret) else {
            return Err(GitHubError::NotConfigured);
        };
        let body = serde_json::json!({
            "client_id": id,
            "client_secret": secret.expose_secret(),
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        });
        let resp: TokenResponse = self
            .client(&self.oauth_url, None)?
            .post("/login/oauth/access_token", Some(&body))
            .await
            .map_err(classify)?;
        match (resp.access_token, resp.error) {
            (Some(t), _) if !t.is_empty() => Ok(SecretString::from(t)),
            (_, Some(err)) => Err(GitHubError::BadCode(err)),
            _ => Err(GitHubError::BadCode("no access token".into())),
        }
    }

    async fn user(&self, token: &SecretString) -> Result<GitHubUser, GitHubError> {
        let client = self.client(&self.api_url, Some(token))?;
        let mut user: GitHubUser = client.get("/user", None::<&()>).await.map_err(classify)?;
        if user.email.is_none() {
            // Needs the user:email scope; a token without it just gives no email.
            if let Ok(emails) = client.get::<Vec<Email>, _, ()>("/user/emails", None).await {
                user.email = emails
                    .into_iter()
                    .find(|e| e.primary && e.verified)
                    .map(|e| e.email);
            }
        }
        Ok(user)
    }

    async fn permission(
        &self,
        token: &SecretString,
        repo: RepoRef<'_>,
    ) -> Result<RepoPermission, GitHubError> {
        let mut path = match repo {
            RepoRef::Name(r) => format!("/repos/{}/{}", r.owner, r.name),
            RepoRef::Id(id) => format!("/repositories/{id}"),
        };
        // A renamed or transferred repo answers its old name with a redirect to its id; follow
        // it once.
        for _ in 0..2 {
            let (status, headers, body) = self.get_raw(token, &path).await?;
            match status {
                200 => {
                    let r: Repo = serde_json::from_slice(&body)
                        .map_err(|e| GitHubError::Unavailable(e.into()))?;
                    let full_name = RepoFullName::parse(&r.full_name)
                        .map_err(|e| GitHubError::Unavailable(e.into()))?;
                    let p = r.permissions.unwrap_or_default();
                    let reported = if p.admin {
                        Permission::Admin
                    } else if p.push {
                        Permission::Write
                    } else {
                        // A repo the token may see is at least readable (a public repo may come
                        // without permissions).
                        Permission::Read
                    };
                    let scopes = headers.get("x-oauth-scopes").and_then(|v| v.to_str().ok());
                    return Ok(RepoPermission {
                        permission: scoped(reported, r.private, scopes),
                        repo: Some(GitHubRepo {
                            id: r.id,
                            full_name,
                            private: r.private,
                        }),
                        definite: true,
                    });
                }
                301 | 302 | 307 | 308 => {
                    path = redirect_to_repository(&headers).ok_or_else(|| {
                        GitHubError::Unavailable(anyhow::anyhow!(
                            "github redirected a repo to an unexpected location"
                        ))
                    })?;
                }
                404 => return Ok(no_access(true)),
                code => match refusal(code, &headers) {
                    Some(e) => return Err(e),
                    None => return Ok(no_access(false)),
                },
            }
        }
        Err(GitHubError::Unavailable(anyhow::anyhow!(
            "github redirected a repo more than once"
        )))
    }

    fn authorize_base(&self) -> Option<(String, String)> {
        match (&self.client_id, &self.client_secret) {
            (Some(id), Some(_)) => Some((
                id.clone(),
                format!("{}/login/oauth/authorize", self.oauth_url),
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_does_no_more_than_its_scopes_allow() {
        use Permission::*;
        let cases = [
            // (reported, private, scopes, effective)
            (Admin, true, Some("read:user, repo, user:email"), Admin),
            (Admin, true, Some(""), None),
            (Admin, true, Some("read:user, public_repo"), None),
            (Admin, false, Some("public_repo"), Admin),
            (Admin, false, Some(""), Read),
            (Write, false, Some("read:user"), Read),
            (Read, false, Some(""), Read),
            (Admin, true, Option::None, Admin),
        ];
        for (reported, private, scopes, want) in cases {
            assert_eq!(
                scoped(reported, private, scopes),
                want,
                "{scopes:?} {private}"
            );
        }
    }

    #[test]
    fn rate_limits_and_sso_are_told_from_refusals() {
        let mut h = http::HeaderMap::new();
        assert!(refusal(403, &h).is_none(), "a plain 403 is no access");
        assert!(matches!(refusal(429, &h), Some(GitHubError::RateLimited)));
        assert!(matches!(refusal(401, &h), Some(GitHubError::Unauthorized)));
        assert!(matches!(
            refusal(500, &h),
            Some(GitHubError::Unavailable(_))
        ));
        h.insert(
            "x-github-sso",
            "required; url=https://github.com/orgs/acme/sso"
                .parse()
                .unwrap(),
        );
        assert!(matches!(refusal(403, &h), Some(GitHubError::SsoRequired)));
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        assert!(matches!(refusal(403, &h), Some(GitHubError::RateLimited)));
    }

    #[test]
    fn only_redirects_to_a_repository_id_are_followed() {
        let at = |l: &str| {
            let mut h = http::HeaderMap::new();
            h.insert(http::header::LOCATION, l.parse().unwrap());
            redirect_to_repository(&h)
        };
        assert_eq!(
            at("https://api.github.com/repositories/1296269").as_deref(),
            Some("/repositories/1296269")
        );
        assert_eq!(at("/repositories/7").as_deref(), Some("/repositories/7"));
        assert_eq!(at("https://evil.example/repos/a/b"), Option::None);
        assert_eq!(at("https://api.github.com/repositories/x"), Option::None);
    }
}

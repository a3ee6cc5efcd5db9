//! GitHub, behind a small trait: the OAuth code exchange, the signed-in user, and a user's
//! permission on a repo. The real implementation uses octocrab pointed at the configured base
//! URLs, so tests aim the very same code at a local fake.

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

/// Failures talking to GitHub.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("github sign-in is not configured")]
    NotConfigured,
    #[error("github refused the authorization code: {0}")]
    BadCode(String),
    #[error("github refused the token")]
    Unauthorized,
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
    /// The user's permission on `repo` (`None` when GitHub says 404: no access or no repo).
    async fn permission(
        &self,
        token: &SecretString,
        repo: &RepoFullName,
    ) -> Result<Permission, GitHubError>;
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
    #[serde(default)]
    permissions: Option<RepoPermissions>,
}

#[derive(Deserialize, Default)]
struct RepoPermissions {
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    push: bool,
    #[serde(default)]
    pull: bool,
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
        repo: &RepoFullName,
    ) -> Result<Permission, GitHubError> {
        let client = self.client(&self.api_url, Some(token))?;
        let route = format!("/repos/{}/{}", repo.owner, repo.name);
        match client.get::<Repo, _, ()>(route, None).await {
            Ok(r) => {
                let p = r.permissions.unwrap_or_default();
                Ok(if p.admin {
                    Permission::Admin
                } else if p.push {
                    Permission::Write
                } else if p.pull {
                    Permission::Read
                } else {
                    // A public repo read without permissions in the answer is readable.
                    Permission::Read
                })
            }
            Err(octocrab::Error::GitHub { source, .. })
                if matches!(source.status_code.as_u16(), 403 | 404) =>
            {
                Ok(Permission::None)
            }
            Err(e) => Err(classify(e)),
        }
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

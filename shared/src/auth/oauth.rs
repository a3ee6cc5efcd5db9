//! GitHub's OAuth web flow (single-use state, PKCE S256) and the token exchange the VS Code
//! extension uses.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::SecretString;
use sqlx::Row;

use super::session::{self, IssuedSession};
use super::{Auth, AuthError, AuthState};
use crate::config::Config;
use crate::crypto;

/// How long a sign-in may take between the redirect and the callback.
const STATE_TTL_MINUTES: i64 = 10;

/// What the sign-in routes need besides the auth checks: cairn's public URL (GitHub sends the
/// browser back under it) and the other origins a sign-in may return its token to.
#[derive(Clone)]
pub struct OAuth {
    pub auth: Auth,
    public_url: String,
    allowed_return_origins: Vec<String>,
}

impl AuthState for OAuth {
    fn auth(&self) -> &Auth {
        &self.auth
    }
}

impl OAuth {
    /// The sign-in flow of `config`'s public URL and allowed return origins.
    pub fn new(config: &Config, auth: Auth) -> Self {
        Self {
            auth,
            public_url: config.public_url.clone(),
            allowed_return_origins: config.allowed_return_origins.clone(),
        }
    }

    fn callback_url(&self) -> String {
        format!("{}/v1/auth/github/callback", self.public_url)
    }

    /// Whether a sign-in may send its token back to `return_to`: cairn's own origin, an origin
    /// from `CAIRN_ALLOWED_RETURN_ORIGINS`, or an editor URI handler (`vscode://`,
    /// `vscode-insiders://`).
    pub fn return_to_allowed(&self, return_to: &str) -> bool {
        let Ok(url) = url::Url::parse(return_to) else {
            return false;
        };
        if matches!(url.scheme(), "vscode" | "vscode-insiders") {
            return true;
        }
        let origin = url.origin().ascii_serialization();
        origin
            == url::Url::parse(&self.public_url)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default()
            || self.allowed_return_origins.iter().any(|o| o == &origin)
    }
}

/// The failure of a callback GitHub sent with `error=…` instead of a code.
pub fn declined(error: &str) -> AuthError {
    if error == "access_denied" {
        AuthError::AccessDenied
    } else {
        AuthError::NotAuthorized
    }
}

/// Starts a sign-in: stores a single-use state with its PKCE verifier and returns GitHub's
/// authorize URL to redirect to.
pub async fn begin(oauth: &OAuth, return_to: Option<&str>) -> Result<String, AuthError> {
    let auth = &oauth.auth;
    let Some((client_id, authorize)) = auth.github.authorize_base() else {
        return Err(AuthError::GitHubNotConfigured);
    };
    if let Some(rt) = return_to {
        if !oauth.return_to_allowed(rt) {
            return Err(AuthError::ReturnToNotAllowed);
        }
    }
    let state = crypto::random_alphanumeric(32);
    let verifier = crypto::random_alphanumeric(64);
    let challenge = URL_SAFE_NO_PAD.encode(crypto::sha256(verifier.as_bytes()));
    sqlx::query(
        "insert into oauth_states (state_hash, code_verifier, return_to, expires_at)
         values ($1, $2, $3, now() + make_interval(mins => $4))",
    )
    .bind(crypto::sha256(state.as_bytes()))
    .bind(auth.seal(verifier.as_bytes()))
    .bind(return_to)
    .bind(STATE_TTL_MINUTES as i32)
    .execute(&auth.pool)
    .await?;
    // Old states are cleaned up as new ones are made.
    sqlx::query("delete from oauth_states where expires_at < now() - interval '1 hour'")
        .execute(&auth.pool)
        .await?;
    let mut url = url::Url::parse(&authorize)?;
    url.query_pairs_mut()
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &oauth.callback_url())
        .append_pair("scope", "read:user user:email repo")
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("allow_signup", "false");
    Ok(url.into())
}

/// What the callback ends with: a session, and where to send it if the sign-in asked.
pub struct Completed {
    pub session: IssuedSession,
    pub return_to: Option<String>,
}

/// Finishes a sign-in: the state is consumed (single use, unexpired), the code exchanged with
/// the stored verifier, the user upserted and a session issued.
pub async fn complete(oauth: &OAuth, code: &str, state: &str) -> Result<Completed, AuthError> {
    let auth = &oauth.auth;
    let bad_state = || AuthError::BadState;
    if auth.github.authorize_base().is_none() {
        return Err(AuthError::GitHubNotConfigured);
    }
    if code.is_empty() || code.len() > 256 || state.is_empty() || state.len() > 256 {
        return Err(bad_state());
    }
    let row = sqlx::query(
        "delete from oauth_states where state_hash = $1 returning code_verifier, return_to, expires_at > now() as fresh",
    )
    .bind(crypto::sha256(state.as_bytes()))
    .fetch_optional(&auth.pool)
    .await?
    .ok_or_else(bad_state)?;
    if !row.get::<bool, _>("fresh") {
        return Err(bad_state());
    }
    let sealed: Vec<u8> = row.get("code_verifier");
    let verifier = auth.open(&sealed).ok_or_else(bad_state)?;
    let token = auth
        .github
        .exchange_code(code, &verifier, &oauth.callback_url())
        .await?;
    let user = auth.github.user(&token).await?;
    let session = session::issue(auth, &user, &token).await?;
    Ok(Completed {
        session,
        return_to: row.get("return_to"),
    })
}

/// Trades a GitHub token (from VS Code's GitHub sign-in) for a cairn session.
pub async fn exchange_github_token(
    auth: &Auth,
    github_token: &str,
) -> Result<IssuedSession, AuthError> {
    let t = github_token.trim();
    if t.is_empty() || t.len() > 512 || !t.bytes().all(|b| b.is_ascii_graphic()) {
        // Not shaped like a token: refused as GitHub would refuse it, without asking.
        return Err(AuthError::GitHubTokenRefused);
    }
    let token = SecretString::from(t.to_owned());
    let user = auth.github.user(&token).await?;
    session::issue(auth, &user, &token).await
}

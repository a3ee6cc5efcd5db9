//! GitHub's OAuth web flow (single-use state, PKCE S256, bound to the browser that started it by
//! a cookie) and the token exchange the VS Code extension uses.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::SecretString;
use sqlx::Row;

use std::net::IpAddr;

use super::session::{self, IssuedSession};
use super::throttle::{self, SignInRoute};
use super::{Auth, AuthError, AuthState};
use crate::config::Config;
use crate::crypto;

/// How long a sign-in may take between the redirect and the callback.
const STATE_TTL_MINUTES: i64 = 10;

/// The cookie that binds a sign-in to its browser, over https: `__Host-` makes browsers keep it
/// to exactly cairn's host, path `/`, `Secure`, and refuse it from any other site.
const BINDING_COOKIE_HTTPS: &str = "__Host-cairn_oauth";
/// The same over plain http (a local `cairn serve`): browsers refuse a `__Host-` cookie without
/// `Secure`, and a `Secure` cookie over http.
const BINDING_COOKIE_HTTP: &str = "cairn_oauth";

/// What the sign-in routes need besides the auth checks: cairn's public URL (GitHub sends the
/// browser back under it), the other origins a sign-in may return its token to, and the editor
/// extensions it may hand a token to.
#[derive(Clone)]
pub struct OAuth {
    pub auth: Auth,
    public_url: String,
    allowed_return_origins: Vec<String>,
    editor_extension_ids: Vec<String>,
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
            editor_extension_ids: config.editor_extension_ids.clone(),
        }
    }

    fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The `Set-Cookie` value that binds a sign-in to the browser that starts it (see
    /// [`cookie`]).
    pub fn binding_cookie(&self, value: &str) -> String {
        cookie(self.https(), value, STATE_TTL_MINUTES * 60)
    }

    /// The `Set-Cookie` value that removes the binding cookie (sent with every callback answer).
    pub fn clear_binding_cookie(&self) -> String {
        cookie(self.https(), "", 0)
    }

    /// The binding cookie's value among the request's `Cookie` headers, if any.
    pub fn binding_from(&self, headers: &http::HeaderMap) -> Option<String> {
        let name = cookie_name(self.https());
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim().to_owned())
    }

    fn callback_url(&self) -> String {
        format!("{}/v1/auth/github/callback", self.public_url)
    }

    /// Whether a sign-in may send its token back to `return_to`: cairn's own origin, an origin
    /// from `CAIRN_ALLOWED_RETURN_ORIGINS`, or the URI handler of an editor extension of
    /// `CAIRN_EDITOR_EXTENSION_IDS` (`vscode://cairn.cairn/…`, `vscode-insiders://cairn.cairn/…`).
    /// Never a URL with credentials in it.
    pub fn return_to_allowed(&self, return_to: &str) -> bool {
        let Ok(url) = url::Url::parse(return_to) else {
            return false;
        };
        if !url.username().is_empty() || url.password().is_some() {
            return false;
        }
        if matches!(url.scheme(), "vscode" | "vscode-insiders") {
            // The authority of an editor URI is the extension that handles it.
            return url.port().is_none()
                && url.host_str().is_some_and(|id| {
                    self.editor_extension_ids
                        .iter()
                        .any(|allowed| allowed.eq_ignore_ascii_case(id))
                });
        }
        if !matches!(url.scheme(), "https" | "http") {
            return false;
        }
        let origin = url.origin().ascii_serialization();
        origin
            == url::Url::parse(&self.public_url)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default()
            || self.allowed_return_origins.iter().any(|o| o == &origin)
    }
}

/// The name of the browser-binding cookie: `__Host-` over https.
fn cookie_name(https: bool) -> &'static str {
    if https {
        BINDING_COOKIE_HTTPS
    } else {
        BINDING_COOKIE_HTTP
    }
}

/// A binding cookie: host-only (no `Domain`), path `/`, `HttpOnly`, `SameSite=Lax` (sent on
/// GitHub's top-level redirect back, never on a cross-site subrequest), `Secure` over https,
/// gone after `max_age` seconds.
fn cookie(https: bool, value: &str, max_age: i64) -> String {
    format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        cookie_name(https),
        if https { "; Secure" } else { "" }
    )
}

/// The failure of a callback GitHub sent with `error=…` instead of a code.
pub fn declined(error: &str) -> AuthError {
    if error == "access_denied" {
        AuthError::AccessDenied
    } else {
        AuthError::NotAuthorized
    }
}

/// A sign-in started: where to send the browser, and the value of the cookie that binds the
/// sign-in to it ([`OAuth::binding_cookie`]).
pub struct Begun {
    pub authorize_url: String,
    pub browser_binding: String,
}

/// Starts a sign-in: stores a single-use state with its PKCE verifier and the hash of a random
/// browser binding, and returns GitHub's authorize URL and the binding for the cookie.
pub async fn begin(
    oauth: &OAuth,
    return_to: Option<&str>,
    client: Option<IpAddr>,
) -> Result<Begun, AuthError> {
    let auth = &oauth.auth;
    let Some((client_id, authorize)) = auth.github.authorize_base() else {
        return Err(AuthError::GitHubNotConfigured);
    };
    if let Some(rt) = return_to {
        if !oauth.return_to_allowed(rt) {
            return Err(AuthError::ReturnToNotAllowed);
        }
    }
    throttle::admit(auth, SignInRoute::Login, client).await?;
    let state = crypto::random_alphanumeric(32);
    let verifier = crypto::random_alphanumeric(64);
    let binding = crypto::random_alphanumeric(32);
    let challenge = URL_SAFE_NO_PAD.encode(crypto::sha256(verifier.as_bytes()));
    sqlx::query(
        "insert into oauth_states (state_hash, code_verifier, return_to, expires_at, browser_hash)
         values ($1, $2, $3, now() + make_interval(mins => $4), $5)",
    )
    .bind(crypto::sha256(state.as_bytes()))
    .bind(auth.seal(verifier.as_bytes()))
    .bind(return_to)
    .bind(STATE_TTL_MINUTES as i32)
    .bind(crypto::sha256(binding.as_bytes()))
    .execute(&auth.pool)
    .await?;
    // Expired states are swept as new ones are made (and by retention).
    sqlx::query("delete from oauth_states where expires_at < now()")
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
    Ok(Begun {
        authorize_url: url.into(),
        browser_binding: binding,
    })
}

/// What the callback ends with: a session, and where to send it if the sign-in asked.
pub struct Completed {
    pub session: IssuedSession,
    pub return_to: Option<String>,
}

/// Finishes a sign-in: the state is consumed (single use, unexpired), the browser must present
/// the binding cookie set when it started (`binding`), the code is exchanged with the stored
/// verifier, the user upserted and a session issued.
pub async fn complete(
    oauth: &OAuth,
    code: &str,
    state: &str,
    binding: Option<&str>,
) -> Result<Completed, AuthError> {
    let auth = &oauth.auth;
    let bad_state = || AuthError::BadState;
    if auth.github.authorize_base().is_none() {
        return Err(AuthError::GitHubNotConfigured);
    }
    if code.is_empty() || code.len() > 256 || state.is_empty() || state.len() > 256 {
        return Err(bad_state());
    }
    let row = sqlx::query(
        "delete from oauth_states where state_hash = $1
         returning code_verifier, return_to, browser_hash, expires_at > now() as fresh",
    )
    .bind(crypto::sha256(state.as_bytes()))
    .fetch_optional(&auth.pool)
    .await?
    .ok_or_else(bad_state)?;
    if !row.get::<bool, _>("fresh") {
        return Err(bad_state());
    }
    // The state travelled in URLs anyone may have been handed; the cookie stayed in the browser
    // that started the sign-in. Either way the state is used up.
    let expected: Option<Vec<u8>> = row.get("browser_hash");
    let bound = match (expected, binding) {
        (Some(expected), Some(b)) => crypto::ct_eq(&expected, &crypto::sha256(b.as_bytes())),
        _ => false,
    };
    if !bound {
        return Err(AuthError::OtherBrowser);
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

/// Trades a GitHub token (from VS Code's GitHub sign-in) for a cairn session; `client` is
/// counted against the route's limit first.
pub async fn exchange_github_token(
    auth: &Auth,
    github_token: &str,
    client: Option<IpAddr>,
) -> Result<IssuedSession, AuthError> {
    throttle::admit(auth, SignInRoute::Token, client).await?;
    let t = github_token.trim();
    if t.is_empty() || t.len() > 512 || !t.bytes().all(|b| b.is_ascii_graphic()) {
        // Not shaped like a token: refused as GitHub would refuse it, without asking.
        return Err(AuthError::GitHubTokenRefused);
    }
    let token = SecretString::from(t.to_owned());
    let user = auth.github.user(&token).await?;
    session::issue(auth, &user, &token).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_https_the_binding_cookie_is_a_secure_host_cookie() {
        assert_eq!(
            cookie(true, "v", 600),
            "__Host-cairn_oauth=v; Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            cookie(false, "v", 600),
            "cairn_oauth=v; Path=/; Max-Age=600; HttpOnly; SameSite=Lax"
        );
    }
}

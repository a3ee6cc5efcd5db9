//! GitHub's OAuth web flow (single-use state, PKCE S256) and the token exchange the VS Code
//! extension uses.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::SecretString;
use sqlx::Row;

use crate::app::App;
use crate::auth::session::{self, IssuedSession};
use crate::crypto;
use crate::error::ApiError;

/// How long a sign-in may take between the redirect and the callback.
const STATE_TTL_MINUTES: i64 = 10;

fn callback_url(app: &App) -> String {
    format!("{}/v1/auth/github/callback", app.config.public_url)
}

/// Whether a sign-in may send its token back to `return_to`: cairn's own origin, an origin from
/// `CAIRN_ALLOWED_RETURN_ORIGINS`, or an editor URI handler (`vscode://`, `vscode-insiders://`).
pub fn return_to_allowed(app: &App, return_to: &str) -> bool {
    let Ok(url) = url::Url::parse(return_to) else {
        return false;
    };
    if matches!(url.scheme(), "vscode" | "vscode-insiders") {
        return true;
    }
    let origin = url.origin().ascii_serialization();
    origin
        == url::Url::parse(&app.config.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
        || app
            .config
            .allowed_return_origins
            .iter()
            .any(|o| o == &origin)
}

/// Starts a sign-in: stores a single-use state with its PKCE verifier and returns GitHub's
/// authorize URL to redirect to.
pub async fn begin(app: &App, return_to: Option<&str>) -> Result<String, ApiError> {
    let Some((client_id, authorize)) = app.github.authorize_base() else {
        return Err(crate::github::GitHubError::NotConfigured.into());
    };
    if let Some(rt) = return_to {
        if !return_to_allowed(app, rt) {
            return Err(ApiError::unprocessable(
                "return_to_not_allowed",
                "return_to is not an allowed address",
            ));
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
    .bind(crypto::seal(&app.config.secret_key, verifier.as_bytes()))
    .bind(return_to)
    .bind(STATE_TTL_MINUTES as i32)
    .execute(&app.pool)
    .await?;
    // Old states are cleaned up as new ones are made.
    sqlx::query("delete from oauth_states where expires_at < now() - interval '1 hour'")
        .execute(&app.pool)
        .await?;
    let mut url = url::Url::parse(&authorize).map_err(|e| ApiError::Internal(e.into()))?;
    url.query_pairs_mut()
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &callback_url(app))
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
pub async fn complete(app: &App, code: &str, state: &str) -> Result<Completed, ApiError> {
    let bad_state = || {
        ApiError::bad_request(
            "invalid_oauth_state",
            "unknown, used or expired sign-in state",
        )
    };
    if app.github.authorize_base().is_none() {
        return Err(crate::github::GitHubError::NotConfigured.into());
    }
    if code.is_empty() || code.len() > 256 || state.is_empty() || state.len() > 256 {
        return Err(bad_state());
    }
    let row = sqlx::query(
        "delete from oauth_states where state_hash = $1 returning code_verifier, return_to, expires_at > now() as fresh",
    )
    .bind(crypto::sha256(state.as_bytes()))
    .fetch_optional(&app.pool)
    .await?
    .ok_or_else(bad_state)?;
    if !row.get::<bool, _>("fresh") {
        return Err(bad_state());
    }
    let sealed: Vec<u8> = row.get("code_verifier");
    let verifier = crypto::open(&app.config.secret_key, &sealed)
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
        .ok_or_else(bad_state)?;
    let token = app
        .github
        .exchange_code(code, &verifier, &callback_url(app))
        .await?;
    let user = app.github.user(&token).await?;
    let session = session::issue(app, &user, &token).await?;
    Ok(Completed {
        session,
        return_to: row.get("return_to"),
    })
}

/// Trades a GitHub token (from VS Code's GitHub sign-in) for a cairn session.
pub async fn exchange_github_token(
    app: &App,
    github_token: &str,
) -> Result<IssuedSession, ApiError> {
    let t = github_token.trim();
    if t.is_empty() || t.len() > 512 || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::unauthorized(
            "invalid_github_token",
            "GitHub refused the token",
        ));
    }
    let token = SecretString::from(t.to_owned());
    let user = app.github.user(&token).await?;
    session::issue(app, &user, &token).await
}

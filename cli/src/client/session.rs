//! `cairn login` (a GitHub token traded for a cairn session, `POST /v1/auth/token`) and
//! `cairn logout` (`DELETE /v1/auth/session`); the session is stored per server URL and never
//! printed.

use std::io::Read;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::api::Api;
use super::credentials::{self, Stored};
use super::{note, Error};

/// The API of `url` with the session stored for it.
pub fn signed_in(url: &str) -> Result<Api, Error> {
    let stored = credentials::load(url)?.ok_or_else(|| Error::NotSignedIn {
        url: url.to_owned(),
    })?;
    Ok(Api::new(url, Some(stored.session_token)))
}

/// Signs in to `url` with a GitHub token and stores the session.
pub fn login(url: &str, token_on_stdin: bool) -> Result<(), Error> {
    let github_token = github_token(token_on_stdin)?;
    let api = Api::new(url, None);
    let answer = api.call(
        "POST",
        "/v1/auth/token",
        &[],
        Some(&json!({ "github_token": github_token.expose_secret() })),
    )?;
    let body = api.success(answer)?;
    let (Some(token), Some(login), Some(expires_at)) = (
        body["session_token"].as_str(),
        body["user"]["github_login"].as_str(),
        body["expires_at"].as_str(),
    ) else {
        return Err(Error::BadAnswer {
            url: url.to_owned(),
            status: 200,
        });
    };
    credentials::save(
        url,
        Stored {
            session_token: SecretString::from(token.to_owned()),
            github_login: login.to_owned(),
            expires_at: expires_at.to_owned(),
        },
    )?;
    let until = chrono::DateTime::parse_from_rfc3339(expires_at)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| expires_at.to_owned());
    note(&format!(
        "signed in to {url} as {login} (the session lasts until {until})"
    ));
    Ok(())
}

/// Signs the stored session of `url` out and forgets it. The session is forgotten even when
/// the server cannot be told, and the failure is reported.
pub fn logout(url: &str) -> Result<(), Error> {
    let Some(stored) = credentials::load(url)? else {
        note(&format!("not signed in to {url}"));
        return Ok(());
    };
    let login = stored.github_login.clone();
    let api = Api::new(url, Some(stored.session_token));
    let told = api.call("DELETE", "/v1/auth/session", &[], None);
    credentials::forget(url)?;
    match told {
        // 401: the session had already expired or been revoked; it is gone either way.
        Ok(a) if a.status == 204 || a.status == 401 => {
            note(&format!("signed {login} out of {url}"));
            Ok(())
        }
        Ok(a) => api.success(a).map(drop),
        Err(e) => Err(Error::LogoutUnconfirmed {
            login,
            told: Box::new(e),
        }),
    }
}

/// The GitHub token to trade: stdin when asked, else `GITHUB_TOKEN`/`GH_TOKEN`, else the GitHub
/// CLI's.
fn github_token(token_on_stdin: bool) -> Result<SecretString, Error> {
    if token_on_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::Usage(format!("cannot read the GitHub token from stdin: {e}")))?;
        let token = s.trim();
        if token.is_empty() {
            return Err(Error::Usage(
                "no GitHub token on stdin (cairn login --github-token - reads one)".to_owned(),
            ));
        }
        return Ok(SecretString::from(token.to_owned()));
    }
    for var in ["GITHUB_TOKEN", "GH_TOKEN"] {
        if let Some(t) = std::env::var(var).ok().filter(|t| !t.trim().is_empty()) {
            return Ok(SecretString::from(t.trim().to_owned()));
        }
    }
    let gh = std::process::Command::new("gh")
        .args(["auth", "token"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match gh {
        Ok(out) if out.status.success() && !out.stdout.trim_ascii().is_empty() => {
            let token = String::from_utf8_lossy(out.stdout.trim_ascii()).into_owned();
            Ok(SecretString::from(token))
        }
        Ok(_) => Err(Error::Usage(
            "the GitHub CLI is not signed in: run gh auth login, or pipe a token to cairn login --github-token -".to_owned(),
        )),
        Err(_) => Err(Error::Usage(
            "no GitHub token: pipe one to cairn login --github-token -, set GITHUB_TOKEN, or install the GitHub CLI and run gh auth login".to_owned(),
        )),
    }
}

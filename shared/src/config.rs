//! Typed configuration, read from the environment once at cold start. A missing or bad variable
//! fails with its name. Every variable is listed in `.env.sample` and `template.yaml`.

use std::time::Duration;

use anyhow::{bail, Context};
use secrecy::SecretString;

/// Events per project per minute when `CAIRN_RATE_LIMIT_PER_MINUTE` is unset: 100 a second,
/// far above a healthy app's errors, low enough that one leaked DSN or error loop cannot fill
/// the database. `0` turns the limit off.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 6000;

/// Everything the functions need from the environment.
pub struct Config {
    pub database_url: SecretString,
    /// Public base URL, used in DSNs and hook URLs (no trailing slash).
    pub public_url: String,
    /// 32-byte key for AEAD of stored GitHub tokens and webhook secrets.
    pub secret_key: SecretKey,
    pub github: GitHubConfig,
    pub retention_days: u32,
    /// Events per project per minute; 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Concurrent ingest statements per instance (`CAIRN_INGEST_WRITERS`); 0: half the pool
    /// (`ingest::group::writers`).
    pub ingest_writers: usize,
    pub db: DbConfig,
    /// Lifetime of a cairn session.
    pub session_ttl: Duration,
    /// How long a GitHub repo-permission answer is trusted.
    pub access_cache_ttl: Duration,
    /// Origins a sign-in may redirect back to with its token (besides `public_url`).
    pub allowed_return_origins: Vec<String>,
    /// Editor extensions (`publisher.name`) whose URI handler a sign-in may hand its token to
    /// (`vscode://<id>/…`); cairn's own, `cairn.cairn`, by default.
    pub editor_extension_ids: Vec<String>,
}

/// GitHub OAuth app and API endpoints.
pub struct GitHubConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub oauth_url: String,
    pub api_url: String,
    pub timeout: Duration,
}

/// Pool settings (small on Lambda: one pool per instance, lazy connect).
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// 0 disables sqlx's prepared-statement cache (needed behind transaction poolers).
    pub statement_cache_capacity: usize,
}

/// The AEAD key; redacted in `Debug`.
#[derive(Clone)]
pub struct SecretKey(pub [u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

impl SecretKey {
    /// Accepts 64 hex characters or standard base64 of exactly 32 bytes.
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        use base64::Engine;
        let s = s.trim();
        let bytes = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(s).context("hex")?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .context("expected 64 hex characters or base64 of 32 bytes")?
        };
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("key must be 32 bytes"))?;
        Ok(Self(key))
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("environment variable {name} is invalid: {e}")),
    }
}

impl Config {
    /// Reads the configuration from the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let Some(database_url) = var("DATABASE_URL") else {
            bail!("environment variable DATABASE_URL is not set");
        };
        let Some(secret) = var("CAIRN_SECRET_KEY") else {
            bail!("environment variable CAIRN_SECRET_KEY is not set (64 hex characters)");
        };
        let secret_key = SecretKey::parse(&secret)
            .context("environment variable CAIRN_SECRET_KEY is invalid")?;
        let public_url = var("CAIRN_PUBLIC_URL")
            .unwrap_or_else(|| "http://127.0.0.1:3000".to_owned())
            .trim_end_matches('/')
            .to_owned();
        url::Url::parse(&public_url).context("environment variable CAIRN_PUBLIC_URL is invalid")?;
        let list = |name: &str| -> Option<Vec<String>> {
            var(name).map(|v| {
                v.split(',')
                    .map(|s| s.trim().trim_end_matches('/').to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
        };
        let allowed_return_origins = list("CAIRN_ALLOWED_RETURN_ORIGINS").unwrap_or_default();
        let editor_extension_ids =
            list("CAIRN_EDITOR_EXTENSION_IDS").unwrap_or_else(|| vec!["cairn.cairn".to_owned()]);
        Ok(Self {
            database_url: SecretString::from(database_url),
            public_url,
            secret_key,
            github: GitHubConfig {
                client_id: var("GITHUB_CLIENT_ID"),
                client_secret: var("GITHUB_CLIENT_SECRET").map(SecretString::from),
                oauth_url: var("GITHUB_OAUTH_URL")
                    .unwrap_or_else(|| "https://github.com".to_owned())
                    .trim_end_matches('/')
                    .to_owned(),
                api_url: var("GITHUB_API_URL")
                    .unwrap_or_else(|| "https://api.github.com".to_owned())
                    .trim_end_matches('/')
                    .to_owned(),
                timeout: Duration::from_secs(parse_var("GITHUB_TIMEOUT_SECONDS", 10)?),
            },
            retention_days: parse_var("CAIRN_RETENTION_DAYS", 90)?,
            rate_limit_per_minute: parse_var(
                "CAIRN_RATE_LIMIT_PER_MINUTE",
                DEFAULT_RATE_LIMIT_PER_MINUTE,
            )?,
            ingest_writers: parse_var("CAIRN_INGEST_WRITERS", 0)?,
            db: DbConfig {
                max_connections: parse_var("CAIRN_DB_MAX_CONNECTIONS", 2)?,
                acquire_timeout: Duration::from_millis(parse_var(
                    "CAIRN_DB_ACQUIRE_TIMEOUT_MS",
                    3000,
                )?),
                statement_cache_capacity: parse_var("CAIRN_DB_STATEMENT_CACHE", 100)?,
            },
            session_ttl: Duration::from_secs(
                parse_var("CAIRN_SESSION_TTL_HOURS", 24u64 * 30)? * 3600,
            ),
            access_cache_ttl: Duration::from_secs(parse_var("CAIRN_ACCESS_CACHE_SECONDS", 300)?),
            allowed_return_origins,
            editor_extension_ids,
        })
    }
}

/// Reads the configuration from the environment and builds a Lambda function's state from it
/// with `build` (pool, clients), once at cold start. Any error, of either step, is also reported
/// to the Runtime API's `/init/error`, so Lambda shows its cause (`Runtime.ConfigError:
/// environment variable … is not set`) instead of a bare exit status.
pub fn from_env_on_lambda<T>(build: impl FnOnce(Config) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let built = Config::from_env().and_then(build);
    if let Err(e) = &built {
        report_init_error(&format!("{e:#}"));
    }
    built
}

/// Posts `message` to `/2018-06-01/runtime/init/error` on `AWS_LAMBDA_RUNTIME_API` (a loopback
/// endpoint: one plain HTTP/1.1 request, blocking, as the process is about to exit). Nothing to
/// do off Lambda; a failure is only logged.
fn report_init_error(message: &str) {
    use std::io::{Read, Write};
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body = serde_json::json!({"errorType": "Runtime.ConfigError", "errorMessage": message, "stackTrace": []})
        .to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nhost: {api}\r\ncontent-type: application/json\r\n\
         lambda-runtime-function-error-type: Runtime.ConfigError\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let send = || -> std::io::Result<()> {
        let timeout = std::time::Duration::from_secs(2);
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&api)?
            .next()
            .ok_or_else(|| std::io::Error::other("AWS_LAMBDA_RUNTIME_API has no address"))?;
        let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(request.as_bytes())?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        Ok(())
    };
    if let Err(e) = send() {
        tracing::warn!(error = %e, "could not report the init error to the runtime API");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_accepts_hex_and_base64_of_32_bytes() {
        assert!(SecretKey::parse(&"ab".repeat(32)).is_ok());
        assert!(SecretKey::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_ok());
        assert!(SecretKey::parse("short").is_err());
        assert_eq!(format!("{:?}", SecretKey([7; 32])), "SecretKey([redacted])");
    }
}

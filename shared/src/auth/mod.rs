//! Who is calling: cairn sessions for users, repo access checked on GitHub with each session's
//! own token and cached per session. Everything here works from an [`Auth`], built once per
//! instance; any router state that lends one ([`AuthState`]) can take the signed-in [`Caller`]
//! as an extractor.

pub mod access;
mod error;
pub mod oauth;
pub mod session;
pub mod throttle;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::config::{Config, SecretKey};
use crate::crypto;
use crate::github::{GitHub, OctocrabGitHub};

pub use access::{require, Grant};
pub use error::AuthError;
pub use oauth::OAuth;
pub use session::{authenticate, Caller};

/// What sessions and access checks need: the pool, GitHub, the key that seals the GitHub tokens
/// kept beside sessions, and the two lifetimes. Cheap to clone (the pool and GitHub are shared).
/// No `Debug`: it holds the key.
#[derive(Clone)]
pub struct Auth {
    pool: PgPool,
    github: Arc<dyn GitHub>,
    secret_key: SecretKey,
    session_ttl: Duration,
    access_cache_ttl: Duration,
}

impl Auth {
    /// Builds the auth checks from configuration, with octocrab against the configured GitHub.
    pub fn new(config: &Config, pool: PgPool) -> Self {
        Self {
            pool,
            github: Arc::new(OctocrabGitHub::new(&config.github)),
            secret_key: config.secret_key.clone(),
            session_ttl: config.session_ttl,
            access_cache_ttl: config.access_cache_ttl,
        }
    }

    /// The database the sessions, users and cached access answers live in.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Seals a secret to store (a GitHub token, a PKCE verifier, a webhook secret).
    pub(crate) fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        crypto::seal(&self.secret_key, plaintext)
    }

    /// Opens a sealed secret as text; `None` when it was sealed under another key or is damaged.
    pub(crate) fn open(&self, sealed: &[u8]) -> Option<String> {
        crypto::open(&self.secret_key, sealed)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    }
}

/// A router state that lends an [`Auth`]: the [`Caller`] extractor works on any of them, so each
/// function keeps a state of its own.
pub trait AuthState: Send + Sync {
    /// The auth checks of this state.
    fn auth(&self) -> &Auth;
}

impl AuthState for Auth {
    fn auth(&self) -> &Auth {
        self
    }
}

impl<T: AuthState> AuthState for Arc<T> {
    fn auth(&self) -> &Auth {
        (**self).auth()
    }
}

//! Source maps uploaded by Sentry's own tools (issue 19): `sentry-cli sourcemaps upload`, the
//! bundler plugins and `@sentry/nextjs` speak one protocol, implemented here without their help.
//!
//! - [`tokens`]: upload tokens in Sentry's org-token format, so `SENTRY_AUTH_TOKEN` alone tells
//!   the uploader where to go; stored as SHA-256 like every credential.
//! - [`chunks`]: the chunk-upload options and the chunks themselves (SHA-1 named, gzip), kept in
//!   PostgreSQL until their bundle is assembled.
//! - [`bundle`]: an artifact bundle (a zip with `manifest.json`) read under [`Limits`] that are
//!   enforced while unzipping, never from what the zip declares.
//! - [`assemble`]: chunks → bundle → artifacts by `(project, debug_id, kind)`, in one transaction.
//! - [`store`]: the artifacts' SQL and their compression.
//! - [`frames`]: an event's frames matched to its `debug_meta` images and resolved.
//! - [`resolve`]: a minified frame through its map to the original file, line, column and name,
//!   with a per-instance cache of parsed maps under a memory budget.
//! - [`late`]: incidents whose events came before their maps, located again when the maps come.
//! - [`releases`]: releases the upload tools announce, recorded with their commit.
//! - [`paths`]: a map's `sources` entry made repo-relative (bundler prefixes, then the stack
//!   path rules).

pub mod assemble;
pub mod bundle;
pub mod chunks;
mod error;
pub mod frames;
pub mod late;
mod multipart;
pub mod paths;
pub mod releases;
pub mod resolve;
pub mod store;
pub mod tokens;

pub use error::UploadsError;

use sqlx::PgPool;

use crate::config::Config;
use tokens::TokenProject;

/// The uploads function's state: the pool, cairn's public URL (what uploaders are told to call)
/// and the [`Limits`] every upload is held to.
pub struct Uploads {
    pub pool: PgPool,
    /// cairn's public base URL, without a trailing `/`.
    pub public_url: String,
    pub limits: Limits,
}

impl Uploads {
    /// The state for `pool`, with the default [`Limits`].
    pub fn new(config: &Config, pool: PgPool) -> Self {
        Self {
            pool,
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            limits: Limits::DEFAULT,
        }
    }

    /// The project of a live upload token; `raw` is the bearer credential, if one was sent.
    pub async fn uploader(&self, raw: Option<&str>) -> Result<TokenProject, UploadsError> {
        let raw = raw.ok_or(UploadsError::MissingToken)?;
        tokens::authenticate(&self.pool, raw)
            .await?
            .ok_or(UploadsError::InvalidToken)
    }
}

/// Sizes the upload path refuses to go past. Each is checked on the bytes actually read (a zip's
/// declared sizes are never trusted), so a zip bomb stops at the first limit it crosses.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// One chunk, uncompressed (and the chunk size advertised to uploaders): 512 KiB, a power of
    /// two as sentry-cli ≤ 2.39 requires, so that one chunk request (gzip of a zip slice, which
    /// does not shrink, plus the form around it) stays under the 1 MiB every request body is
    /// held to (`shared::http::MAX_BODY_BYTES`, `cairn serve` and API Gateway alike).
    pub chunk: usize,
    /// One assembled bundle (the zip itself).
    pub bundle: usize,
    /// One file inside the bundle, uncompressed.
    pub file: usize,
    /// All files of one bundle, uncompressed, together.
    pub total_unzipped: usize,
    /// Entries in one bundle.
    pub entries: usize,
}

impl Limits {
    /// The limits cairn runs with (documented in README.md).
    pub const DEFAULT: Limits = Limits {
        chunk: 512 * 1024,
        bundle: 64 * 1024 * 1024,
        file: 32 * 1024 * 1024,
        total_unzipped: 256 * 1024 * 1024,
        entries: 10_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A debug id: the UUID that `sentry-cli sourcemaps inject` (or a bundler plugin) writes into a
/// minified file and its map, and that the SDK reports in `debug_meta.images`. Kept in the
/// canonical lowercase hyphenated form, whatever form it came in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DebugId(String);

impl DebugId {
    /// Accepts a UUID with or without hyphens, in either case (and, as Sentry's debug ids may
    /// carry, a `-0`-style appendix of zero, which is dropped); anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        let hex = match hex.len() {
            32 => hex,
            33 if hex.ends_with('0') => hex[..32].to_owned(),
            _ => return None,
        };
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) || s.len() > 40 {
            return None;
        }
        let h = hex.to_ascii_lowercase();
        Some(Self(format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DebugId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::DebugId;

    #[test]
    fn debug_ids_take_one_canonical_form() {
        let want = "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a";
        for s in [
            want,
            "C941C6BD-3A1E-4B2F-9D3C-1F2E3D4C5B6A",
            "c941c6bd3a1e4b2f9d3c1f2e3d4c5b6a",
            " c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a-0 ",
        ] {
            assert_eq!(DebugId::parse(s).unwrap().as_str(), want, "{s}");
        }
        for bad in [
            "",
            "c941c6bd",
            "g941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a",
            "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a-1",
        ] {
            assert!(DebugId::parse(bad).is_none(), "{bad}");
        }
    }
}

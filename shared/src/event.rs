//! The one shape every ingest format is parsed into: native JSON, Sentry envelope and Sentry store
//! requests all become an [`ErrorEvent`] and go through the same `ingest` use case.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// An error event as a client sent it, before authentication, commit resolution, path
/// normalisation and grouping. Strings are as received (already length-capped by the parser).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorEvent {
    /// Client-chosen id that makes retries idempotent (Sentry's 32-hex `event_id`).
    pub event_id: Option<String>,
    /// Exception class or error name, e.g. `TypeError`.
    pub error_type: Option<String>,
    /// The error message; never empty after parsing (a placeholder is used when a format allows
    /// an event without one).
    pub error_message: String,
    /// The stack trace as the runtime printed it, when the client sent text.
    pub stack_trace: Option<String>,
    /// Structured frames, oldest call first (Sentry's order). Empty when only text was sent.
    pub frames: Vec<Frame>,
    /// Commit SHA as sent (validated later).
    pub commit_sha: Option<String>,
    /// Release string as sent; a 7–40 hex release is treated as a commit.
    pub release: Option<String>,
    /// Vercel deployment id (`dpl_…`), used to resolve the commit.
    pub deployment_id: Option<String>,
    pub environment: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// End-user identifier (id, email or IP); stored only as a hash.
    pub user_id: Option<String>,
    /// SDK-given grouping; may contain `{{ default }}`.
    pub fingerprint: Option<Vec<String>>,
    pub level: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub metadata: serde_json::Value,
    /// `python`, `node`, `javascript`, … when the format says.
    pub platform: Option<String>,
    /// The trimmed raw payload kept with the event (jsonb).
    pub payload: Payload,
    /// The source maps a Sentry event names in `debug_meta.images` (minified JavaScript): ingest
    /// resolves the frames in their files through the uploaded maps (`sourcemaps::frames`).
    pub debug_images: Vec<crate::sourcemaps::frames::Image>,
}

/// The payload kept with an event: a parsed document (cleaned and serialised when stored), or
/// JSON text PostgreSQL takes as it is. Native events are nearly always text as the client sent
/// it (when [`storable_as_sent`] says so: no document is built for them at all); Sentry events
/// are documents, trimmed, cleaned and serialised once by the Sentry mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Parsed(serde_json::Value),
    /// Valid JSON without NULs that `jsonb` accepts: text that passed [`storable_as_sent`], or a
    /// cleaned document serialised by serde (finite numbers, no lone surrogates).
    Text(String),
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Parsed(serde_json::Value::Null)
    }
}

impl Payload {
    /// The payload as a document (text is parsed; `Null` if it somehow does not parse).
    #[cfg(test)]
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            Payload::Parsed(v) => v.clone(),
            Payload::Text(t) => serde_json::from_str(t).unwrap_or_default(),
        }
    }
}

/// Whether valid JSON `text` can be stored as `jsonb` exactly as sent, i.e. it holds nothing
/// that parsing into a document would have refused or changed: no `\u` escape in any string
/// (a NUL, which `jsonb` refuses and cairn removes, or a lone surrogate, which serde refuses),
/// and no number with an exponent or longer than 64 characters (which could overflow serde's
/// `f64` or PostgreSQL's `numeric`). One pass; `false` sends the text through the parsed path.
pub fn storable_as_sent(text: &str) -> bool {
    let (mut in_str, mut escaped, mut number_run) = (false, false, 0usize);
    for &b in text.as_bytes() {
        if in_str {
            match (escaped, b) {
                (true, b'u') => return false,
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_str = true;
                number_run = 0;
            }
            b'e' | b'E' if number_run > 0 => return false,
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                number_run += 1;
                if number_run > 64 {
                    return false;
                }
            }
            _ => number_run = 0,
        }
    }
    true
}

/// One stack frame as reported by the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// The path as the runtime reported it (absolute, URL, or relative); not yet repo-relative.
    pub file_path: Option<String>,
    /// Module name (Python `app.payments`, Java class), used when the path is missing or relative.
    pub module: Option<String>,
    pub function: Option<String>,
    pub line_number: Option<u32>,
    pub column_number: Option<u32>,
    /// What the client said; `None` when it did not say.
    pub in_app: Option<bool>,
}

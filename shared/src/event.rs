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
    pub payload: serde_json::Value,
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

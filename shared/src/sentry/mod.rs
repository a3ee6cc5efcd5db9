//! The Sentry ingest protocol, so official Sentry SDKs can send to cairn unmodified.
//!
//! Pure parsing, no I/O: the ingest handler decodes the body ([`decode_body`]), finds the public
//! key ([`key_from_auth_header`], [`key_from_query`], or the envelope header's `dsn` through
//! [`key_from_dsn`]) and turns the body into [`ErrorEvent`]s with [`events_from_envelope`]
//! (`POST /api/{id}/envelope/`) or [`event_from_store`] (`POST /api/{id}/store/`).
//!
//! Every failure is a [`SentryError`] with a stable [`SentryError::code`] and an HTTP
//! [`SentryError::status`]: a malformed body is a clear 4xx, never a panic or a 500.
//!
//! Limits (docs/ARCHITECTURE.md, Limits): [`MAX_BODY_BYTES`] as sent and
//! [`MAX_DECOMPRESSED_BYTES`] decoded (enforced while decompressing), [`MAX_EVENT_BYTES`] per
//! event, [`MAX_ITEMS`] items per envelope, JSON nesting at most [`MAX_JSON_DEPTH`], at most
//! [`MAX_FRAMES`] frames kept.

mod auth;
mod decompress;
mod envelope;
mod event;
mod json;
mod payload;
mod view;

pub use auth::{key_from_auth_header, key_from_dsn, key_from_envelope_header, key_from_query};
pub use decompress::decode_body;
pub use envelope::{parse_envelope, Envelope, EnvelopeHeader, Item, SdkInfo};
pub use event::{event_from_json, NO_MESSAGE};

use crate::event::ErrorEvent;

// The limits every route shares, defined once (`crate::http`, `crate::stack`).
pub use crate::http::{MAX_BODY_BYTES, MAX_DECOMPRESSED_BYTES, MAX_EVENT_BYTES, MAX_JSON_DEPTH};
pub use crate::stack::MAX_FRAMES;

/// Most items one envelope may hold (ingested or skipped).
pub const MAX_ITEMS: usize = 100;

/// Why a Sentry request was refused. Each variant has a stable [`code`](Self::code) and an HTTP
/// [`status`](Self::status); messages are lowercase human text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SentryError {
    /// The body (as sent or once decompressed) is over the limit. 413 `payload_too_large`.
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// A `Content-Encoding` cairn does not decode. 415 `unsupported_content_encoding`.
    #[error("unsupported content encoding: {0}")]
    UnsupportedEncoding(String),
    /// The body is not valid data for its `Content-Encoding`. 400 `invalid_compression`.
    #[error("invalid compressed body: {0}")]
    BadCompression(String),
    /// The body is empty or only whitespace. 400 `empty_body`.
    #[error("empty body")]
    EmptyBody,
    /// The envelope's first line is not a JSON object. 400 `invalid_envelope_header`.
    #[error("invalid envelope header: {0}")]
    InvalidEnvelopeHeader(String),
    /// An item header line is not a JSON object with a string `type` (and a valid `length`).
    /// 400 `invalid_item_header`.
    #[error("invalid item header: {0}")]
    InvalidItemHeader(String),
    /// An item's `length` runs past the end of the body, or is not followed by a newline.
    /// 400 `invalid_item_length`.
    #[error("item length out of bounds: {0}")]
    ItemLengthOutOfBounds(String),
    /// The envelope has more than [`MAX_ITEMS`] items. 413 `too_many_items`.
    #[error("too many envelope items (limit {limit})")]
    TooManyItems {
        /// The item limit.
        limit: usize,
    },
    /// An event payload is not valid JSON. 400 `invalid_json`.
    #[error("invalid json: {0}")]
    InvalidJson(String),
    /// An event payload is valid JSON but not an object. 400 `invalid_event`.
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// JSON nested deeper than [`MAX_JSON_DEPTH`]. 400 `json_too_deep`.
    #[error("json nested deeper than {limit} levels")]
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
    /// One event is over [`MAX_EVENT_BYTES`]. 413 `event_too_large`.
    #[error("event too large (limit {limit} bytes)")]
    EventTooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// No `sentry_key` in `X-Sentry-Auth`, the query string or the envelope `dsn`.
    /// 401 `missing_sentry_key`.
    #[error("missing sentry key")]
    MissingKey,
}

impl SentryError {
    /// The stable snake_case code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedEncoding(_) => "unsupported_content_encoding",
            Self::BadCompression(_) => "invalid_compression",
            Self::EmptyBody => "empty_body",
            Self::InvalidEnvelopeHeader(_) => "invalid_envelope_header",
            Self::InvalidItemHeader(_) => "invalid_item_header",
            Self::ItemLengthOutOfBounds(_) => "invalid_item_length",
            Self::TooManyItems { .. } => "too_many_items",
            Self::InvalidJson(_) => "invalid_json",
            Self::InvalidEvent(_) => "invalid_event",
            Self::TooDeep { .. } => "json_too_deep",
            Self::EventTooLarge { .. } => "event_too_large",
            Self::MissingKey => "missing_sentry_key",
        }
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Self::PayloadTooLarge { .. }
            | Self::TooManyItems { .. }
            | Self::EventTooLarge { .. } => 413,
            Self::UnsupportedEncoding(_) => 415,
            Self::MissingKey => 401,
            Self::BadCompression(_)
            | Self::EmptyBody
            | Self::InvalidEnvelopeHeader(_)
            | Self::InvalidItemHeader(_)
            | Self::ItemLengthOutOfBounds(_)
            | Self::InvalidJson(_)
            | Self::InvalidEvent(_)
            | Self::TooDeep { .. } => 400,
        }
    }
}

/// Item types that are accepted and dropped without being looked at (besides unknown types,
/// which are dropped too). Listed for documentation and tests.
pub const SKIPPED_ITEM_TYPES: &[&str] = &[
    "session",
    "sessions",
    "client_report",
    "transaction",
    "span",
    "attachment",
    "check_in",
    "profile",
    "profile_chunk",
    "replay_event",
    "replay_recording",
    "replay_video",
    "statsd",
    "metric_buckets",
    "log",
    "user_report",
    "feedback",
];

/// Parses a decoded envelope body and maps every `event` item to an [`ErrorEvent`]; all other
/// item types are skipped. An event without `event_id` gets the envelope header's.
///
/// A body with only sessions or client reports yields an empty list, not an error.
pub fn events_from_envelope(body: &[u8]) -> Result<(EnvelopeHeader, Vec<ErrorEvent>), SentryError> {
    let envelope = parse_envelope(body)?;
    let mut events = Vec::new();
    for item in envelope.items.iter().filter(|item| item.ty == "event") {
        let mut event = event_from_json(item.payload)?;
        if event.event_id.is_none() {
            event.event_id.clone_from(&envelope.header.event_id);
        }
        events.push(event);
    }
    Ok((envelope.header, events))
}

/// Maps a decoded legacy `/store/` body (one event JSON) to an [`ErrorEvent`].
///
/// Very old SDKs (raven) sent the store body as base64 of zlib-compressed JSON without a
/// `Content-Encoding`; such a body is recognised (it does not start with `{`) and unpacked,
/// bounded by [`MAX_EVENT_BYTES`].
pub fn event_from_store(body: &[u8]) -> Result<ErrorEvent, SentryError> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Err(SentryError::EmptyBody);
    }
    if trimmed.first() == Some(&b'{') {
        return event_from_json(trimmed);
    }
    let unpacked = decompress::unpack_legacy_store(trimmed)?;
    event_from_json(&unpacked)
}

#[cfg(test)]
mod tests;

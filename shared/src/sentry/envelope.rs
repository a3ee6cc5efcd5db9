//! The Sentry envelope format: a JSON header line, then items, each a JSON header line and a
//! payload of exactly `length` bytes (then an optional newline) or, without `length`, up to the
//! next newline or the end.
//!
//! Leniency, where it cannot change the meaning of a valid envelope: leading whitespace before
//! the header, blank lines between items, a trailing newline or whitespace, and `\r\n` line ends
//! (the `\r` is dropped from header lines and from payloads read up to a newline).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::json::{check_depth, str_field, timestamp, FIELD_MAX};
use super::view::Scalar;
use super::{SentryError, MAX_ITEMS, MAX_JSON_DEPTH};

/// A parsed envelope borrowing its payloads from the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<'a> {
    /// The first line.
    pub header: EnvelopeHeader,
    /// The items in order, at most [`MAX_ITEMS`].
    pub items: Vec<Item<'a>>,
}

/// The envelope header fields cairn uses; all optional (`{}` is a valid header).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvelopeHeader {
    /// The event id of the event item, when the envelope carries one.
    pub event_id: Option<String>,
    /// The DSN the SDK was configured with; a source of the public key.
    pub dsn: Option<String>,
    /// When the SDK sent the envelope.
    pub sent_at: Option<DateTime<Utc>>,
    /// The SDK that sent it.
    pub sdk: Option<SdkInfo>,
}

/// `sdk` of an envelope header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdkInfo {
    /// e.g. `sentry.python`.
    pub name: Option<String>,
    /// e.g. `2.75.0`.
    pub version: Option<String>,
}

/// One envelope item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<'a> {
    /// The item `type`: `event`, `session`, `attachment`, …
    pub ty: String,
    /// The `content_type` header, when given.
    pub content_type: Option<String>,
    /// The payload bytes.
    pub payload: &'a [u8],
}

/// Parses a decoded envelope body.
///
/// Errors: [`SentryError::EmptyBody`] for nothing but whitespace,
/// [`SentryError::InvalidEnvelopeHeader`] / [`SentryError::InvalidItemHeader`] for header lines
/// that are not JSON objects (an item header needs a string `type` and, when given, a
/// non-negative integer `length`), [`SentryError::ItemLengthOutOfBounds`] when `length` runs past
/// the end or is not followed by a newline or the end, [`SentryError::TooManyItems`] past
/// [`MAX_ITEMS`], [`SentryError::TooDeep`] for header lines nested too deep.
pub fn parse_envelope(body: &[u8]) -> Result<Envelope<'_>, SentryError> {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or(SentryError::EmptyBody)?;
    let (line, mut pos) = line_at(body, start);
    let header = json_object(line, SentryError::InvalidEnvelopeHeader)?;
    let header = envelope_header(&header);

    let mut items = Vec::new();
    loop {
        pos = skip_blank_lines(body, pos);
        if pos >= body.len() {
            break;
        }
        if items.len() >= MAX_ITEMS {
            return Err(SentryError::TooManyItems { limit: MAX_ITEMS });
        }
        let index = items.len() + 1;
        let (line, payload_start) = line_at(body, pos);
        let item_header = json_object(line, |e| {
            SentryError::InvalidItemHeader(format!("item {index}: {e}"))
        })?;
        let ty = match item_header.get("type") {
            Some(Value::String(ty)) if !ty.is_empty() => ty.clone(),
            _ => {
                let msg = format!("item {index}: missing string \"type\"");
                return Err(SentryError::InvalidItemHeader(msg));
            }
        };
        let (payload, next) = match item_header.get("length") {
            None | Some(Value::Null) => {
                let (payload, next) = line_at(body, payload_start);
                (payload.strip_suffix(b"\r").unwrap_or(payload), next)
            }
            Some(length) => sized_payload(body, payload_start, length, index)?,
        };
        items.push(Item {
            ty,
            content_type: str_field(&Scalar::of(item_header.get("content_type")), FIELD_MAX),
            payload,
        });
        pos = next;
    }
    Ok(Envelope { header, items })
}

/// The payload of an item with a `length`, and where the next item starts.
fn sized_payload<'a>(
    body: &'a [u8],
    start: usize,
    length: &Value,
    index: usize,
) -> Result<(&'a [u8], usize), SentryError> {
    let length = length
        .as_u64()
        .and_then(|l| usize::try_from(l).ok())
        .ok_or_else(|| {
            SentryError::InvalidItemHeader(format!(
                "item {index}: \"length\" is not a non-negative integer"
            ))
        })?;
    let end = start
        .checked_add(length)
        .filter(|end| *end <= body.len())
        .ok_or_else(|| {
            SentryError::ItemLengthOutOfBounds(format!(
                "item {index}: length {length} runs past the end of the body"
            ))
        })?;
    let payload = body.get(start..end).unwrap_or_default();
    let rest = body.get(end..).unwrap_or_default();
    let next = if rest.is_empty() {
        end
    } else if rest.starts_with(b"\n") {
        end + 1
    } else if rest.starts_with(b"\r\n") {
        end + 2
    } else {
        return Err(SentryError::ItemLengthOutOfBounds(format!(
            "item {index}: payload of length {length} is not followed by a newline"
        )));
    };
    Ok((payload, next))
}

/// The line starting at `start` (without its `\n`) and the position after the `\n`.
fn line_at(body: &[u8], start: usize) -> (&[u8], usize) {
    let rest = body.get(start..).unwrap_or_default();
    match rest.iter().position(|&b| b == b'\n') {
        Some(n) => (rest.get(..n).unwrap_or_default(), start + n + 1),
        None => (rest, body.len()),
    }
}

/// Skips lines made only of ASCII whitespace.
fn skip_blank_lines(body: &[u8], mut pos: usize) -> usize {
    while pos < body.len() {
        let (line, next) = line_at(body, pos);
        if !line.iter().all(u8::is_ascii_whitespace) {
            break;
        }
        pos = next;
    }
    pos
}

/// A header line parsed as a JSON object; `invalid` makes the error from the reason.
fn json_object(
    line: &[u8],
    invalid: impl FnOnce(String) -> SentryError,
) -> Result<Map<String, Value>, SentryError> {
    check_depth(line, MAX_JSON_DEPTH)?;
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid("not a json object".to_owned())),
        Err(e) => Err(invalid(format!("not json: {e}"))),
    }
}

/// The fields cairn reads from an envelope header; wrongly typed fields are ignored.
fn envelope_header(map: &Map<String, Value>) -> EnvelopeHeader {
    EnvelopeHeader {
        event_id: str_field(&Scalar::of(map.get("event_id")), FIELD_MAX),
        dsn: str_field(&Scalar::of(map.get("dsn")), FIELD_MAX),
        sent_at: timestamp(&Scalar::of(map.get("sent_at"))),
        sdk: map
            .get("sdk")
            .and_then(Value::as_object)
            .map(|sdk| SdkInfo {
                name: str_field(&Scalar::of(sdk.get("name")), FIELD_MAX),
                version: str_field(&Scalar::of(sdk.get("version")), FIELD_MAX),
            }),
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;

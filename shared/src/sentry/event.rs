//! One Sentry event JSON (an envelope `event` item or a `/store/` body) → [`ErrorEvent`].
//!
//! Decisions:
//! - The raised exception is the last of `exception.values` (`exception` may also be a bare
//!   array, or a single exception object); the chained ones stay in `payload`.
//! - An event without an exception (`capture_message`, logging) is kept with `error_type`
//!   `None` and the text of `logentry` / `message` (a string or `{formatted, message, params}`;
//!   `formatted` preferred, the template otherwise, no `%s` substitution). Without any text the
//!   message is [`NO_MESSAGE`], as `error_message` is never empty.
//! - Frames, oldest first, come from the raised exception's stack trace, else from the crashed
//!   (else current, else the exception's, else the first) thread's, else from a top-level
//!   `stacktrace`; the newest [`MAX_FRAMES`] are kept. Paths are left as sent.
//! - `commit_sha`: the `commit_sha` tag, else a release that is a SHA (`a1b2c3d…`,
//!   `my-app@a1b2c3d…`, `my-app@1.2.3+a1b2c3d…`), lowercased. A SHA is 7–40 hex digits; below 40
//!   it must contain a letter, so numeric releases (`2024061`) are not taken for commits.
//! - `level` is lowercased, with `warn` → `warning` and `critical` → `fatal`; absent stays `None`.
//! - `user_id`: `user.id`, else `user.email`, else `user.ip_address` (not the `{{auto}}`
//!   placeholder, which would merge every user).
//! - Strings are cut on char boundaries: the message at 8 KiB, everything else at 1 KiB.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::json::{
    as_u32, parse_bounded, scalar_text, str_field, timestamp, truncate, FIELD_MAX, MESSAGE_MAX,
};
use super::payload::{exception_values, stored, thread_values};
use super::{SentryError, MAX_EVENT_BYTES, MAX_FRAMES};
use crate::event::{ErrorEvent, Frame};

/// The `error_message` of an event that carries no text at all.
pub const NO_MESSAGE: &str = "<no message>";

/// Most tags kept.
const MAX_TAGS: usize = 200;
/// Most fingerprint parts kept.
const MAX_FINGERPRINT: usize = 50;

/// Maps one Sentry event JSON document to an [`ErrorEvent`].
///
/// Errors: [`SentryError::EventTooLarge`] over [`MAX_EVENT_BYTES`], [`SentryError::TooDeep`]
/// (checked before parsing), [`SentryError::InvalidJson`], and [`SentryError::InvalidEvent`] for
/// JSON that is not an object. Wrongly typed fields are ignored, never an error.
pub fn event_from_json(bytes: &[u8]) -> Result<ErrorEvent, SentryError> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(SentryError::EventTooLarge {
            limit: MAX_EVENT_BYTES,
        });
    }
    match parse_bounded(bytes)? {
        Value::Object(map) => Ok(map_event(map, bytes)),
        _ => Err(SentryError::InvalidEvent(
            "event is not a json object".into(),
        )),
    }
}

/// The mapping proper; `payload` gets the trimmed document (or `sent`, the event's JSON as
/// sent, when trimming changes nothing: see [`stored`]).
fn map_event(event: Map<String, Value>, sent: &[u8]) -> ErrorEvent {
    let exceptions = exception_values(event.get("exception"));
    let raised = exceptions.last().copied();
    let error_type = raised.and_then(|e| str_field(e.get("type"), FIELD_MAX));
    let error_message = raised
        .and_then(|e| str_field(e.get("value"), MESSAGE_MAX))
        .or_else(|| message_text(&event))
        .unwrap_or_else(|| NO_MESSAGE.to_owned());

    let frames = raised
        .map(|e| frames_of(e.get("stacktrace")))
        .filter(|f| !f.is_empty())
        .or_else(|| thread_frames(&event, raised.and_then(|e| e.get("thread_id"))))
        .unwrap_or_else(|| frames_of(event.get("stacktrace")));

    let tags = tags_of(event.get("tags"));
    let tag = |name: &str| tags.get(name).filter(|v| !v.trim().is_empty()).cloned();
    let release = str_field(event.get("release"), FIELD_MAX);
    let commit_sha = tag("commit_sha").or_else(|| release.as_deref().and_then(commit_from_release));
    let deployment_id = tag("vercel.deployment_id").or_else(|| tag("deployment_id"));

    let metadata = metadata_of(&event, raised);
    ErrorEvent {
        event_id: str_field(event.get("event_id"), FIELD_MAX),
        error_type,
        error_message,
        stack_trace: None,
        frames,
        commit_sha,
        release,
        deployment_id,
        environment: str_field(event.get("environment"), FIELD_MAX),
        occurred_at: timestamp(event.get("timestamp")),
        user_id: user_id_of(event.get("user")),
        fingerprint: fingerprint_of(event.get("fingerprint")),
        level: str_field(event.get("level"), FIELD_MAX).map(|l| normalise_level(&l)),
        tags,
        metadata,
        platform: str_field(event.get("platform"), FIELD_MAX),
        payload: stored(event, sent),
    }
}

/// The text of `logentry`, else `message`: a string, or an object's `formatted` or `message`.
fn message_text(event: &Map<String, Value>) -> Option<String> {
    ["logentry", "message"]
        .iter()
        .find_map(|key| match event.get(*key)? {
            text @ Value::String(_) => str_field(Some(text), MESSAGE_MAX),
            Value::Object(entry) => str_field(entry.get("formatted"), MESSAGE_MAX)
                .or_else(|| str_field(entry.get("message"), MESSAGE_MAX)),
            _ => None,
        })
}

/// The frames of a `stacktrace` object, oldest first, the newest [`MAX_FRAMES`] of them.
fn frames_of(stacktrace: Option<&Value>) -> Vec<Frame> {
    let Some(frames) = stacktrace
        .and_then(|s| s.get("frames"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let frames: Vec<&Map<String, Value>> = frames.iter().filter_map(Value::as_object).collect();
    let skip = frames.len().saturating_sub(MAX_FRAMES);
    frames.into_iter().skip(skip).map(frame_of).collect()
}

/// One frame: `abs_path` preferred over `filename`.
fn frame_of(frame: &Map<String, Value>) -> Frame {
    Frame {
        file_path: str_field(frame.get("abs_path"), FIELD_MAX)
            .or_else(|| str_field(frame.get("filename"), FIELD_MAX)),
        module: str_field(frame.get("module"), FIELD_MAX),
        function: str_field(frame.get("function"), FIELD_MAX),
        line_number: as_u32(frame.get("lineno")),
        column_number: as_u32(frame.get("colno")),
        in_app: frame.get("in_app").and_then(Value::as_bool),
    }
}

/// Frames of the crashed thread, else the current one, else the exception's, else the first
/// thread that has any; `None` when no thread has frames.
fn thread_frames(event: &Map<String, Value>, thread_id: Option<&Value>) -> Option<Vec<Frame>> {
    let threads = thread_values(event.get("threads"));
    let flag = |name: &str| {
        threads
            .iter()
            .find(|t| t.get(name).and_then(Value::as_bool) == Some(true))
            .copied()
    };
    let by_id = thread_id.and_then(|id| threads.iter().find(|t| t.get("id") == Some(id)).copied());
    [flag("crashed"), flag("current"), by_id]
        .into_iter()
        .flatten()
        .chain(threads.iter().copied())
        .map(|t| frames_of(t.get("stacktrace")))
        .find(|f| !f.is_empty())
}

/// Tags from an object (`{"k": "v"}`) or an array of `[k, v]` pairs; scalar values as text.
fn tags_of(tags: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut insert = |key: &str, value: &Value| {
        if out.len() < MAX_TAGS && !key.trim().is_empty() {
            if let Some(value) = scalar_text(value, FIELD_MAX) {
                out.insert(truncate(key, FIELD_MAX), value);
            }
        }
    };
    match tags {
        Some(Value::Object(map)) => map.iter().for_each(|(k, v)| insert(k, v)),
        Some(Value::Array(list)) => {
            for pair in list {
                if let Some([Value::String(k), v]) = pair.as_array().map(Vec::as_slice) {
                    insert(k, v);
                }
            }
        }
        _ => {}
    }
    out
}

/// A commit SHA in a release: the whole release, the part after the last `@`, or its build
/// metadata after `+`.
fn commit_from_release(release: &str) -> Option<String> {
    let release = release.trim();
    let version = release.rsplit_once('@').map_or(release, |(_, v)| v);
    let build = version.rsplit_once('+').map(|(_, b)| b);
    [Some(release), Some(version), build]
        .into_iter()
        .flatten()
        .find(|s| is_sha(s))
        .map(str::to_ascii_lowercase)
}

/// 7–40 hex digits; below 40 at least one must be a letter.
fn is_sha(s: &str) -> bool {
    (7..=40).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_hexdigit())
        && (s.len() == 40 || s.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// `user.id`, else `user.email`, else `user.ip_address` (not `{{auto}}`).
fn user_id_of(user: Option<&Value>) -> Option<String> {
    let user = user?.as_object()?;
    ["id", "email", "ip_address"].iter().find_map(|key| {
        let text = scalar_text(user.get(*key)?, FIELD_MAX)?;
        let placeholder = text.trim().is_empty() || text.trim() == "{{auto}}";
        (!placeholder).then_some(text)
    })
}

/// `fingerprint`: strings as sent (`{{ default }}` included), numbers and booleans as text.
fn fingerprint_of(fingerprint: Option<&Value>) -> Option<Vec<String>> {
    let parts: Vec<String> = fingerprint?
        .as_array()?
        .iter()
        .filter_map(|part| scalar_text(part, FIELD_MAX))
        .take(MAX_FINGERPRINT)
        .collect();
    (!parts.is_empty()).then_some(parts)
}

/// Lowercase, with the common aliases mapped to Sentry's names.
fn normalise_level(level: &str) -> String {
    match level.trim().to_ascii_lowercase().as_str() {
        "warn" => "warning".to_owned(),
        "critical" => "fatal".to_owned(),
        other => other.to_owned(),
    }
}

/// Small facts worth keeping outside the payload: SDK, server, logger, transaction, and how the
/// raised exception was captured.
fn metadata_of(event: &Map<String, Value>, raised: Option<&Map<String, Value>>) -> Value {
    let mut meta = Map::new();
    if let Some(sdk) = event.get("sdk").and_then(Value::as_object) {
        let mut info = Map::new();
        for key in ["name", "version"] {
            if let Some(v) = str_field(sdk.get(key), FIELD_MAX) {
                info.insert(key.to_owned(), Value::String(v));
            }
        }
        meta.insert("sdk".to_owned(), Value::Object(info));
    }
    for key in ["server_name", "logger", "transaction"] {
        if let Some(v) = str_field(event.get(key), FIELD_MAX) {
            meta.insert(key.to_owned(), Value::String(v));
        }
    }
    if let Some(mechanism) = raised
        .and_then(|e| e.get("mechanism"))
        .and_then(Value::as_object)
    {
        if let Some(handled) = mechanism.get("handled").and_then(Value::as_bool) {
            meta.insert("handled".to_owned(), Value::Bool(handled));
        }
        if let Some(ty) = str_field(mechanism.get("type"), FIELD_MAX) {
            meta.insert("mechanism".to_owned(), Value::String(ty));
        }
    }
    Value::Object(meta)
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;

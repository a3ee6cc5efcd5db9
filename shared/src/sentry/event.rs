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
    as_u32, check_depth, scalar_text, str_field, timestamp, truncate, FIELD_MAX, MESSAGE_MAX,
};
use super::payload::{stored, unchanged_by_trimming};
use super::view::{self, Exception, Message, Scalar, Shape, Stacktrace, Tags, Thread};
use super::{SentryError, MAX_EVENT_BYTES, MAX_FRAMES, MAX_JSON_DEPTH};
use crate::event::{ErrorEvent, Frame, Payload};

/// The `error_message` of an event that carries no text at all.
pub const NO_MESSAGE: &str = "<no message>";

/// Most tags kept.
const MAX_TAGS: usize = 200;
/// Most fingerprint parts kept.
const MAX_FINGERPRINT: usize = 50;

/// Maps one Sentry event JSON document to an [`ErrorEvent`].
///
/// The fields are read straight from the text ([`view`]); a document is built only when the
/// payload must be trimmed, or when an object repeats a key (then the event is read again from
/// its document serialised once, which keeps the last value of each key, as a document does).
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
    check_depth(bytes, MAX_JSON_DEPTH)?;
    if let Ok(event) = view::read(bytes) {
        let mut mapped = map_event(&event);
        mapped.payload = match std::str::from_utf8(bytes) {
            Ok(text) if unchanged_by_trimming(&event, text) => Payload::Text(text.to_owned()),
            _ => stored(document(bytes)?, bytes),
        };
        return Ok(mapped);
    }
    // Invalid JSON, not an object, or a key repeated: the document tells which.
    let event = document(bytes)?;
    let canonical = serde_json::to_vec(&event)
        .map_err(|e| SentryError::InvalidEvent(format!("event cannot be read: {e}")))?;
    let read = view::read(&canonical)
        .map_err(|e| SentryError::InvalidEvent(format!("event cannot be read: {e}")))?;
    let mut mapped = map_event(&read);
    mapped.payload = stored(event, bytes);
    Ok(mapped)
}

/// The event as a document (its JSON object).
fn document(bytes: &[u8]) -> Result<Map<String, Value>, SentryError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(SentryError::InvalidEvent(
            "event is not a json object".into(),
        )),
        Err(e) => Err(SentryError::InvalidJson(e.to_string())),
    }
}

/// The mapping proper; the payload is left for the caller.
fn map_event(event: &view::Event<'_>) -> ErrorEvent {
    let exceptions = exception_values(&event.exception);
    let raised = exceptions.last().copied();
    let error_type = raised.and_then(|e| str_field(&e.ty, FIELD_MAX));
    let error_message = raised
        .and_then(|e| str_field(&e.value, MESSAGE_MAX))
        .or_else(|| message_text(event))
        .unwrap_or_else(|| NO_MESSAGE.to_owned());

    let frames = raised
        .map(|e| frames_of(&e.stacktrace))
        .filter(|f| !f.is_empty())
        .or_else(|| thread_frames(&event.threads, raised.map(|e| &e.thread_id)))
        .unwrap_or_else(|| frames_of(&event.stacktrace));

    let tags = tags_of(&event.tags);
    let tag = |name: &str| tags.get(name).filter(|v| !v.trim().is_empty()).cloned();
    let release = str_field(&event.release, FIELD_MAX);
    let commit_sha = tag("commit_sha").or_else(|| release.as_deref().and_then(commit_from_release));
    let deployment_id = tag("vercel.deployment_id").or_else(|| tag("deployment_id"));

    let metadata = metadata_of(event, raised);
    ErrorEvent {
        event_id: str_field(&event.event_id, FIELD_MAX),
        error_type,
        error_message,
        stack_trace: None,
        frames,
        commit_sha,
        release,
        deployment_id,
        environment: str_field(&event.environment, FIELD_MAX),
        occurred_at: timestamp(&event.timestamp),
        user_id: user_id_of(&event.user),
        fingerprint: fingerprint_of(&event.fingerprint),
        level: str_field(&event.level, FIELD_MAX).map(|l| normalise_level(&l)),
        tags,
        metadata,
        platform: str_field(&event.platform, FIELD_MAX),
        payload: Payload::default(),
        debug_images: debug_images(&event.debug_meta),
    }
}

/// The `sourcemap` images of the event's `debug_meta` (JavaScript SDKs with debug ids), read
/// with the rest of the event; an image without a readable debug id is no image.
fn debug_images(meta: &view::DebugMeta<'_>) -> Vec<crate::sourcemaps::frames::Image> {
    meta.images
        .iter()
        .take(crate::sourcemaps::frames::MAX_IMAGES)
        .filter_map(|(code_file, debug_id)| {
            crate::sourcemaps::frames::image(code_file.as_str()?, debug_id.as_str()?)
        })
        .collect()
}

/// The objects of the `exception` interface: `{"values": [...]}`, a bare array, or a single
/// exception object (one with a `type` or `value`).
fn exception_values<'e, 'a>(exception: &'e Shape<'a, Exception<'a>>) -> Vec<&'e Exception<'a>> {
    match exception {
        Shape::Map(e) if e.values.0.is_none() && e.ty.is_absent() && e.value.is_absent() => {
            Vec::new()
        }
        _ => exception.interface_objects(|e| &e.values),
    }
}

/// The thread objects of `threads` (`{"values": [...]}` or a bare array; never a lone thread).
fn thread_values<'e, 'a>(threads: &'e Shape<'a, Thread<'a>>) -> Vec<&'e Thread<'a>> {
    match threads {
        Shape::Map(t) if t.values.0.is_none() => Vec::new(),
        _ => threads.interface_objects(|t| &t.values),
    }
}

/// The text of `logentry`, else `message`: a string, or an object's `formatted` or `message`.
fn message_text(event: &view::Event<'_>) -> Option<String> {
    [&event.logentry, &event.message]
        .into_iter()
        .find_map(|entry: &Shape<'_, Message<'_>>| match entry {
            Shape::Scalar(text @ Scalar::Str(_)) => str_field(text, MESSAGE_MAX),
            Shape::Map(entry) => str_field(&entry.formatted, MESSAGE_MAX)
                .or_else(|| str_field(&entry.message, MESSAGE_MAX)),
            _ => None,
        })
}

/// The frames of a `stacktrace` object, oldest first, the newest [`MAX_FRAMES`] of them.
fn frames_of(stacktrace: &Shape<'_, Stacktrace<'_>>) -> Vec<Frame> {
    let Some(frames) = stacktrace.as_map().and_then(|s| s.frames.as_seq()) else {
        return Vec::new();
    };
    let skip = frames.len().saturating_sub(MAX_FRAMES);
    frames.iter().skip(skip).map(frame_of).collect()
}

/// One frame: `abs_path` preferred over `filename`.
fn frame_of(frame: &view::Frame<'_>) -> Frame {
    Frame {
        file_path: str_field(&frame.abs_path, FIELD_MAX)
            .or_else(|| str_field(&frame.filename, FIELD_MAX)),
        module: str_field(&frame.module, FIELD_MAX),
        function: str_field(&frame.function, FIELD_MAX),
        line_number: as_u32(&frame.lineno),
        column_number: as_u32(&frame.colno),
        in_app: frame.in_app.as_bool(),
    }
}

/// Frames of the crashed thread, else the current one, else the exception's, else the first
/// thread that has any; `None` when no thread has frames.
fn thread_frames(
    threads: &Shape<'_, Thread<'_>>,
    thread_id: Option<&Scalar<'_>>,
) -> Option<Vec<Frame>> {
    let threads = thread_values(threads);
    let flagged = |flag: fn(&Thread<'_>) -> bool| threads.iter().find(|t| flag(t)).copied();
    let by_id = thread_id
        .filter(|id| !id.is_absent())
        .and_then(|id| threads.iter().find(|t| t.id.same(id)).copied());
    [
        flagged(|t| t.crashed.as_bool() == Some(true)),
        flagged(|t| t.current.as_bool() == Some(true)),
        by_id,
    ]
    .into_iter()
    .flatten()
    .chain(threads.iter().copied())
    .map(|t| frames_of(&t.stacktrace))
    .find(|f| !f.is_empty())
}

/// Tags from an object (`{"k": "v"}`, the last of a repeated key, in key order) or an array of
/// `[k, v]` pairs; scalar values as text.
fn tags_of(tags: &Tags<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut insert = |key: &str, value: &Scalar<'_>| {
        if out.len() < MAX_TAGS && !key.trim().is_empty() {
            if let Some(value) = scalar_text(value, FIELD_MAX) {
                out.insert(truncate(key, FIELD_MAX), value);
            }
        }
    };
    match tags {
        Tags::Map(entries) => {
            let entries: BTreeMap<&str, &Scalar<'_>> =
                entries.iter().map(|(k, v)| (k.as_ref(), v)).collect();
            entries.into_iter().for_each(|(k, v)| insert(k, v));
        }
        Tags::Pairs(pairs) => pairs
            .iter()
            .flatten()
            .for_each(|(k, v)| insert(k.as_ref(), v)),
        Tags::Other => {}
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
fn user_id_of(user: &Shape<'_, view::User<'_>>) -> Option<String> {
    let user = user.as_map()?;
    [&user.id, &user.email, &user.ip_address]
        .into_iter()
        .find_map(|value| {
            let text = scalar_text(value, FIELD_MAX)?;
            let placeholder = text.trim().is_empty() || text.trim() == "{{auto}}";
            (!placeholder).then_some(text)
        })
}

/// `fingerprint`: strings as sent (`{{ default }}` included), numbers and booleans as text.
fn fingerprint_of(fingerprint: &view::Scalars<'_>) -> Option<Vec<String>> {
    let parts: Vec<String> = fingerprint
        .0
        .as_ref()?
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
fn metadata_of(event: &view::Event<'_>, raised: Option<&Exception<'_>>) -> Value {
    let mut meta = Map::new();
    if let Some(sdk) = event.sdk.as_map() {
        let mut info = Map::new();
        for (key, value) in [("name", &sdk.name), ("version", &sdk.version)] {
            if let Some(v) = str_field(value, FIELD_MAX) {
                info.insert(key.to_owned(), Value::String(v));
            }
        }
        meta.insert("sdk".to_owned(), Value::Object(info));
    }
    for (key, value) in [
        ("server_name", &event.server_name),
        ("logger", &event.logger),
        ("transaction", &event.transaction),
    ] {
        if let Some(v) = str_field(value, FIELD_MAX) {
            meta.insert(key.to_owned(), Value::String(v));
        }
    }
    if let Some(mechanism) = raised.and_then(|e| e.mechanism.as_map()) {
        if let Some(handled) = mechanism.handled.as_bool() {
            meta.insert("handled".to_owned(), Value::Bool(handled));
        }
        if let Some(ty) = str_field(&mechanism.ty, FIELD_MAX) {
            meta.insert("mechanism".to_owned(), Value::String(ty));
        }
    }
    Value::Object(meta)
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;

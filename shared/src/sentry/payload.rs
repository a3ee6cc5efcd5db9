//! The raw event kept with each accepted event (jsonb), trimmed to what helps a human debug it.
//!
//! Always: ingest keys scrubbed from strings, `debug_meta` dropped unless it holds source-map
//! images alone (a JavaScript SDK's few `{type: sourcemap, code_file, debug_id}`, what a late map
//! is matched by; native SDKs list every loaded library), breadcrumbs cut to the last [`BREADCRUMBS_KEPT`], every stack
//! trace cut to its newest [`MAX_FRAMES`] frames with frame `vars` dropped. Then, while the
//! document is over [`PAYLOAD_MAX`] bytes of JSON, whole sections go in this order:
//! [`DROPPABLE`], then frames' source context lines; as a last resort only identifying scalars
//! and the last [`EXCEPTIONS_KEPT`] exceptions' `type`/`value` stay, with `"_cairn_truncated":
//! true`.

use std::io::Write;

use serde_json::{Map, Value};

use super::json::{truncate, FIELD_MAX, MESSAGE_MAX};
use super::view::{self, Shape};
use super::MAX_FRAMES;
use crate::event::Payload;

/// How cairn ingest keys start.
const KEY_PREFIX: &str = "cairn_ik_";
/// Largest trimmed payload, in bytes of JSON.
pub(super) const PAYLOAD_MAX: usize = crate::scrub::PAYLOAD_MAX;
/// Breadcrumbs kept (the newest).
const BREADCRUMBS_KEPT: usize = 20;
/// Top-level sections dropped, in order, while the payload is too large.
const DROPPABLE: &[&str] = &[
    "debug_meta",
    "breadcrumbs",
    "extra",
    "request",
    "modules",
    "contexts",
    "spans",
    "threads",
    "sdk",
];
/// Frame keys holding source lines, dropped when sections were not enough.
const CONTEXT_KEYS: &[&str] = &["pre_context", "post_context", "context_line"];
/// Exceptions kept by the last-resort payload.
const EXCEPTIONS_KEPT: usize = 10;
/// Scalars kept by the last-resort payload.
const IDENTIFYING: &[&str] = &[
    "event_id",
    "timestamp",
    "level",
    "platform",
    "environment",
    "release",
    "message",
];

/// The objects of an interface that is `{"values": [...]}`, a bare array, or a single object
/// (`exception`).
fn exception_values(value: Option<&Value>) -> Vec<&Map<String, Value>> {
    match value {
        Some(Value::Object(map)) => match map.get("values") {
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
            Some(_) => Vec::new(),
            None if map.contains_key("type") || map.contains_key("value") => vec![map],
            None => Vec::new(),
        },
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// The payload to store for `event`, parsed from `sent` (the event's JSON as the SDK sent it):
/// [`trim`]med, with NULs removed (`jsonb` refuses them). When trimming leaves the event as it
/// was and `sent` is within [`PAYLOAD_MAX`] and storable as it is
/// ([`crate::event::storable_as_sent`]: no `\u` escape, so no NUL either), `sent` itself is the
/// payload, as for native events. Otherwise a document within [`PAYLOAD_MAX`] is serialised
/// once, here, and stored as that text; only a larger one is shrunk section by section.
pub(super) fn stored(event: Map<String, Value>, sent: &[u8]) -> Payload {
    let (event, trimmed) = always_tracked(event);
    if !trimmed {
        if let Ok(text) = std::str::from_utf8(sent) {
            if text.len() <= PAYLOAD_MAX && crate::event::storable_as_sent(text) {
                return Payload::Text(text.to_owned());
            }
        }
    }
    let mut doc = Value::Object(event);
    crate::ingest::prepare::clean_json(&mut doc);
    let Value::Object(event) = doc else {
        unreachable!("cleaning keeps an object an object")
    };
    match serde_json::to_string(&event) {
        Ok(text) if text.len() <= PAYLOAD_MAX => Payload::Text(text),
        _ => Payload::Parsed(shrink(event)),
    }
}

/// Whether [`stored`] would keep `text` (the event's JSON as sent, read as `event`) as it is:
/// trimming would change nothing (no `debug_meta` but source-map images, no ingest key in a string, at most
/// [`BREADCRUMBS_KEPT`] breadcrumbs, no stack trace over [`MAX_FRAMES`] frames or with frame
/// `vars`), and the text is within [`PAYLOAD_MAX`] and storable as it is. Read from the event
/// without a document; `false` sends the event the long way, through [`stored`].
pub(super) fn unchanged_by_trimming(event: &view::Event<'_>, text: &str) -> bool {
    if event.debug_meta.other
        || text.len() > PAYLOAD_MAX
        || !crate::event::storable_as_sent(text)
        // With no `\u` escape (`storable_as_sent`), a string holding the prefix holds it as
        // these bytes; anywhere else in the text it only costs the long way.
        || text.contains(KEY_PREFIX)
    {
        return false;
    }
    let breadcrumbs = match &event.breadcrumbs {
        Shape::Map(b) => match b.values {
            Shape::Seq(_, all) => all,
            _ => 0,
        },
        Shape::Seq(_, all) => *all,
        _ => 0,
    };
    if breadcrumbs > BREADCRUMBS_KEPT {
        return false;
    }
    // The stack traces `for_each_stacktrace` visits, as read.
    let trimmed = |st: &Shape<'_, view::Stacktrace<'_>>| match st.as_map().map(|s| &s.frames) {
        Some(Shape::Seq(frames, all)) => *all > MAX_FRAMES || frames.iter().any(|f| f.vars.0),
        _ => false,
    };
    let exceptions = event.exception.interface_objects(|e| &e.values);
    let threads = event.threads.interface_objects(|t| &t.values);
    !(exceptions
        .iter()
        .any(|e| trimmed(&e.stacktrace) || trimmed(&e.raw_stacktrace))
        || threads
            .iter()
            .any(|t| trimmed(&t.stacktrace) || trimmed(&t.raw_stacktrace))
        || trimmed(&event.stacktrace))
}

/// The trimmed payload for `event`, as a document, NULs left in (what the tests look at).
#[cfg(test)]
pub(super) fn trim(event: Map<String, Value>) -> Value {
    shrink(always(event))
}

/// What is always dropped or cut.
#[cfg(test)]
fn always(event: Map<String, Value>) -> Map<String, Value> {
    always_tracked(event).0
}

/// What is always dropped or cut, and whether anything was.
fn always_tracked(mut event: Map<String, Value>) -> (Map<String, Value>, bool) {
    let mut trimmed = match event.get("debug_meta") {
        Some(meta) if !sourcemap_images_only(meta) => event.remove("debug_meta").is_some(),
        _ => false,
    };
    event.values_mut().for_each(|v| trimmed |= scrub_keys(v));
    trimmed |= keep_last_breadcrumbs(&mut event);
    for_each_stacktrace(&mut event, &mut |stacktrace| {
        if let Some(Value::Array(frames)) = stacktrace.get_mut("frames") {
            let excess = frames.len().saturating_sub(MAX_FRAMES);
            trimmed |= excess > 0;
            frames.drain(..excess);
            for frame in frames.iter_mut().filter_map(Value::as_object_mut) {
                trimmed |= frame.remove("vars").is_some();
            }
        }
    });
    (event, trimmed)
}

/// Whether `debug_meta` holds source-map images alone: an object with at most an `images` array
/// of `{"type": "sourcemap", "code_file", "debug_id"}` objects (what `view::DebugMeta` reads from
/// the text, decided the same way).
fn sourcemap_images_only(meta: &Value) -> bool {
    let image = |i: &Value| {
        i.as_object().is_some_and(|o| {
            o.get("type").and_then(Value::as_str) == Some("sourcemap")
                && o.keys()
                    .all(|k| matches!(k.as_str(), "type" | "code_file" | "debug_id"))
        })
    };
    meta.as_object().is_some_and(|m| {
        m.iter().all(|(k, v)| {
            k == "images" && v.as_array().is_some_and(|images| images.iter().all(image))
        })
    })
}

/// Sections dropped while the document is over [`PAYLOAD_MAX`].
fn shrink(mut event: Map<String, Value>) -> Value {
    for key in DROPPABLE {
        if json_len(&event) <= PAYLOAD_MAX {
            return Value::Object(event);
        }
        event.remove(*key);
    }
    if json_len(&event) <= PAYLOAD_MAX {
        return Value::Object(event);
    }
    for_each_stacktrace(&mut event, &mut |stacktrace| {
        if let Some(Value::Array(frames)) = stacktrace.get_mut("frames") {
            for frame in frames.iter_mut().filter_map(Value::as_object_mut) {
                for key in CONTEXT_KEYS {
                    frame.remove(*key);
                }
            }
        }
    });
    if json_len(&event) <= PAYLOAD_MAX {
        return Value::Object(event);
    }
    last_resort(&event)
}

/// Identifying scalars and the last exceptions' type and value, all bounded.
fn last_resort(event: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for key in IDENTIFYING {
        match event.get(*key) {
            Some(Value::String(s)) => {
                out.insert((*key).to_owned(), Value::String(truncate(s, MESSAGE_MAX)));
            }
            Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                out.insert((*key).to_owned(), v.clone());
            }
            _ => {}
        }
    }
    let exceptions = exception_values(event.get("exception"));
    let skip = exceptions.len().saturating_sub(EXCEPTIONS_KEPT);
    let values: Vec<Value> = exceptions
        .into_iter()
        .skip(skip)
        .map(|e| {
            let mut small = Map::new();
            for (key, max) in [("type", FIELD_MAX), ("value", MESSAGE_MAX)] {
                if let Some(s) = e.get(key).and_then(Value::as_str) {
                    small.insert(key.to_owned(), Value::String(truncate(s, max)));
                }
            }
            Value::Object(small)
        })
        .collect();
    if !values.is_empty() {
        let mut exception = Map::new();
        exception.insert("values".to_owned(), Value::Array(values));
        out.insert("exception".to_owned(), Value::Object(exception));
    }
    out.insert("_cairn_truncated".to_owned(), Value::Bool(true));
    Value::Object(out)
}

/// Replaces cairn ingest keys (`cairn_ik_…`) in every string with `cairn_ik_[Filtered]`: SDKs
/// echo the DSN (Python's `extra.sys.argv`, request URLs), and keys are only stored hashed.
/// Returns whether a string held a key prefix (and was rewritten).
fn scrub_keys(value: &mut Value) -> bool {
    match value {
        Value::String(s) if s.contains(KEY_PREFIX) => {
            *s = scrub_str(s);
            true
        }
        Value::Array(list) => list.iter_mut().fold(false, |hit, v| scrub_keys(v) | hit),
        Value::Object(map) => map.values_mut().fold(false, |hit, v| scrub_keys(v) | hit),
        _ => false,
    }
}

/// `s` with the alphanumeric run after each [`KEY_PREFIX`] replaced.
fn scrub_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(KEY_PREFIX) {
        let after = at + KEY_PREFIX.len();
        out.push_str(rest.get(..after).unwrap_or_default());
        let tail = rest.get(after..).unwrap_or_default();
        let secret = tail
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tail.len());
        if secret > 0 {
            out.push_str("[Filtered]");
        }
        rest = tail.get(secret..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Keeps the newest breadcrumbs (`{"values": [...]}` or a bare array).
fn keep_last_breadcrumbs(event: &mut Map<String, Value>) -> bool {
    let list = match event.get_mut("breadcrumbs") {
        Some(Value::Object(map)) => match map.get_mut("values") {
            Some(Value::Array(list)) => list,
            _ => return false,
        },
        Some(Value::Array(list)) => list,
        _ => return false,
    };
    let excess = list.len().saturating_sub(BREADCRUMBS_KEPT);
    list.drain(..excess);
    excess > 0
}

/// Calls `f` on every stack trace object: exceptions' `stacktrace` and `raw_stacktrace`,
/// threads' `stacktrace`, and the top-level `stacktrace`.
fn for_each_stacktrace(event: &mut Map<String, Value>, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    for key in ["exception", "threads"] {
        let holders: Vec<&mut Value> = match event.get_mut(key) {
            Some(Value::Object(map)) if map.contains_key("values") => match map.get_mut("values") {
                Some(Value::Array(list)) => list.iter_mut().collect(),
                _ => Vec::new(),
            },
            Some(single @ Value::Object(_)) => vec![single],
            Some(Value::Array(list)) => list.iter_mut().collect(),
            _ => Vec::new(),
        };
        for holder in holders.into_iter().filter_map(Value::as_object_mut) {
            for st in ["stacktrace", "raw_stacktrace"] {
                if let Some(Value::Object(stacktrace)) = holder.get_mut(st) {
                    f(stacktrace);
                }
            }
        }
    }
    if let Some(Value::Object(stacktrace)) = event.get_mut("stacktrace") {
        f(stacktrace);
    }
}

/// The length of `value` as compact JSON, without building the text.
fn json_len(value: &Map<String, Value>) -> usize {
    struct Counter(usize);
    impl Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;

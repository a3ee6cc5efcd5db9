//! What is removed from an event before it is stored, as Sentry's Relay does by default: the
//! values of sensitive keys anywhere in the payload (`password`, `secret`, `token`, `api_key`,
//! `auth`, `cookie`, …, so request headers such as `Authorization`, `Cookie` and `X-Api-Key`,
//! and `request.cookies`), sensitive pairs of a query string, `Bearer` credentials in any
//! string, and the end user's email; IP addresses (`user.ip_address`, the client-address
//! headers, `REMOTE_ADDR`) unless the project stores them. Each removed value becomes
//! `"[Filtered]"` (an IP address of `user` is removed), and so is a native event's `user_id`,
//! which is kept only as its hash. Also the keyed hash that stands for an end user
//! ([`UserHasher`]).

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// What a removed value is replaced with (Relay's word).
pub const FILTERED: &str = "[Filtered]";

/// Parts of key names whose values are secrets (compared lowercased, `-` read as `_`).
const SENSITIVE_KEYS: &[&str] = &[
    "password",
    "passwd",
    "mysql_pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "auth",
    "credentials",
    "private_key",
    "privatekey",
    "session_key",
    "sessionid",
    "cookie",
    "csrf",
    "xsrf",
    "signature",
    "dsn",
];

/// Key names whose values are a client's IP address (lowercased, `-` read as `_`).
const IP_KEYS: &[&str] = &[
    "ip_address",
    "x_forwarded_for",
    "x_real_ip",
    "forwarded",
    "cf_connecting_ip",
    "true_client_ip",
    "x_client_ip",
    "remote_addr",
    "client_ip",
];

/// Key names whose values are an end user's email address.
const EMAIL_KEYS: &[&str] = &["email", "user_email"];

/// Whether IP addresses are kept (the project opted in) or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ips {
    Remove,
    Keep,
}

fn normalised(key: &str) -> String {
    key.to_ascii_lowercase().replace('-', "_")
}

fn is_sensitive(key: &str) -> bool {
    let k = normalised(key);
    SENSITIVE_KEYS.iter().any(|s| k.contains(s))
}

fn is_ip(key: &str) -> bool {
    IP_KEYS.contains(&normalised(key).as_str())
}

fn is_email(key: &str) -> bool {
    EMAIL_KEYS.contains(&normalised(key).as_str())
}

/// Whether `text` (an event's JSON) may hold anything [`scrub`] removes: when `false`, the text
/// is stored as it is, without building a document. Errs on the side of `true`.
pub fn might_need(text: &str) -> bool {
    let lower = text.to_ascii_lowercase().replace('-', "_");
    SENSITIVE_KEYS
        .iter()
        .chain(IP_KEYS)
        .chain(EMAIL_KEYS)
        .any(|k| lower.contains(k))
        || lower.contains("bearer ")
        || lower.contains("user_id")
}

/// Scrubs `event` in place; returns whether anything was removed.
pub fn scrub(event: &mut Value, ips: Ips) -> bool {
    let mut changed = false;
    if let Value::Object(map) = event {
        if let Some(Value::Object(user)) = map.get_mut("user") {
            if ips == Ips::Remove {
                changed |= user.remove("ip_address").is_some();
            }
        }
        // A native event's end user (an id, email or IP): kept only as its keyed hash.
        if let Some(user) = map.get_mut("user_id") {
            changed |= filtered(user);
        }
    }
    changed | walk(event, ips)
}

fn filtered(value: &mut Value) -> bool {
    let already = matches!(value, Value::String(s) if s == FILTERED) || value.is_null();
    if !already {
        *value = Value::String(FILTERED.to_owned());
    }
    !already
}

fn walk(value: &mut Value, ips: Ips) -> bool {
    match value {
        Value::Object(map) => walk_map(map, ips),
        Value::Array(list) => {
            // A list of `[name, value]` pairs (Sentry's header and query forms).
            let mut changed = false;
            for item in list.iter_mut() {
                if let Value::Array(pair) = item {
                    if let [Value::String(name), v] = pair.as_mut_slice() {
                        if drop_value(name, ips) {
                            changed |= filtered(v);
                            continue;
                        }
                    }
                }
                changed |= walk(item, ips);
            }
            changed
        }
        Value::String(s) => scrub_string(s),
        _ => false,
    }
}

/// Whether the value under the key `name` goes.
fn drop_value(name: &str, ips: Ips) -> bool {
    is_sensitive(name) || is_email(name) || (ips == Ips::Remove && is_ip(name))
}

fn walk_map(map: &mut Map<String, Value>, ips: Ips) -> bool {
    let mut changed = false;
    for (key, v) in map.iter_mut() {
        if drop_value(key, ips) {
            changed |= filtered(v);
        } else if key == "query_string" || key == "url" {
            changed |= match v {
                Value::String(s) => scrub_query(s, ips),
                other => walk(other, ips),
            };
        } else {
            changed |= walk(v, ips);
        }
    }
    changed
}

/// A `Bearer …` credential in free text (a logged header, an exception message).
fn scrub_string(s: &mut String) -> bool {
    let lower = s.to_ascii_lowercase();
    let Some(at) = lower.find("bearer ") else {
        return false;
    };
    let start = at + "bearer ".len();
    let rest = &s[start..];
    let len = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
        .unwrap_or(rest.len());
    if len == 0 || rest[..len] == *FILTERED {
        return false;
    }
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..start]);
    out.push_str(FILTERED);
    out.push_str(&rest[len..]);
    *s = out;
    // Another one further on.
    scrub_string(s);
    true
}

/// The sensitive pairs of the query of `s` (a URL or a bare query string) filtered.
fn scrub_query(s: &mut String, ips: Ips) -> bool {
    let (head, query, fragment) = match s.split_once('?') {
        Some((head, rest)) => {
            let (q, f) = rest
                .split_once('#')
                .map_or((rest, None), |(q, f)| (q, Some(f)));
            (Some(head), q, f)
        }
        None if s.contains("://") => return scrub_string(s),
        None => (None, s.as_str(), None),
    };
    let mut changed = false;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !v.is_empty() && drop_value(&url_decode(k), ips) => {
                changed = true;
                format!("{k}={FILTERED}")
            }
            _ => pair.to_owned(),
        })
        .collect();
    if !changed {
        return scrub_string(s);
    }
    let mut out = String::new();
    if let Some(h) = head {
        out.push_str(h);
        out.push('?');
    }
    out.push_str(&pairs.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    *s = out;
    scrub_string(s);
    true
}

fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// Largest stored payload, in bytes of JSON: Sentry's are trimmed to it on the way in
/// (`sentry/payload.rs`); a native event, or a Sentry one that scrubbing made longer, is cut
/// here the same way.
pub const PAYLOAD_MAX: usize = 256 * 1024;

/// Sections dropped, in order, while a payload is over [`PAYLOAD_MAX`]: a native event's, then
/// a Sentry event's.
const DROPPABLE: &[&str] = &[
    "metadata",
    "tags",
    "frames",
    "stack_trace",
    "breadcrumbs",
    "extra",
    "request",
    "modules",
    "contexts",
    "spans",
    "threads",
    "sdk",
];

/// Scalars kept by the last-resort payload (native and Sentry names), each cut to 8 KiB.
const IDENTIFYING: &[&str] = &[
    "event_id",
    "error_type",
    "error_message",
    "message",
    "level",
    "platform",
    "environment",
    "release",
    "commit_sha",
    "deployment_id",
    "occurred_at",
    "timestamp",
];

/// The text to store for an event's payload: scrubbed (see [`scrub`]), within
/// [`PAYLOAD_MAX`], NULs removed. A text in which nothing could need scrubbing
/// ([`might_need`]) and within the cap is stored as it is, without a document.
pub fn stored_payload(payload: crate::event::Payload, ips: Ips) -> String {
    let mut doc = match payload {
        crate::event::Payload::Text(text) => {
            if text.len() <= PAYLOAD_MAX && !might_need(&text) {
                return text;
            }
            match serde_json::from_str::<Value>(&text) {
                Ok(doc) => doc,
                // Not JSON after all: nothing of it is kept.
                Err(_) => return "{}".to_owned(),
            }
        }
        crate::event::Payload::Parsed(doc) => doc,
    };
    scrub(&mut doc, ips);
    crate::ingest::prepare::clean_json(&mut doc);
    let text = serde_json::to_string(&doc).unwrap_or_else(|_| "{}".to_owned());
    if text.len() <= PAYLOAD_MAX {
        return text;
    }
    let Value::Object(mut map) = doc else {
        return "{}".to_owned();
    };
    for key in DROPPABLE {
        map.remove(*key);
        let text = serde_json::to_string(&map).unwrap_or_default();
        if !text.is_empty() && text.len() <= PAYLOAD_MAX {
            return text;
        }
    }
    let mut small = Map::new();
    for key in IDENTIFYING {
        match map.get(*key) {
            Some(Value::String(s)) => {
                let cut = crate::ingest::prepare::clean(s, 8 * 1024);
                small.insert((*key).to_owned(), Value::String(cut));
            }
            Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                small.insert((*key).to_owned(), v.clone());
            }
            _ => {}
        }
    }
    small.insert("_cairn_truncated".to_owned(), Value::Bool(true));
    serde_json::to_string(&small).unwrap_or_else(|_| "{}".to_owned())
}

/// The keyed hash that stands for an end user of a project: HMAC-SHA256 under a key derived
/// from `CAIRN_SECRET_KEY`, so a stored hash cannot be matched against guessed emails or IPs
/// without the key (an unkeyed SHA-256 could).
#[derive(Clone)]
pub struct UserHasher {
    key: [u8; 32],
}

impl UserHasher {
    /// The hasher of the instance's secret key (its own derived key: never the key itself).
    pub fn new(secret: &crate::config::SecretKey) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret.0).expect("HMAC takes any key length");
        mac.update(b"cairn user hash v1");
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// The hash of `user` (an id, email or IP) in `project_id`.
    pub fn hash(&self, project_id: &str, user: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(project_id.as_bytes());
        mac.update(b":");
        mac.update(user.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
#[path = "scrub_tests.rs"]
mod tests;

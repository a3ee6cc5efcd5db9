//! From a parsed [`ErrorEvent`] to what is stored: frames made repo-relative, the top in-app
//! frame picked, the fingerprint computed, fields capped and cleaned for Postgres.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{ErrorEvent, Frame};
// Most frames kept per event (the innermost ones) is the stack parsers' limit.
use crate::stack::{self, fingerprint, paths, MAX_FRAMES};

/// A frame as stored and served: repo-relative path.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct OutFrame {
    pub file_path: Option<String>,
    pub line_number: Option<u32>,
    pub column_number: Option<u32>,
    pub function: Option<String>,
    pub in_app: bool,
}

/// An event ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub event_id: String,
    pub fingerprint: String,
    pub error_type: Option<String>,
    pub error_message: String,
    pub stack_trace: Option<String>,
    /// Newest call first.
    pub frames: Vec<OutFrame>,
    pub top: Option<OutFrame>,
    pub commit_sha: Option<String>,
    pub deployment_id: Option<String>,
    pub environment: Option<String>,
    pub release: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub level: String,
    pub user_hash: Option<Vec<u8>>,
    /// Serialised once here: a queued event holds its JSON text, not a tree of values.
    pub metadata: Box<serde_json::value::RawValue>,
    /// JSON text `jsonb` accepts (see [`crate::event::Payload`]).
    pub payload: String,
}

/// Cuts `s` to at most `max` bytes on a char boundary and removes NULs (Postgres text and jsonb
/// cannot hold them).
pub fn clean(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].replace('\0', "")
}

/// [`clean`] on a trimmed optional field; `None` when nothing is left.
pub fn clean_opt(s: Option<String>, max: usize) -> Option<String> {
    s.map(|v| clean(v.trim(), max)).filter(|v| !v.is_empty())
}

fn raw_json(text: &str) -> Box<serde_json::value::RawValue> {
    serde_json::value::RawValue::from_string(text.to_owned())
        .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned())
}

/// Removes NULs from every string of a JSON value (keys included), iteratively.
pub fn clean_json(value: &mut serde_json::Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => *s = s.replace('\0', ""),
            serde_json::Value::Array(a) => stack.extend(a.iter_mut()),
            serde_json::Value::Object(o) => {
                if o.keys().any(|k| k.contains('\0')) {
                    let old = std::mem::take(o);
                    *o = old
                        .into_iter()
                        .map(|(k, v)| (k.replace('\0', ""), v))
                        .collect();
                }
                stack.extend(o.values_mut());
            }
            _ => {}
        }
    }
}

/// Normalises a client event id: trimmed, lowercase, dashes dropped from UUIDs; a new random id
/// when none was sent. `None` when the id is unusable (too long or not printable).
pub fn event_id(raw: Option<&str>) -> Option<String> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(
            hex::encode(crate::crypto::sha256(
                crate::crypto::random_alphanumeric(32).as_bytes(),
            ))[..32]
                .to_owned(),
        ),
        Some(s) if s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()) => {
            let lower = s.to_ascii_lowercase();
            let undashed = lower.replace('-', "");
            Some(
                if undashed.len() == 32 && undashed.bytes().all(|b| b.is_ascii_hexdigit()) {
                    undashed
                } else {
                    lower
                },
            )
        }
        Some(_) => None,
    }
}

/// The browser SDK's wrapper (`sentryWrapped`, around every callback its TryCatch and
/// GlobalHandlers integrations instrument): it sits in the app's own bundle when the SDK is
/// bundled without maps, so only its name tells it from the app's code. Sentry's own grouping
/// leaves it out of the app too.
fn is_sdk_wrapper(function: Option<&str>) -> bool {
    function.is_some_and(|f| f == "sentryWrapped" || f.ends_with(".sentryWrapped"))
}

fn to_out(frame: &Frame, repo_name: &str, platform: Option<&str>) -> OutFrame {
    let mut raw = frame.file_path.clone().filter(|p| !p.is_empty());
    let relative = raw
        .as_deref()
        .is_none_or(|p| !p.starts_with('/') && !p.contains(':'));
    if relative {
        if let Some(m) = frame.module.as_deref() {
            if let Some(p) = paths::module_to_path(m, platform) {
                if raw.as_deref().is_none_or(|r| !r.contains('/')) {
                    raw = Some(p);
                }
            }
        }
    }
    let (file_path, rule_in_app) = match raw.as_deref() {
        Some(r) => {
            // NULs go before the rules run: removed after, `/\0/x` would come out as `/x`.
            let n = paths::normalize_path(&r.replace('\0', ""), repo_name);
            (Some(clean(&n.path, 1024)), n.in_app)
        }
        None => (None, false),
    };
    OutFrame {
        in_app: rule_in_app
            && frame.in_app != Some(false)
            && file_path.as_deref().is_some_and(|p| !p.is_empty())
            && !is_sdk_wrapper(frame.function.as_deref()),
        file_path,
        line_number: frame.line_number,
        column_number: frame.column_number,
        function: clean_opt(frame.function.clone(), 1024),
    }
}

/// What stays private in a stored event: the key of the end-user hash, and whether the
/// project keeps IP addresses.
pub struct Privacy<'a> {
    pub users: &'a crate::scrub::UserHasher,
    pub ips: crate::scrub::Ips,
}

/// What grouping reads of an event: its frames made repo-relative (newest call first), the top
/// in-app frame that locates it, and its fingerprint.
#[derive(Debug, Clone)]
pub struct Grouped {
    pub error_type: Option<String>,
    pub error_message: String,
    pub frames: Vec<OutFrame>,
    pub top: Option<OutFrame>,
    pub fingerprint: String,
}

/// Groups `ev` for the repo named `repo_name`, taking its frames and error type (the rest of
/// [`prepare`], and `sourcemaps::late` for an event whose maps came after it).
pub fn group(ev: &mut ErrorEvent, repo_name: &str) -> Grouped {
    let mut error_type = ev.error_type.take();
    let mut frames_in = std::mem::take(&mut ev.frames);
    if frames_in.is_empty() {
        if let Some(text) = ev.stack_trace.as_deref() {
            let parsed = stack::parse_stack_trace(text);
            frames_in = parsed.frames;
            if error_type.is_none() {
                error_type = parsed.error_type;
            }
        }
    }
    if frames_in.len() > MAX_FRAMES {
        frames_in.drain(..frames_in.len() - MAX_FRAMES);
    }
    let platform = ev.platform.as_deref();
    let frames: Vec<OutFrame> = frames_in
        .iter()
        .rev()
        .map(|f| to_out(f, repo_name, platform))
        .collect();
    let top = frames.iter().find(|f| f.in_app).cloned();
    let error_type = clean_opt(error_type, 256);
    let error_message = clean(&ev.error_message, 8 * 1024);
    let default = fingerprint::default_fingerprint(
        error_type.as_deref(),
        &error_message,
        top.as_ref().and_then(|t| t.file_path.as_deref()),
        top.as_ref().and_then(|t| t.function.as_deref()),
    );
    let fingerprint = match ev.fingerprint.as_deref() {
        Some(parts) if !parts.is_empty() => {
            let parts: Vec<String> = parts.iter().take(32).map(|p| clean(p, 1024)).collect();
            fingerprint::sdk_fingerprint(&parts, &default)
        }
        _ => default,
    };
    Grouped {
        error_type,
        error_message,
        frames,
        top,
        fingerprint,
    }
}

/// Prepares `ev` for the project whose repo is named `repo_name`. `event_id` must already be
/// valid (see [`event_id`]).
pub fn prepare(
    mut ev: ErrorEvent,
    repo_name: &str,
    project_id: &str,
    event_id: String,
    privacy: &Privacy<'_>,
) -> Prepared {
    let Grouped {
        error_type,
        error_message,
        frames,
        top,
        fingerprint: fp,
    } = group(&mut ev, repo_name);
    let level = match ev.level.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some(l @ ("fatal" | "error" | "warning" | "info" | "debug")) => l.to_owned(),
        Some("warn") => "warning".to_owned(),
        Some("critical") => "fatal".to_owned(),
        _ => "error".to_owned(),
    };
    let user_hash = ev
        .user_id
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| privacy.users.hash(project_id, u));
    let mut metadata = match std::mem::take(&mut ev.metadata) {
        serde_json::Value::Object(m) => serde_json::Value::Object(m),
        _ => serde_json::json!({}),
    };
    if !ev.tags.is_empty() {
        metadata["tags"] = serde_json::to_value(&ev.tags).unwrap_or_default();
    }
    clean_json(&mut metadata);
    let metadata = match serde_json::value::to_raw_value(&metadata) {
        Ok(raw) if raw.get().len() <= 64 * 1024 => raw,
        _ => raw_json(r#"{"truncated":true}"#),
    };
    // Scrubbed and capped; a text with nothing to scrub is stored as it is, not parsed again.
    let payload = crate::scrub::stored_payload(std::mem::take(&mut ev.payload), privacy.ips);
    Prepared {
        event_id,
        fingerprint: fp,
        error_type,
        error_message,
        stack_trace: clean_opt(ev.stack_trace, 64 * 1024),
        top,
        frames,
        commit_sha: ev.commit_sha.map(|c| c.trim().to_ascii_lowercase()),
        deployment_id: clean_opt(ev.deployment_id, 128),
        environment: clean_opt(ev.environment, 64),
        release: clean_opt(ev.release, 200),
        occurred_at: ev.occurred_at.unwrap_or_else(Utc::now),
        level,
        user_hash,
        metadata,
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_cut_on_char_boundaries_without_nuls() {
        assert_eq!(clean("héllo", 2), "h");
        assert_eq!(clean("a\0b", 10), "ab");
        let mut v = serde_json::json!({"a\u{0}": ["x\u{0}y", {"k": "\u{0}"}]});
        clean_json(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["xy", {"k": ""}]}));
    }

    #[test]
    fn event_ids_are_normalised() {
        assert_eq!(
            event_id(Some("474D3101-423f-4d37-954d-c413528fa577")).unwrap(),
            "474d3101423f4d37954dc413528fa577"
        );
        assert_eq!(event_id(Some("retry-1")).unwrap(), "retry-1");
        assert_eq!(event_id(None).unwrap().len(), 32);
        assert!(event_id(Some(&"x".repeat(200))).is_none());
        assert!(event_id(Some("a b")).is_none());
    }

    #[test]
    fn a_path_with_nuls_is_still_repo_relative() {
        // Found by fuzzing (fuzz target `stack_formats`): NULs were removed after the path rules,
        // so `/\0/srv/x.py` came out as `\0/srv/x.py`, then `/srv/x.py`.
        let ev = ErrorEvent {
            error_message: "boom".into(),
            frames: vec![
                Frame {
                    file_path: Some("/\0/srv/x.py".into()),
                    ..Default::default()
                },
                Frame {
                    file_path: Some("/\0/var/task/src/y.js".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let p = prepare(ev, "checkout-api", "proj_x", "e1".into(), &test_privacy());
        let paths: Vec<_> = p.frames.iter().map(|f| f.file_path.as_deref()).collect();
        assert_eq!(paths, [Some("src/y.js"), Some("srv/x.py")]);
    }

    #[test]
    fn the_top_in_app_frame_locates_the_event() {
        let ev = ErrorEvent {
            error_message: "boom".into(),
            frames: vec![
                Frame {
                    file_path: Some("/srv/checkout-api/app/main.py".into()),
                    line_number: Some(9),
                    function: Some("main".into()),
                    ..Default::default()
                },
                Frame {
                    file_path: Some("/srv/checkout-api/app/payments.py".into()),
                    line_number: Some(2),
                    function: Some("charge".into()),
                    ..Default::default()
                },
                Frame {
                    file_path: Some("/usr/lib/python3.11/site-packages/x.py".into()),
                    line_number: Some(1),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let p = prepare(ev, "checkout-api", "proj_x", "e1".into(), &test_privacy());
        let top = p.top.unwrap();
        assert_eq!(top.file_path.as_deref(), Some("app/payments.py"));
        assert_eq!(top.line_number, Some(2));
        assert!(!p.frames[0].in_app);
    }

    #[test]
    fn the_browser_sdks_wrapper_is_never_the_apps_code() {
        // A callback the browser SDK wrapped throws inside a dependency: with the SDK bundled
        // into the app's own unmapped bundle, the wrapper's frame is the newest one there.
        let frame = |path: &str, function: &str, line| Frame {
            file_path: Some(path.into()),
            function: Some(function.into()),
            line_number: Some(line),
            ..Default::default()
        };
        let ev = ErrorEvent {
            error_message: "boom".into(),
            platform: Some("javascript".into()),
            frames: vec![
                frame("https://shop.example.com/assets/index.js", "start", 3),
                frame(
                    "https://shop.example.com/assets/index.js",
                    "sentryWrapped",
                    1,
                ),
                frame(
                    "https://browser.sentry-cdn.com/8.45.0/bundle.min.js",
                    "n",
                    2,
                ),
                frame("https://shop.example.com/node_modules/lib/x.js", "parse", 7),
            ],
            ..Default::default()
        };
        let p = prepare(ev, "shop", "proj_x", "e1".into(), &test_privacy());
        let in_app: Vec<_> = p.frames.iter().map(|f| f.in_app).collect();
        assert_eq!(in_app, [false, false, false, true]);
        let top = p.top.unwrap();
        assert_eq!(
            (top.function.as_deref(), top.line_number),
            (Some("start"), Some(3))
        );
    }

    fn test_privacy() -> Privacy<'static> {
        static USERS: std::sync::OnceLock<crate::scrub::UserHasher> = std::sync::OnceLock::new();
        Privacy {
            users: USERS
                .get_or_init(|| crate::scrub::UserHasher::new(&crate::config::SecretKey([0; 32]))),
            ips: crate::scrub::Ips::Remove,
        }
    }
}

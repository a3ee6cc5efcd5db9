//! What the fuzz targets assert beyond "no panic": the properties every accepted input keeps on
//! its way to the database. Each `check_*` panics (so libFuzzer reports a crash) with the property
//! that broke.

use shared::domain::CommitSha;
use shared::event::ErrorEvent;
use shared::ingest::prepare::{self, Prepared};
use shared::stack::paths::NormalizedPath;
use shared::stack::{parse_stack_trace, MAX_FRAMES, MAX_LINE};

/// The repository the fuzzed events belong to (so the `/<repo name>/` rule is reached).
pub const REPO: &str = "acme/checkout-api";

/// Splits `data` at the first NUL byte: `(head, rest)`; no NUL gives `(data, "")`. Used to give a
/// target two inputs (a path and a repo name, an encoding and a body) from one byte string.
pub fn split2(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Runs what the ingest use case runs on one parsed event without a database
/// (`shared::ingest::ingest`): event id normalisation, then `prepare`, and checks the result.
///
/// The pure part of `ingest::resolve` is mirrored: the deployment id is cleaned as it will be
/// stored (it is bound to a query there, so it must hold no NUL), and for Sentry events a commit
/// that is not a full SHA is dropped (a short one is looked up among deployments, which only
/// ever yields a full SHA). Native events keep theirs: `native::parse` validated it.
pub fn prepare_and_check(mut ev: ErrorEvent, sentry: bool) {
    ev.deployment_id = prepare::clean_opt(ev.deployment_id.take(), 128);
    check_opt(
        "deployment_id (bound by resolve)",
        ev.deployment_id.as_deref(),
        128,
    );
    if sentry
        && ev
            .commit_sha
            .as_deref()
            .is_some_and(|c| CommitSha::parse(c).is_err())
    {
        ev.commit_sha = None;
    }
    // `event_id(None)` draws a random id: keep runs deterministic with a fixed one instead.
    let id = match ev.event_id.as_deref() {
        None => Some("0".repeat(32)),
        raw => prepare::event_id(raw),
    };
    let Some(id) = id else {
        return; // refused with 422 invalid_event_id before prepare
    };
    check_text("event_id", &id, 128);
    let frames_sent = ev.frames.len();
    let users = shared::scrub::UserHasher::new(&shared::config::SecretKey([0; 32]));
    let privacy = prepare::Privacy {
        users: &users,
        ips: shared::scrub::Ips::Remove,
    };
    let prepared = prepare::prepare(ev, REPO, "proj_fuzz", id, &privacy);
    check_prepared(&prepared, frames_sent);
}

/// The properties of a parsed event, before `prepare`: `error_message` is never empty, and the
/// Sentry parser keeps at most `MAX_FRAMES` frames (native frames are cut by `prepare`).
pub fn check_event(ev: &ErrorEvent, sentry: bool) {
    assert!(!ev.error_message.is_empty(), "empty error_message");
    if sentry {
        assert!(
            ev.frames.len() <= shared::sentry::MAX_FRAMES,
            "{} frames",
            ev.frames.len()
        );
    }
}

/// A public key as the Sentry auth helpers return it: a non-empty token of at most 256 bytes
/// without whitespace or control characters.
pub fn check_key(key: &str) {
    assert!(
        !key.is_empty() && key.len() <= 256,
        "key of {} bytes",
        key.len()
    );
    assert!(
        !key.chars().any(|c| c.is_whitespace() || c.is_control()),
        "key {key:?} has whitespace or control characters"
    );
}

/// The properties of a prepared event: the field caps and the frame limit of
/// docs/ARCHITECTURE.md, Limits; a 64-hex fingerprint, a lowercase full SHA, a known level;
/// repo-relative frame paths, an in-app top frame, and JSON metadata and payload.
pub fn check_prepared(p: &Prepared, frames_sent: usize) {
    check_fingerprint(&p.fingerprint);
    check_text("error_message", &p.error_message, 8 * 1024);
    check_opt("error_type", p.error_type.as_deref(), 256);
    check_opt("stack_trace", p.stack_trace.as_deref(), 64 * 1024);
    check_opt("deployment_id", p.deployment_id.as_deref(), 128);
    check_opt("environment", p.environment.as_deref(), 64);
    check_opt("release", p.release.as_deref(), 200);
    if let Some(c) = p.commit_sha.as_deref() {
        assert!(
            c.len() == 40 && c.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "commit_sha {c:?} is not 40 lowercase hex"
        );
    }
    assert!(
        ["fatal", "error", "warning", "info", "debug"].contains(&p.level.as_str()),
        "level {:?}",
        p.level
    );
    assert!(p.frames.len() <= 1000, "{} frames kept", p.frames.len());
    if frames_sent > 0 {
        assert_eq!(
            p.frames.len(),
            frames_sent.min(1000),
            "structured frames lost"
        );
    }
    for f in p.frames.iter().chain(p.top.as_ref()) {
        check_opt("frame.function", f.function.as_deref(), 1024);
        check_opt("frame.file_path", f.file_path.as_deref(), 1024);
        if let Some(path) = f.file_path.as_deref() {
            check_repo_relative(path, f.in_app);
        }
    }
    if let Some(top) = &p.top {
        assert!(top.in_app, "top frame is not in-app");
    }
    check_json("metadata", p.metadata.get());
    check_json("payload", &p.payload);
}

/// Parses stack-trace text and checks what comes out, then runs `prepare` on an event that
/// carries the text (which normalises the parsed paths and fingerprints the result).
pub fn check_trace(text: &str) {
    let trace = parse_stack_trace(text);
    assert!(
        trace.frames.len() <= MAX_FRAMES,
        "{} frames",
        trace.frames.len()
    );
    for f in &trace.frames {
        // Every field comes from one line, and longer lines are skipped.
        for (field, value) in [("file_path", &f.file_path), ("function", &f.function)] {
            if let Some(v) = value {
                assert!(!v.trim().is_empty(), "blank {field}");
                assert!(v.len() <= MAX_LINE, "{field} of {} bytes", v.len());
            }
        }
    }
    if let Some(t) = &trace.error_type {
        assert!(
            !t.trim().is_empty() && t.len() <= MAX_LINE,
            "error type {t:?}"
        );
    }
    if let Some(m) = &trace.error_message {
        assert!(m.len() <= text.len(), "message longer than the text");
    }
    let event = ErrorEvent {
        error_message: "fuzz".to_owned(),
        stack_trace: Some(text.to_owned()),
        ..ErrorEvent::default()
    };
    prepare_and_check(event, false);
}

/// A string of a Vercel delivery, as stored: trimmed, not empty, within its cap, no NUL.
pub fn check_vercel_text(field: &str, s: Option<&str>, max: usize) {
    if let Some(s) = s {
        assert!(
            !s.is_empty() && s.trim() == s,
            "{field} {s:?} is blank or untrimmed"
        );
        check_text(field, s, max);
    }
}

/// A fingerprint is a lowercase hex SHA-256.
pub fn check_fingerprint(fp: &str) {
    assert!(
        fp.len() == 64 && fp.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "fingerprint {fp:?} is not 64 lowercase hex"
    );
}

/// A path as `normalize_path` returns it, for the raw path it came from.
pub fn check_normalized(raw: &str, n: &NormalizedPath) {
    assert!(
        n.path.len() <= raw.len().min(4096),
        "path grew: {:?}",
        n.path
    );
    check_repo_relative(&n.path, n.in_app);
}

/// A repo-relative path: no leading `/`, no URL scheme left in it.
///
/// Except for what `normalize_path` documents as kept verbatim: a runtime's own name for its
/// internals (`node:internal/…`, `<frozen importlib._bootstrap>`, `[native code]`), which is never
/// in-app, so the IDE never opens it. Every path that went through the rules has its empty
/// segments dropped, so it cannot hold a `//`.
fn check_repo_relative(path: &str, in_app: bool) {
    assert!(!path.starts_with('/'), "path {path:?} starts with '/'");
    let runtime_name =
        !in_app && (path.starts_with("node:") || path.starts_with('<') || path == "[native code]");
    if !runtime_name {
        assert!(
            !path.contains("://"),
            "path {path:?} (in_app {in_app}) keeps a '://'"
        );
    }
}

/// A string Postgres can store, within its cap.
fn check_text(field: &str, s: &str, max: usize) {
    assert!(!s.contains('\0'), "{field} holds a NUL: {s:?}");
    assert!(s.len() <= max, "{field} is {} bytes (cap {max})", s.len());
}

fn check_opt(field: &str, s: Option<&str>, max: usize) {
    if let Some(s) = s {
        check_text(field, s, max);
    }
}

/// Valid JSON with no NUL in any string or key (Postgres jsonb refuses `\u0000`).
fn check_json(field: &str, text: &str) {
    let value: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{field} is not JSON: {e}"));
    let mut stack = vec![&value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) => assert!(!s.contains('\0'), "{field} holds a NUL"),
            serde_json::Value::Array(a) => stack.extend(a),
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    assert!(!k.contains('\0'), "{field} has a key with a NUL");
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
}

//! Request bodies: realistic Node errors in cairn's format and in Sentry envelopes. Every event
//! carries a unique `event_id` so stored rows can be counted against acknowledged events.

use serde_json::json;

/// A 40-hex commit SHA derived from a number (one commit per project).
pub fn commit(n: usize) -> String {
    let h = shared::crypto::sha256(format!("bench-commit-{n}").as_bytes());
    let mut s = String::with_capacity(40);
    for b in &h[..20] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A 32-hex event id unique to this run, request slot and sequence number.
pub fn event_id(run: &str, worker: usize, seq: u64, i: usize) -> String {
    let h = shared::crypto::sha256(format!("{run}:{worker}:{seq}:{i}").as_bytes());
    let mut s = String::with_capacity(32);
    for b in &h[..16] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// One native event of fingerprint `f` (the function in the top in-app frame differs per `f`).
pub fn native_event(f: usize, commit: &str, user: usize, event_id: &str) -> serde_json::Value {
    let message = "Cannot read properties of null (reading 'items')";
    json!({
        "event_id": event_id,
        "error_type": "TypeError",
        "error_message": message,
        "stack_trace": format!(
            "TypeError: {message}\n    at handler{f} (/var/task/src/handlers/orders{f}.js:{line}:15)\n    at processRequest (/var/task/src/server.js:88:12)\n    at Layer.handle [as handle_request] (/var/task/node_modules/express/lib/router/layer.js:95:5)\n    at next (/var/task/node_modules/express/lib/router/route.js:149:13)\n    at Route.dispatch (/var/task/node_modules/express/lib/router/route.js:119:3)",
            line = 10 + f % 90
        ),
        "commit_sha": commit,
        "environment": "production",
        "release": "web@1.4.2",
        "user_id": format!("user-{user}"),
        "level": "error",
        "tags": {"region": "eu-west-1", "runtime": "node20"},
    })
}

/// One Sentry event (the JSON of an envelope `event` item) of fingerprint `f`.
pub fn sentry_event(f: usize, commit: &str, user: usize, event_id: &str) -> serde_json::Value {
    json!({
        "event_id": event_id,
        "platform": "node",
        "level": "error",
        "release": format!("web@{commit}"),
        "environment": "production",
        "timestamp": 1_717_171_717.5,
        "exception": {"values": [{
            "type": "TypeError",
            "value": "Cannot read properties of null (reading 'items')",
            "stacktrace": {"frames": [
                {"filename": "/var/task/node_modules/express/lib/router/route.js", "function": "Route.dispatch", "lineno": 119, "colno": 3, "in_app": false},
                {"filename": "/var/task/node_modules/express/lib/router/layer.js", "function": "Layer.handle", "lineno": 95, "colno": 5, "in_app": false},
                {"filename": "/var/task/src/server.js", "function": "processRequest", "lineno": 88, "colno": 12, "in_app": true},
                {"filename": format!("/var/task/src/handlers/orders{f}.js"), "function": format!("handler{f}"), "lineno": 10 + f % 90, "colno": 15, "in_app": true}
            ]}
        }]},
        "user": {"id": format!("user-{user}")},
        "tags": {"commit_sha": commit, "region": "eu-west-1"},
        "sdk": {"name": "sentry.javascript.node", "version": "8.9.2"}
    })
}

/// A Sentry envelope holding `events` as `event` items.
pub fn envelope(events: &[serde_json::Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 1024);
    let first = events
        .first()
        .and_then(|e| e["event_id"].as_str())
        .unwrap_or_default();
    out.extend_from_slice(json!({"event_id": first}).to_string().as_bytes());
    out.push(b'\n');
    for ev in events {
        let body = ev.to_string();
        out.extend_from_slice(
            json!({"type": "event", "length": body.len()})
                .to_string()
                .as_bytes(),
        );
        out.push(b'\n');
        out.extend_from_slice(body.as_bytes());
        out.push(b'\n');
    }
    out
}

/// The stored shape of a native event's payload, for the pgbench ceiling (same size as what
/// cairn stores per event).
pub fn ceiling_payload() -> String {
    native_event(7, &commit(0), 1, &event_id("ceiling", 0, 0, 0)).to_string()
}

use super::*;
use serde_json::json;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn a_javascript_sdks_source_map_images_are_kept_as_sent() {
    let sent = r#"{"event_id": "e1", "exception": {"values": [{"type": "E"}]},
        "debug_meta": {"images": [{"type": "sourcemap", "code_file": "app:///_next/server/chunks/1.js",
                                   "debug_id": "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a"}]}}"#;
    let event = obj(serde_json::from_str(sent).unwrap());
    assert_eq!(trim(event.clone())["debug_meta"], event["debug_meta"]);
    match stored(event, sent.as_bytes()) {
        Payload::Text(text) => assert_eq!(text, sent),
        other => panic!("stored as sent: {other:?}"),
    }
}

#[test]
fn trims_breadcrumbs_debug_meta_and_vars() {
    let crumbs: Vec<Value> = (0..50).map(|i| json!({"message": i})).collect();
    let frames: Vec<Value> = (0..1500)
        .map(|i| json!({"lineno": i, "vars": {"x": 1}}))
        .collect();
    let event = obj(json!({
        "debug_meta": {"images": [{"type": "macho", "code_file": "/usr/lib/libc.dylib"}]},
        "breadcrumbs": {"values": crumbs},
        "exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]},
        "threads": [{"stacktrace": {"frames": [{"vars": {}, "lineno": 1}]}}],
    }));
    let out = trim(event);
    assert!(out.get("debug_meta").is_none());
    let kept = &out["breadcrumbs"]["values"];
    assert_eq!(kept.as_array().map(Vec::len), Some(20));
    assert_eq!(kept[0]["message"], 30);
    let frames = &out["exception"]["values"][0]["stacktrace"]["frames"];
    assert_eq!(frames.as_array().map(Vec::len), Some(1000));
    assert_eq!(frames[0]["lineno"], 500);
    assert!(frames[0].get("vars").is_none());
    assert!(out["threads"][0]["stacktrace"]["frames"][0]
        .get("vars")
        .is_none());
}

#[test]
fn caps_size_dropping_sections_then_everything() {
    let big = "x".repeat(PAYLOAD_MAX);
    let out = trim(obj(
        json!({"event_id": "e1", "extra": {"blob": big}, "level": "error"}),
    ));
    assert!(out.get("extra").is_none());
    assert_eq!(out["event_id"], "e1");
    assert!(out.get("_cairn_truncated").is_none());

    let big_value = "y".repeat(PAYLOAD_MAX);
    let out = trim(obj(json!({
        "event_id": "e2",
        "exception": [{"type": "E", "value": big_value, "stacktrace": {"frames": []}}],
        "fingerprint": ["a"],
    })));
    assert_eq!(out["_cairn_truncated"], true);
    assert_eq!(out["exception"]["values"][0]["type"], "E");
    assert_eq!(
        out["exception"]["values"][0]["value"]
            .as_str()
            .map(str::len),
        Some(MESSAGE_MAX)
    );
    assert!(json_len(out.as_object().unwrap_or(&Map::new())) <= PAYLOAD_MAX);
}

#[test]
fn scrubs_ingest_keys() {
    let cases = [
        (
            "http://cairn_ik_EXAMPLEKEY0123456789abcdefghij@127.0.0.1:8197/42",
            "http://cairn_ik_[Filtered]@127.0.0.1:8197/42",
        ),
        (
            "a cairn_ik_x and cairn_ik_y.",
            "a cairn_ik_[Filtered] and cairn_ik_[Filtered].",
        ),
        ("cairn_ik_", "cairn_ik_"),
        ("nothing here", "nothing here"),
        ("é cairn_ik_ab€", "é cairn_ik_[Filtered]€"),
    ];
    for (input, want) in cases {
        assert_eq!(scrub_str(input), want);
    }
    let out = trim(obj(
        json!({"extra": {"sys.argv": ["main.py", "https://cairn_ik_abc@h/1"]}}),
    ));
    assert_eq!(
        out["extra"]["sys.argv"][1],
        "https://cairn_ik_[Filtered]@h/1"
    );
}

#[test]
fn drops_context_lines_before_giving_up() {
    let line = "z".repeat(1000);
    let frames: Vec<Value> = (0..400)
        .map(|_| json!({"context_line": line, "function": "f"}))
        .collect();
    let out = trim(obj(
        json!({"exception": {"values": [{"stacktrace": {"frames": frames}}]}}),
    ));
    let frame = &out["exception"]["values"][0]["stacktrace"]["frames"][0];
    assert!(frame.get("context_line").is_none());
    assert_eq!(frame["function"], "f");
}

#[test]
fn the_stored_payload_is_the_trimmed_document_serialised_once_without_nuls() {
    let small = obj(json!({
        "debug_meta": {"images": []},
        "message": "a\u{0}b",
        "exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"lineno": 1, "vars": {"x": 1}}]}}]},
    }));
    let mut expected = trim(small.clone());
    crate::ingest::prepare::clean_json(&mut expected);
    let sent = serde_json::to_vec(&small).unwrap();
    match stored(small, &sent) {
        Payload::Text(text) => {
            assert!(!text.contains("\\u0000"), "{text}");
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
        }
        other => panic!("a small payload is stored as text: {other:?}"),
    }
    // Over the limit: shrunk as a document, exactly as `trim` does.
    let big = obj(json!({"event_id": "e1", "extra": {"blob": "x".repeat(PAYLOAD_MAX)}}));
    let shrunk = stored(big.clone(), &serde_json::to_vec(&big).unwrap());
    assert!(matches!(shrunk, Payload::Parsed(_)));
    assert_eq!(shrunk.to_value(), trim(big));
    assert!(shrunk.to_value().get("extra").is_none());
}

#[test]
fn an_event_that_trimming_leaves_as_it_was_is_stored_as_sent() {
    let sent = r#"{"event_id": "e1", "level": "error", "n": 1.10,
        "exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"lineno": 1}]}}]},
        "breadcrumbs": [{"message": "one"}], "extra": {"path": "a\/b\nc"}}"#;
    let event = obj(serde_json::from_str(sent).unwrap());
    match stored(event.clone(), sent.as_bytes()) {
        Payload::Text(text) => assert_eq!(text, sent),
        other => panic!("stored as sent: {other:?}"),
    }
    // Anything trimming changes, or text jsonb would not keep as it is, goes the long way: the
    // trimmed document, serialised.
    let crumbs: Vec<Value> = (0..21).map(|i| json!({"message": i})).collect();
    let cases = [
        json!({"event_id": "e1", "debug_meta": {"images": [{"type": "elf"}]}}).to_string(),
        json!({"event_id": "e1", "extra": {"dsn": "cairn_ik_abc123"}}).to_string(),
        json!({"event_id": "e1", "breadcrumbs": crumbs}).to_string(),
        json!({"event_id": "e1", "stacktrace": {"frames": [{"lineno": 1, "vars": {"x": 1}}]}})
            .to_string(),
        r#"{"event_id": "e1", "message": "caf\u00e9"}"#.to_owned(),
        r#"{"event_id": "e1", "n": 1e3}"#.to_owned(),
    ];
    for sent in cases {
        let event = obj(serde_json::from_str(&sent).unwrap());
        let mut expected = trim(event.clone());
        crate::ingest::prepare::clean_json(&mut expected);
        match stored(event, sent.as_bytes()) {
            Payload::Text(text) => {
                assert_ne!(text, sent);
                assert_eq!(
                    serde_json::from_str::<Value>(&text).unwrap(),
                    expected,
                    "{sent}"
                );
            }
            other => panic!("{sent}: a small payload is stored as text: {other:?}"),
        }
    }
}

#[test]
fn the_text_check_decides_as_the_document_check_does() {
    // `unchanged_by_trimming` reads the event without a document; it must agree with `stored`,
    // which trims the document, on every shape trimming looks at.
    let crumbs = |n: usize| -> Vec<Value> { (0..n).map(|i| json!({"message": i})).collect() };
    let frames = |n: usize| -> Vec<Value> { (0..n).map(|i| json!({"lineno": i})).collect() };
    let with_vars = json!({"frames": [{"lineno": 1}, {"lineno": 2, "vars": null}]});
    let cases = [
        json!({"event_id": "e1"}),
        json!({"debug_meta": {}}),
        json!({"debug_meta": null}),
        json!({"debug_meta": []}),
        json!({"debug_meta": {"images": []}}),
        json!({"debug_meta": {"images": [{"type": "sourcemap", "code_file": "app:///a.js", "debug_id": "x"}]}}),
        json!({"debug_meta": {"images": [{"type": "sourcemap"}, {"type": "sourcemap", "code_file": 1}]}}),
        json!({"debug_meta": {"images": [{"type": "sourcemap", "code_file": "a.js", "arch": "x"}]}}),
        json!({"debug_meta": {"images": [{"type": "sourcemap"}, {"type": "macho"}]}}),
        json!({"debug_meta": {"images": [{"code_file": "a.js"}]}}),
        json!({"debug_meta": {"images": [{"type": "sourcemap"}, 1]}}),
        json!({"debug_meta": {"images": {"type": "sourcemap"}}}),
        json!({"debug_meta": {"images": [], "sdk_info": {"sdk_name": "iOS"}}}),
        json!({"extra": {"dsn": "cairn_ik_abc123"}}),
        json!({"breadcrumbs": crumbs(20)}),
        json!({"breadcrumbs": crumbs(21)}),
        json!({"breadcrumbs": {"values": crumbs(20)}}),
        json!({"breadcrumbs": {"values": crumbs(21)}}),
        json!({"breadcrumbs": {"values": 21}}),
        json!({"breadcrumbs": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]}),
        json!({"stacktrace": {"frames": frames(MAX_FRAMES)}}),
        json!({"stacktrace": {"frames": frames(MAX_FRAMES + 1)}}),
        json!({"stacktrace": with_vars}),
        json!({"stacktrace": [with_vars]}),
        json!({"exception": {"values": [{"type": "E", "stacktrace": with_vars}]}}),
        json!({"exception": {"values": [{"type": "E", "raw_stacktrace": with_vars}]}}),
        json!({"exception": {"values": {"type": "E", "stacktrace": with_vars}}}),
        json!({"exception": {"type": "E", "stacktrace": with_vars}}),
        json!({"exception": {"stacktrace": with_vars}}),
        json!({"exception": [{"type": "E", "stacktrace": with_vars}]}),
        json!({"exception": [[{"type": "E", "stacktrace": with_vars}]]}),
        json!({"exception": {"values": [{"type": "E", "stacktrace": {"frames": frames(3)}}]}}),
        json!({"threads": {"values": [{"id": 1, "stacktrace": with_vars}]}}),
        json!({"threads": {"values": [{"id": 1, "raw_stacktrace": with_vars}]}}),
        json!({"threads": {"id": 1, "stacktrace": with_vars}}),
        json!({"threads": [{"id": 1, "stacktrace": with_vars}]}),
        json!({"threads": [{"id": 1, "stacktrace": {"frames": frames(MAX_FRAMES + 1)}}]}),
        json!({"threads": {"values": [{"id": 1, "stacktrace": {"frames": frames(2)}}]}}),
    ];
    let mut texts: Vec<String> = cases.iter().map(Value::to_string).collect();
    texts.push(r#"{"message": "caf\u00e9"}"#.to_owned());
    texts.push(r#"{"n": 1e3}"#.to_owned());
    texts.push(format!(r#"{{"extra": "{}"}}"#, "x".repeat(PAYLOAD_MAX)));
    for text in texts {
        let read = view::read(text.as_bytes()).unwrap();
        let document = obj(serde_json::from_str(&text).unwrap());
        let as_sent = matches!(stored(document, text.as_bytes()), Payload::Text(t) if t == text);
        assert_eq!(unchanged_by_trimming(&read, &text), as_sent, "{text}");
    }
    // The prefix outside a string value (here a key) is left by trimming, but the text check
    // does not look that close: the event takes the long way, and is stored the same.
    let text = json!({"extra": {"cairn_ik_": 1}}).to_string();
    let read = view::read(text.as_bytes()).unwrap();
    assert!(!unchanged_by_trimming(&read, &text));
    let document = obj(serde_json::from_str(&text).unwrap());
    assert_eq!(stored(document, text.as_bytes()), Payload::Text(text));
}

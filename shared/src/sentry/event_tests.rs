use super::*;
use serde_json::json;

/// (tags, expected tags, expected deployment id)
type TagCase<'a> = (Value, Vec<(&'a str, &'a str)>, Option<&'a str>);

fn map(value: &Value) -> ErrorEvent {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    event_from_json(&bytes).unwrap_or_else(|e| panic!("{e} for {value}"))
}

fn frame(path: &str, function: &str, line: u32) -> Value {
    json!({"abs_path": path, "function": function, "lineno": line, "in_app": true})
}

#[test]
fn type_and_message() {
    let cases: Vec<(&str, Value, Option<&str>, &str)> = vec![
        (
            "exception values",
            json!({"exception": {"values": [{"type": "KeyError", "value": "'id'"}]}}),
            Some("KeyError"),
            "'id'",
        ),
        (
            "bare array",
            json!({"exception": [{"type": "E", "value": "v"}]}),
            Some("E"),
            "v",
        ),
        (
            "single object",
            json!({"exception": {"type": "E", "value": "v"}}),
            Some("E"),
            "v",
        ),
        (
            "chained: the raised one is last",
            json!({"exception": {"values": [
                {"type": "KeyError", "value": "cause"},
                {"type": "RuntimeError", "value": "raised"}
            ]}}),
            Some("RuntimeError"),
            "raised",
        ),
        (
            "no value: message",
            json!({"exception": [{"type": "E"}], "message": "m"}),
            Some("E"),
            "m",
        ),
        (
            "no value, no message",
            json!({"exception": [{"type": "E", "value": ""}]}),
            Some("E"),
            NO_MESSAGE,
        ),
        (
            "empty values",
            json!({"exception": {"values": []}, "message": "m"}),
            None,
            "m",
        ),
        (
            "message string",
            json!({"message": "Something happened"}),
            None,
            "Something happened",
        ),
        (
            "message object formatted",
            json!({"message": {"formatted": "user 7 failed", "message": "user %s failed", "params": [7]}}),
            None,
            "user 7 failed",
        ),
        (
            "message object template",
            json!({"message": {"message": "user %s failed"}}),
            None,
            "user %s failed",
        ),
        (
            "logentry preferred",
            json!({"logentry": {"formatted": "from logentry"}, "message": "m"}),
            None,
            "from logentry",
        ),
        ("logentry string", json!({"logentry": "text"}), None, "text"),
        ("nothing", json!({}), None, NO_MESSAGE),
        (
            "wrong types",
            json!({"exception": "boom", "message": 5}),
            None,
            NO_MESSAGE,
        ),
    ];
    for (name, input, error_type, message) in cases {
        let event = map(&input);
        assert_eq!(
            (event.error_type.as_deref(), event.error_message.as_str()),
            (error_type, message),
            "{name}"
        );
    }
}

#[test]
fn chained_exceptions_stay_in_the_payload() {
    let event = map(&json!({"exception": {"values": [
        {"type": "KeyError", "value": "cause", "stacktrace": {"frames": [frame("/a.py", "inner", 1)]}},
        {"type": "RuntimeError", "value": "raised", "stacktrace": {"frames": [frame("/b.py", "outer", 2)]}}
    ]}}));
    assert_eq!(
        event.payload.to_value()["exception"]["values"][0]["type"],
        "KeyError"
    );
    assert_eq!(event.frames.len(), 1);
    assert_eq!(
        event.frames.first().and_then(|f| f.function.as_deref()),
        Some("outer")
    );
}

#[test]
fn frames() {
    let python = json!({
        "filename": "app/payments.py", "abs_path": "/srv/checkout-api/app/payments.py",
        "module": "app.payments", "function": "charge", "lineno": 2, "colno": 9, "in_app": true,
        "vars": {"order": {}}
    });
    let event = map(
        &json!({"exception": [{"type": "E", "stacktrace": {"frames": [
            {"filename": "relative.py", "module": "pkg.relative", "lineno": "12"},
            {"abs_path": "", "filename": "fallback.js", "function": "f", "lineno": -1, "colno": 1.5},
            "not a frame",
            python
        ]}}]}),
    );
    let want = vec![
        Frame {
            file_path: Some("relative.py".into()),
            module: Some("pkg.relative".into()),
            line_number: Some(12),
            ..Frame::default()
        },
        Frame {
            file_path: Some("fallback.js".into()),
            function: Some("f".into()),
            ..Frame::default()
        },
        Frame {
            file_path: Some("/srv/checkout-api/app/payments.py".into()),
            module: Some("app.payments".into()),
            function: Some("charge".into()),
            line_number: Some(2),
            column_number: Some(9),
            in_app: Some(true),
        },
    ];
    assert_eq!(event.frames, want);
    assert!(
        event.payload.to_value()["exception"][0]["stacktrace"]["frames"][3]
            .get("vars")
            .is_none()
    );
}

#[test]
fn frames_fall_back_to_threads_and_top_level() {
    let thread = |id: u64, flags: Value, function: &str| {
        let mut t = json!({"id": id, "stacktrace": {"frames": [frame("/t.py", function, 1)]}});
        if let (Some(t), Some(flags)) = (t.as_object_mut(), flags.as_object()) {
            t.extend(flags.clone());
        }
        t
    };
    let function = |event: &ErrorEvent| event.frames.last().and_then(|f| f.function.clone());
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        (
            "crashed thread",
            json!({"exception": [{"type": "E"}], "threads": {"values": [
                thread(1, json!({"current": true}), "current"), thread(2, json!({"crashed": true}), "crashed")
            ]}}),
            Some("crashed"),
        ),
        (
            "current thread",
            json!({"message": "m", "threads": {"values": [thread(1, json!({}), "first"), thread(2, json!({"current": true}), "current")]}}),
            Some("current"),
        ),
        (
            "the exception's thread",
            json!({"exception": [{"type": "E", "thread_id": 2}], "threads": [thread(1, json!({}), "first"), thread(2, json!({}), "second")]}),
            Some("second"),
        ),
        (
            "first thread with frames",
            json!({"threads": [{"id": 1}, thread(2, json!({}), "second")]}),
            Some("second"),
        ),
        (
            "top-level stacktrace",
            json!({"message": "m", "stacktrace": {"frames": [frame("/s.py", "top", 3)]}}),
            Some("top"),
        ),
        (
            "exception frames win",
            json!({"exception": [{"type": "E", "stacktrace": {"frames": [frame("/e.py", "exc", 1)]}}], "threads": [thread(1, json!({"crashed": true}), "thread")]}),
            Some("exc"),
        ),
        (
            "none",
            json!({"exception": [{"type": "E", "stacktrace": {"frames": []}}]}),
            None,
        ),
    ];
    for (name, input, want) in cases {
        assert_eq!(function(&map(&input)).as_deref(), want, "{name}");
    }
}

#[test]
fn keeps_the_newest_thousand_frames() {
    let frames: Vec<Value> = (0..1500)
        .map(|i| frame("/f.py", &format!("f{i}"), i))
        .collect();
    let event = map(&json!({"exception": [{"type": "E", "stacktrace": {"frames": frames}}]}));
    assert_eq!(event.frames.len(), 1000);
    assert_eq!(
        event.frames.first().and_then(|f| f.function.as_deref()),
        Some("f500")
    );
    assert_eq!(
        event.frames.last().and_then(|f| f.function.as_deref()),
        Some("f1499")
    );
}

#[test]
fn timestamps() {
    let cases = [
        (
            json!("2026-11-24T05:39:22.473195Z"),
            Some("2026-11-24T05:39:22.473195+00:00"),
        ),
        (json!(1795498763.036), Some("2026-11-24T05:39:23.036+00:00")),
        (json!(1795498763), Some("2026-11-24T05:39:23+00:00")),
        (json!("not a time"), None),
        (json!(null), None),
    ];
    for (input, want) in cases {
        let event = map(&json!({"timestamp": input}));
        assert_eq!(
            event.occurred_at.map(|t| t.to_rfc3339()).as_deref(),
            want,
            "{input}"
        );
    }
}

#[test]
fn release_and_commit() {
    let sha = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
    let cases: Vec<(Value, Option<&str>)> = vec![
        (json!({"release": sha}), Some(sha)),
        (json!({"release": "A1B2C3D"}), Some("a1b2c3d")),
        (json!({"release": "my-app@a1b2c3d"}), Some("a1b2c3d")),
        (
            json!({"release": "@scope/app@a1b2c3d4e5"}),
            Some("a1b2c3d4e5"),
        ),
        (json!({"release": "my-app@1.2.3+a1b2c3d"}), Some("a1b2c3d")),
        (json!({"release": "my-app@1.2.3"}), None),
        (json!({"release": "1.2.3"}), None),
        (json!({"release": "2024061"}), None),
        (
            json!({"release": "1234567890123456789012345678901234567890"}),
            Some("1234567890123456789012345678901234567890"),
        ),
        (json!({"release": "abc123"}), None),
        (json!({"release": format!("{sha}0")}), None),
        (
            json!({"release": sha, "tags": {"commit_sha": "b0b0b0b"}}),
            Some("b0b0b0b"),
        ),
        (
            json!({"tags": [["commit_sha", "c0ffee0"]]}),
            Some("c0ffee0"),
        ),
        (json!({"release": 42}), None),
    ];
    for (input, want) in cases {
        assert_eq!(map(&input).commit_sha.as_deref(), want, "{input}");
    }
    let event = map(&json!({"release": "my-app@a1b2c3d"}));
    assert_eq!(event.release.as_deref(), Some("my-app@a1b2c3d"));
}

#[test]
fn tags_and_deployment() {
    let cases: Vec<TagCase<'_>> = vec![
        (
            json!({"a": "1", "n": 2, "b": true, "null": null, "obj": {}, "": "x"}),
            vec![("a", "1"), ("b", "true"), ("n", "2")],
            None,
        ),
        (
            json!([
                ["a", "1"],
                ["vercel.deployment_id", "dpl_1"],
                ["bad"],
                [1, "x"],
                "junk"
            ]),
            vec![("a", "1"), ("vercel.deployment_id", "dpl_1")],
            Some("dpl_1"),
        ),
        (
            json!({"deployment_id": "dpl_2"}),
            vec![("deployment_id", "dpl_2")],
            Some("dpl_2"),
        ),
        (
            json!({"deployment_id": "dpl_2", "vercel.deployment_id": "dpl_3"}),
            vec![
                ("deployment_id", "dpl_2"),
                ("vercel.deployment_id", "dpl_3"),
            ],
            Some("dpl_3"),
        ),
        (json!("not tags"), vec![], None),
    ];
    for (tags, want, deployment) in cases {
        let event = map(&json!({"tags": tags}));
        let got: Vec<(&str, &str)> = event
            .tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, want, "{tags}");
        assert_eq!(event.deployment_id.as_deref(), deployment, "{tags}");
    }
    let many: Map<String, Value> = (0..500).map(|i| (format!("k{i}"), json!("v"))).collect();
    assert_eq!(map(&json!({"tags": many})).tags.len(), 200);
}

#[test]
fn user_ids() {
    let cases: Vec<(Value, Option<&str>)> = vec![
        (
            json!({"id": "u1", "email": "a@b.c", "ip_address": "1.2.3.4"}),
            Some("u1"),
        ),
        (json!({"id": 42}), Some("42")),
        (json!({"id": "", "email": "a@b.c"}), Some("a@b.c")),
        (json!({"ip_address": "1.2.3.4"}), Some("1.2.3.4")),
        (json!({"ip_address": "{{auto}}"}), None),
        (json!({"username": "x"}), None),
        (json!("u1"), None),
    ];
    for (user, want) in cases {
        assert_eq!(
            map(&json!({"user": user})).user_id.as_deref(),
            want,
            "{user}"
        );
    }
}

#[test]
fn fingerprints() {
    let cases: Vec<(Value, Option<Vec<&str>>)> = vec![
        (
            json!(["{{ default }}", "checkout"]),
            Some(vec!["{{ default }}", "checkout"]),
        ),
        (
            json!(["a", 1, 2.5, true, null, {}]),
            Some(vec!["a", "1", "2.5", "true"]),
        ),
        (json!([]), None),
        (json!("a"), None),
    ];
    for (input, want) in cases {
        let want = want.map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>());
        assert_eq!(
            map(&json!({"fingerprint": input})).fingerprint,
            want,
            "{input}"
        );
    }
}

#[test]
fn scalar_fields_and_levels() {
    let event = map(&json!({
        "event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "platform": "python", "environment": "production",
        "level": "WARN", "server_name": "vm", "sdk": {"name": "sentry.python", "version": "2.75.0"},
        "exception": [{"type": "E", "mechanism": {"type": "generic", "handled": false}}]
    }));
    assert_eq!(
        event.event_id.as_deref(),
        Some("9ec79c33ec9942ab8353589fcb2e04dc")
    );
    assert_eq!(event.platform.as_deref(), Some("python"));
    assert_eq!(event.environment.as_deref(), Some("production"));
    assert_eq!(event.level.as_deref(), Some("warning"));
    assert_eq!(event.stack_trace, None);
    assert_eq!(
        event.metadata,
        json!({"sdk": {"name": "sentry.python", "version": "2.75.0"}, "server_name": "vm", "handled": false, "mechanism": "generic"})
    );
    for (level, want) in [
        ("error", "error"),
        ("critical", "fatal"),
        ("Info", "info"),
        ("debug", "debug"),
    ] {
        assert_eq!(map(&json!({"level": level})).level.as_deref(), Some(want));
    }
}

#[test]
fn truncates_long_strings_on_char_boundaries() {
    let long_message = "é".repeat(10_000);
    let event = map(&json!({
        "exception": [{"type": "T".repeat(5000), "value": long_message, "stacktrace": {"frames": [frame(&"p".repeat(3000), "f", 1)]}}],
        "environment": "€".repeat(1000), "tags": {"k": "v".repeat(2000)}
    }));
    assert_eq!(event.error_message.len(), 8 * 1024);
    assert_eq!(event.error_type.map(|t| t.len()), Some(1024));
    assert_eq!(event.environment.map(|e| e.len()), Some(1023));
    assert_eq!(
        event
            .frames
            .first()
            .and_then(|f| f.file_path.as_ref())
            .map(String::len),
        Some(1024)
    );
    assert_eq!(event.tags.get("k").map(String::len), Some(1024));
}

#[test]
fn refuses_bad_documents() {
    let deep = "[".repeat(65) + &"]".repeat(65);
    let deep_in_event = format!("{{\"extra\":{}}}", "[".repeat(64) + &"]".repeat(64));
    let huge = format!("{{\"message\":\"{}\"}}", "x".repeat(MAX_EVENT_BYTES));
    let cases: Vec<(&str, Vec<u8>, (u16, &str))> = vec![
        ("empty", Vec::new(), (400, "invalid_json")),
        ("not json", b"hello".to_vec(), (400, "invalid_json")),
        (
            "truncated",
            b"{\"message\":".to_vec(),
            (400, "invalid_json"),
        ),
        ("trailing garbage", b"{} {}".to_vec(), (400, "invalid_json")),
        ("array", b"[]".to_vec(), (400, "invalid_event")),
        ("string", b"\"event\"".to_vec(), (400, "invalid_event")),
        ("too deep", deep.into_bytes(), (400, "json_too_deep")),
        (
            "too deep inside",
            deep_in_event.into_bytes(),
            (400, "json_too_deep"),
        ),
        ("too large", huge.into_bytes(), (413, "event_too_large")),
    ];
    for (name, body, want) in cases {
        let got = event_from_json(&body).map_err(|e| (e.status(), e.code()));
        assert_eq!(got.err(), Some(want), "{name}");
    }
    assert!(event_from_json(
        format!("{{\"extra\":{}}}", "[".repeat(63) + &"]".repeat(63)).as_bytes()
    )
    .is_ok());
}

#[test]
fn a_repeated_key_reads_as_its_last_value_as_in_a_document() {
    // serde's derive refuses a repeated field: the event is read again from its document.
    let text = r#"{"level": "info", "level": "error", "environment": "staging",
        "exception": {"values": [{"type": "A", "value": "first", "type": "B",
            "stacktrace": {"frames": [{"function": "f", "lineno": 1, "lineno": 7}]}}]},
        "tags": {"k": "1", "k": "2"}, "extra": {"x": 1, "x": 2}}"#;
    let event = event_from_json(text.as_bytes()).unwrap();
    assert_eq!(event.level.as_deref(), Some("error"));
    assert_eq!(event.error_type.as_deref(), Some("B"));
    assert_eq!(event.error_message, "first");
    assert_eq!(event.frames.len(), 1);
    assert_eq!(event.frames[0].line_number, Some(7));
    assert_eq!(event.tags.get("k").map(String::as_str), Some("2"));
    assert_eq!(event.environment.as_deref(), Some("staging"));
    // Trimming changes nothing here: the text is kept as sent (jsonb keeps the last value).
    assert_eq!(event.payload, Payload::Text(text.to_owned()));
}

#[test]
fn the_payload_is_the_text_as_sent_unless_trimming_changes_it() {
    let text = r#"{"event_id": "e1", "n": 1.10, "exception": {"values": [{"type": "E", "value": "v"}]},
        "contexts": {"os": {"name": "Linux"}}, "breadcrumbs": [{"message": "one"}]}"#;
    let event = event_from_json(text.as_bytes()).unwrap();
    assert_eq!(event.payload, Payload::Text(text.to_owned()));
    assert_eq!(event.error_type.as_deref(), Some("E"));
    // A native SDK's `debug_meta` is dropped: the long way, a trimmed document.
    let text = r#"{"event_id": "e1", "debug_meta": {"images": [{"type": "elf", "code_file": "/lib/x.so"}]}, "exception": {"type": "E"}}"#;
    let event = event_from_json(text.as_bytes()).unwrap();
    match event.payload {
        Payload::Text(stored) => {
            let stored: Value = serde_json::from_str(&stored).unwrap();
            assert_eq!(
                stored,
                json!({"event_id": "e1", "exception": {"type": "E"}})
            );
        }
        other => panic!("a small trimmed payload is text: {other:?}"),
    }
    assert_eq!(event.error_type.as_deref(), Some("E"));
}

#[test]
fn arrays_and_scalars_at_the_top_are_refused_as_before() {
    for (text, code) in [
        ("[1, 2]", "invalid_event"),
        (r#"["exception", {"type": "E"}]"#, "invalid_event"),
        ("42", "invalid_event"),
        (r#"{"a": 1"#, "invalid_json"),
        (r#"{"a": 1} x"#, "invalid_json"),
    ] {
        let got = event_from_json(text.as_bytes()).map_err(|e| e.code());
        assert_eq!(got.err(), Some(code), "{text}");
    }
}

#[test]
fn sourcemap_images_of_debug_meta_are_kept_for_resolution() {
    let id = "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a";
    let ev = map(&json!({
        "exception": {"values": [{"type": "Error", "value": "x",
            "stacktrace": {"frames": [frame("/app/dist/app.js", "a", 1)]}}]},
        "debug_meta": {"images": [
            {"type": "sourcemap", "code_file": "/app/dist/app.js", "debug_id": id.to_uppercase()},
            {"type": "macho", "code_file": "/usr/lib/x", "debug_id": id},
            {"type": "sourcemap", "code_file": "/app/dist/b.js", "debug_id": "not-a-uuid"},
        ]},
    }));
    let kept: Vec<(&str, &str)> = ev
        .debug_images
        .iter()
        .map(|i| (i.code_file.as_str(), i.debug_id.as_str()))
        .collect();
    assert_eq!(kept, [("/app/dist/app.js", id)]);
    for no_images in [
        json!({"message": "x"}),
        json!({"message": "x", "debug_meta": null}),
        json!({"message": "x", "debug_meta": {"images": "nope"}}),
    ] {
        assert!(map(&no_images).debug_images.is_empty(), "{no_images}");
    }
}

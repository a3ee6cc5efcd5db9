use super::*;

type Expect<'a> = Result<Vec<(&'a str, &'a [u8])>, &'a str>;

fn items(body: &[u8]) -> Result<Vec<(String, Vec<u8>)>, &'static str> {
    parse_envelope(body)
        .map(|e| {
            e.items
                .into_iter()
                .map(|i| (i.ty, i.payload.to_vec()))
                .collect()
        })
        .map_err(|e| e.code())
}

#[test]
fn parses_and_refuses_envelopes() {
    let cases: &[(&str, &[u8], Expect<'_>)] = &[
        ("header only", b"{}", Ok(vec![])),
        ("header only, newline", b"{\"event_id\":\"abc\"}\n", Ok(vec![])),
        ("trailing whitespace", b"{}\n\n  \n\t", Ok(vec![])),
        ("leading whitespace", b"\n  {}\n{\"type\":\"event\"}\n{}", Ok(vec![("event", b"{}")])),
        ("no length, eof", b"{}\n{\"type\":\"event\"}\n{\"a\":1}", Ok(vec![("event", b"{\"a\":1}")])),
        ("no length, newline", b"{}\n{\"type\":\"event\"}\n{\"a\":1}\n", Ok(vec![("event", b"{\"a\":1}")])),
        ("length", b"{}\n{\"type\":\"event\",\"length\":7}\n{\"a\":1}", Ok(vec![("event", b"{\"a\":1}")])),
        ("length, newline", b"{}\n{\"type\":\"event\",\"length\":7}\n{\"a\":1}\n", Ok(vec![("event", b"{\"a\":1}")])),
        (
            "length covers newlines",
            b"{}\n{\"type\":\"attachment\",\"length\":5}\na\nb\nc\n{\"type\":\"event\"}\n{}",
            Ok(vec![("attachment", b"a\nb\nc"), ("event", b"{}")]),
        ),
        ("length zero", b"{}\n{\"type\":\"client_report\",\"length\":0}\n", Ok(vec![("client_report", b"")])),
        ("length zero, eof", b"{}\n{\"type\":\"client_report\",\"length\":0}", Ok(vec![("client_report", b"")])),
        ("length null", b"{}\n{\"type\":\"event\",\"length\":null}\n{}", Ok(vec![("event", b"{}")])),
        ("empty payload, no length", b"{}\n{\"type\":\"a\"}\n\n{\"type\":\"b\"}\nx", Ok(vec![("a", b""), ("b", b"x")])),
        ("item header at eof", b"{}\n{\"type\":\"event\"}", Ok(vec![("event", b"")])),
        (
            "several items, blank lines between",
            b"{}\n{\"type\":\"session\"}\n{\"s\":1}\n\n\n{\"type\":\"event\",\"length\":2}\n{}\n\n",
            Ok(vec![("session", b"{\"s\":1}"), ("event", b"{}")]),
        ),
        (
            "crlf line ends",
            b"{}\r\n{\"type\":\"event\"}\r\n{\"a\":1}\r\n{\"type\":\"x\",\"length\":1}\r\nz\r\n",
            Ok(vec![("event", b"{\"a\":1}"), ("x", b"z")]),
        ),
        ("empty body", b"", Err("empty_body")),
        ("only whitespace", b" \n\r\n\t ", Err("empty_body")),
        ("header not json", b"event_id=abc\n", Err("invalid_envelope_header")),
        ("header an array", b"[]\n", Err("invalid_envelope_header")),
        ("header truncated json", b"{\"event_id\":\n{\"type\":\"event\"}\n{}", Err("invalid_envelope_header")),
        ("item header not json", b"{}\nnot json\n{}", Err("invalid_item_header")),
        ("item header without type", b"{}\n{\"length\":2}\n{}", Err("invalid_item_header")),
        ("item header type not string", b"{}\n{\"type\":7}\n{}", Err("invalid_item_header")),
        ("item header empty type", b"{}\n{\"type\":\"\"}\n{}", Err("invalid_item_header")),
        ("negative length", b"{}\n{\"type\":\"event\",\"length\":-1}\n{}", Err("invalid_item_header")),
        ("fractional length", b"{}\n{\"type\":\"event\",\"length\":1.5}\n{}", Err("invalid_item_header")),
        ("string length", b"{}\n{\"type\":\"event\",\"length\":\"2\"}\n{}", Err("invalid_item_header")),
        ("length past the end", b"{}\n{\"type\":\"event\",\"length\":100}\n{}", Err("invalid_item_length")),
        ("huge length", b"{}\n{\"type\":\"event\",\"length\":18446744073709551615}\n{}", Err("invalid_item_length")),
        ("length at eof with no payload", b"{}\n{\"type\":\"event\",\"length\":1}", Err("invalid_item_length")),
        ("length too short", b"{}\n{\"type\":\"event\",\"length\":1}\n{}\n", Err("invalid_item_length")),
        ("deep header", b"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", Err("json_too_deep")),
    ];
    for (name, body, want) in cases {
        let want = want.clone().map(|v| {
            v.into_iter()
                .map(|(t, p)| (t.to_owned(), p.to_vec()))
                .collect::<Vec<_>>()
        });
        assert_eq!(items(body), want, "{name}");
    }
}

#[test]
fn reads_header_fields() {
    let body = br#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://k@host/42","sent_at":"2026-11-24T05:39:23.069Z","sdk":{"name":"sentry.rust","version":"0.40.0"},"trace":{"public_key":"k"}}
{"type":"event","content_type":"application/json","length":2}
{}"#;
    let envelope = parse_envelope(body);
    let header = envelope
        .as_ref()
        .map(|e| e.header.clone())
        .unwrap_or_default();
    assert_eq!(
        header.event_id.as_deref(),
        Some("9ec79c33ec9942ab8353589fcb2e04dc")
    );
    assert_eq!(header.dsn.as_deref(), Some("https://k@host/42"));
    assert_eq!(
        header.sent_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-24T05:39:23.069+00:00")
    );
    let sdk = header.sdk.unwrap_or_default();
    assert_eq!(
        (sdk.name.as_deref(), sdk.version.as_deref()),
        (Some("sentry.rust"), Some("0.40.0"))
    );
    let item = envelope.ok().and_then(|e| e.items.into_iter().next());
    assert_eq!(
        item.and_then(|i| i.content_type).as_deref(),
        Some("application/json")
    );

    // Wrongly typed header fields are ignored, not fatal.
    let odd = parse_envelope(br#"{"event_id":7,"dsn":null,"sent_at":"soon","sdk":"x"}"#);
    assert_eq!(odd.map(|e| e.header), Ok(EnvelopeHeader::default()));
}

#[test]
fn caps_the_item_count() {
    let item = b"{\"type\":\"client_report\"}\n{}\n";
    let mut body = b"{}\n".to_vec();
    for _ in 0..MAX_ITEMS {
        body.extend_from_slice(item);
    }
    assert_eq!(parse_envelope(&body).map(|e| e.items.len()), Ok(MAX_ITEMS));
    body.extend_from_slice(item);
    assert_eq!(
        parse_envelope(&body).map(|e| e.items.len()),
        Err(SentryError::TooManyItems { limit: 100 })
    );
}

#[test]
fn fixtures_parse() {
    let node_session =
        include_bytes!("../../../../shared/fixtures/sentry/node-sdk-11.12.0/01.body");
    let node_event = include_bytes!("../../../../shared/fixtures/sentry/node-sdk-11.12.0/02.body");
    let types = |body: &[u8]| {
        parse_envelope(body).map(|e| e.items.iter().map(|i| i.ty.clone()).collect::<Vec<_>>())
    };
    assert_eq!(types(node_session), Ok(vec!["session".to_owned()]));
    assert_eq!(types(node_event), Ok(vec!["event".to_owned()]));
    let header = parse_envelope(node_event).map(|e| e.header.event_id);
    assert_eq!(
        header,
        Ok(Some("474d3101423f4d37954dc413528fa577".to_owned()))
    );
}

#[test]
fn never_panics_on_truncations_of_a_valid_envelope() {
    let body = b"{\"event_id\":\"e\"}\n{\"type\":\"event\",\"length\":9}\n{\"a\":\"b\"}\n{\"type\":\"session\"}\n{}\n";
    for end in 0..=body.len() {
        let prefix = body.get(..end).unwrap_or_default();
        let _ = parse_envelope(prefix);
        let _ = parse_envelope(body.get(end..).unwrap_or_default());
    }
}

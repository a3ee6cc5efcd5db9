//! Tests of [`super`] (`fingerprint.rs`).

use super::*;

#[test]
fn normalizes_messages() {
    let cases: &[(&str, &str)] = &[
        ("order 42 not found", "order <num> not found"),
        ("timeout after 30.5s", "timeout after <num>s"),
        (
            "took 42ms at 2024-01-15T10:30:00Z",
            "took <num>ms at <num>-<num>-<num>T<num>:<num>:<num>Z",
        ),
        (
            "user 3fa85f64-5717-4562-b3fc-2c963f66afa6 missing",
            "user <uuid> missing",
        ),
        (
            "bad pointer 0x7ffd5e8c and 0XDEAD",
            "bad pointer <hex> and <hex>",
        ),
        (
            "commit a1b2c3d4e5f6 missing; deadbeef kept",
            "commit <hex> missing; deadbeef kept",
        ),
        (
            "connect ECONNREFUSED 10.0.3.17:5432",
            "connect ECONNREFUSED <ip>:<num>",
        ),
        // `::1:5432` is itself a valid IPv6 address.
        ("connect ECONNREFUSED ::1:5432", "connect ECONNREFUSED <ip>"),
        ("host 2001:db8::ff00:42:8329 down", "host <ip> down"),
        (
            "std::io::Error at 10:30:45",
            "std::io::Error at <num>:<num>:<num>",
        ),
        ("no user jane.doe+x@example.co.uk.", "no user <email>."),
        (
            "Cannot read properties of null (reading 'items')",
            "Cannot read properties of null (reading <str>)",
        ),
        ("key \"cart:42\" can't be 'x'", "key <str> can't be <str>"),
        ("don't stop", "don't stop"),
        ("utf8 int32 v2 user42", "utf8 int32 v2 user42"),
        ("unterminated 'quote", "unterminated 'quote"),
        ("", ""),
    ];
    for (msg, want) in cases {
        assert_eq!(normalize_message(msg), *want, "{msg}");
    }
}

#[test]
fn message_is_bounded() {
    let long = "x".repeat(5000);
    assert_eq!(normalize_message(&long).len(), MAX_MESSAGE_CHARS);
    let hostile = "'\"1.1.1.1.1:::::@@a@b.c".repeat(2000);
    let _ = normalize_message(&hostile);
    let _ = normalize_message("é'ü\"ß 0x 1.");
}

#[test]
fn an_overlong_email_domain_does_not_split_a_number() {
    // Found by fuzzing (fuzz target `fingerprint`): the domain was cut at 256 characters, inside
    // `123456789`, and `<email>456789` kept the rest of the number.
    let dots = ".".repeat(250);
    assert_eq!(
        normalize_message(&format!("a@b.c{dots}123456789")),
        format!("a@b.c{dots}<num>")
    );
}

#[test]
fn fingerprint_ignores_lines_numbers_and_ids() {
    let a = default_fingerprint(
        Some("KeyError"),
        "order 42 missing for 3fa85f64-5717-4562-b3fc-2c963f66afa6",
        Some("app/cart.py"),
        Some("load"),
    );
    let b = default_fingerprint(
        Some("KeyError"),
        "order 7 missing for 9b2e1c3d-0000-4000-8000-000000000001",
        Some("app/cart.py"),
        Some("load"),
    );
    assert_eq!(a, b);
    assert_eq!(a.len(), 64);
    assert!(a
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    // Different type, path, function or message text: different group.
    assert_ne!(
        a,
        default_fingerprint(
            Some("ValueError"),
            "order 42 missing for x",
            Some("app/cart.py"),
            Some("load")
        )
    );
    assert_ne!(
        a,
        default_fingerprint(
            Some("KeyError"),
            "order 42 missing for x",
            Some("app/cart.py"),
            Some("save")
        )
    );
    assert_ne!(
        a,
        default_fingerprint(
            Some("KeyError"),
            "order 42 missing for x",
            Some("app/pay.py"),
            Some("load")
        )
    );
    // Field boundaries are unambiguous.
    assert_ne!(
        default_fingerprint(Some("ab"), "c", None, None),
        default_fingerprint(Some("a"), "bc", None, None)
    );
    assert_ne!(
        default_fingerprint(None, "", Some("x"), None),
        default_fingerprint(None, "", None, Some("x"))
    );
    assert_ne!(
        default_fingerprint(None, "m", None, None),
        default_fingerprint(Some(""), "m", None, None)
    );
}

#[test]
fn line_shift_keeps_the_group() {
    let v1 = "TypeError: x is null\n    at total (/var/task/src/cart.js:12:5)";
    let v2 = "TypeError: x is null\n    at total (/var/task/src/cart.js:19:5)";
    let fp = |text: &str| {
        let t = crate::stack::parse_stack_trace(text);
        let top = t.frames.last().cloned().unwrap_or_default();
        let path = top
            .file_path
            .as_deref()
            .map(|p| crate::stack::paths::normalize_path(p, "checkout-api").path);
        default_fingerprint(
            t.error_type.as_deref(),
            t.error_message.as_deref().unwrap_or(""),
            path.as_deref(),
            top.function.as_deref(),
        )
    };
    assert_eq!(fp(v1), fp(v2));
}

#[test]
fn sdk_fingerprints() {
    let d = default_fingerprint(Some("E"), "m", None, None);
    let s = |parts: &[&str]| {
        sdk_fingerprint(&parts.iter().map(|p| p.to_string()).collect::<Vec<_>>(), &d)
    };
    assert_eq!(s(&["{{ default }}"]), d);
    assert_eq!(s(&["{{default}}"]), d);
    assert_eq!(s(&[]), d);
    assert_eq!(
        s(&["{{ default }}", "tenant-a"]),
        s(&["{{default}}", "tenant-a"])
    );
    assert_ne!(
        s(&["{{ default }}", "tenant-a"]),
        s(&["{{ default }}", "tenant-b"])
    );
    assert_ne!(s(&["ab", "c"]), s(&["a", "bc"]));
    assert_eq!(s(&["checkout"]).len(), 64);
    assert_eq!(s(&["checkout"]), s(&["checkout"]));
}

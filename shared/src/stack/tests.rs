//! Cross-format tests: detection, limits and hostile input; plus the helper the format tests use.

use super::*;

/// One expected frame: path, function, line, column.
pub(super) type Row<'a> = (Option<&'a str>, Option<&'a str>, Option<u32>, Option<u32>);

/// Parses `text` and compares the header and the frames (oldest first).
pub(super) fn check(text: &str, ty: Option<&str>, msg: Option<&str>, want: &[Row<'_>]) {
    let t = parse_stack_trace(text);
    let got: Vec<Row<'_>> = t
        .frames
        .iter()
        .map(|f| {
            (
                f.file_path.as_deref(),
                f.function.as_deref(),
                f.line_number,
                f.column_number,
            )
        })
        .collect();
    assert_eq!(got, want, "frames of:\n{text}");
    assert_eq!(t.error_type.as_deref(), ty, "type of:\n{text}");
    assert_eq!(t.error_message.as_deref(), msg, "message of:\n{text}");
}

#[test]
fn unparseable_text_gives_no_frames() {
    for text in [
        "",
        "\n\n",
        "hello world",
        "Something went wrong",
        "at",
        "@",
        "#0",
        "File \"x\"",
        "\u{0}\u{1}\u{fffd}",
    ] {
        let t = parse_stack_trace(text);
        assert!(t.frames.is_empty(), "{text:?}");
        assert_eq!(t.error_type, None, "{text:?}");
    }
    let t = parse_stack_trace("TypeError: x is not a function");
    assert_eq!(
        (t.error_type.as_deref(), t.error_message.as_deref()),
        (Some("TypeError"), Some("x is not a function"))
    );
}

#[test]
fn keeps_the_newest_thousand_frames() {
    // V8 prints newest first: frame 0 is where the error was thrown.
    let mut text = String::from("Error: deep\n");
    for i in 0..5000 {
        text.push_str(&format!("    at f{i} (/app/src/r.js:{i}:1)\n"));
    }
    let t = parse_stack_trace(&text);
    assert_eq!(t.frames.len(), MAX_FRAMES);
    assert_eq!(
        t.frames.last().and_then(|f| f.function.as_deref()),
        Some("f0")
    );
    assert_eq!(
        t.frames.first().and_then(|f| f.function.as_deref()),
        Some("f999")
    );
    // Python prints oldest first: the innermost call is last.
    let mut py = String::from("Traceback (most recent call last):\n");
    for i in 0..5000 {
        py.push_str(&format!(
            "  File \"/app/r.py\", line {i}, in f{i}\n    f()\n"
        ));
    }
    py.push_str("RecursionError: maximum recursion depth exceeded\n");
    let t = parse_stack_trace(&py);
    assert_eq!(t.frames.len(), MAX_FRAMES);
    assert_eq!(
        t.frames.last().and_then(|f| f.function.as_deref()),
        Some("f4999")
    );
    assert_eq!(t.error_type.as_deref(), Some("RecursionError"));
}

#[test]
fn long_lines_are_skipped() {
    let long = format!("    at f (/app/{}.js:1:1)", "a".repeat(MAX_LINE));
    let text = format!("Error: x\n    at g (/app/g.js:2:3)\n{long}\n");
    let t = parse_stack_trace(&text);
    assert_eq!(t.frames.len(), 1);
}

#[test]
fn hostile_input_does_not_panic() {
    let fragments = [
        "at ",
        "(",
        ")",
        ":",
        "1",
        "99999999999",
        "@",
        "#0 ",
        "File \"",
        "\", line ",
        ", in ",
        "Traceback (most recent call last):\n",
        "thread 'main' panicked at ",
        "stack backtrace:\n",
        "goroutine 1 [running]:\n",
        "panic: ",
        "\t",
        "    ",
        "\n",
        "'",
        "`",
        ":in ",
        "from ",
        "{main}",
        "thrown in ",
        " on line ",
        "Uncaught ",
        "Caused by: ",
        "0x",
        " - ",
        "::h",
        "é",
        "\u{0}",
        " [as ",
        "eval at ",
        "), ",
        "[native code]",
        "webpack:///",
        " +0x1d",
        "created by ",
        "Exception in thread \"",
        "\" ",
        ".",
        "/",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..2000 {
        let mut text = String::new();
        for _ in 0..(seed % 200) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(fragments[(seed % fragments.len() as u64) as usize]);
        }
        let t = parse_stack_trace(&text);
        assert!(t.frames.len() <= MAX_FRAMES);
        for f in &t.frames {
            if let Some(p) = &f.file_path {
                let _ = paths::normalize_path(p, "checkout-api");
            }
        }
        let _ = fingerprint::normalize_message(&text);
    }
}

#[test]
fn huge_input_is_linear() {
    let started = std::time::Instant::now();
    let inputs = [
        "    at f (((((((((((((((((((((/x.js:1:1)\n".repeat(25_000),
        "(".repeat(1 << 20),
        "a@b:1:2\n".repeat(100_000),
        "Traceback (most recent call last):\n".repeat(30_000),
        "\n".repeat(1 << 20),
        "#1 x(1): y()\n".repeat(80_000),
    ];
    for text in &inputs {
        let t = parse_stack_trace(text);
        assert!(t.frames.len() <= MAX_FRAMES);
    }
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn detects_each_format() {
    let cases: &[(&str, &str, &str)] = &[
        ("TypeError: x\n    at f (/app/a.js:1:2)", "/app/a.js", "f"),
        ("f@https://x.test/a.js:1:2", "https://x.test/a.js", "f"),
        ("Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in f\nE: x", "/app/a.py", "f"),
        ("thread 'main' panicked at src/a.rs:1:2:\nx\nstack backtrace:\n   0: a::f\n             at ./src/a.rs:1:2", "./src/a.rs", "a::f"),
        ("panic: x\n\ngoroutine 1 [running]:\nmain.f()\n\t/app/a.go:1 +0x1", "/app/a.go", "main.f"),
        ("java.lang.Error: x\n\tat a.B.f(B.java:1)", "a/B.java", "f"),
        ("a.rb:1:in 'f': x (E)", "a.rb", "f"),
        ("PHP Fatal error:  Uncaught E: x in /a.php:1\nStack trace:\n#0 {main}\n  thrown in /a.php on line 1", "/a.php", ""),
    ];
    for (text, path, function) in cases {
        let t = parse_stack_trace(text);
        let top = t.frames.last().cloned().unwrap_or_default();
        assert_eq!(top.file_path.as_deref(), Some(*path), "{text}");
        assert_eq!(top.function.as_deref().unwrap_or(""), *function, "{text}");
    }
}

#[test]
fn vercel_and_lambda_paths_end_up_repo_relative() {
    let cases: &[(&str, &str, bool)] = &[
        ("Error: boom\n    at Page (webpack-internal:///(rsc)/./src/app/page.tsx:12:11)", "src/app/page.tsx", true),
        ("Error: boom\n    at /vercel/path0/.next/server/app/page.js:1:4021", ".next/server/app/page.js", false),
        ("Error: boom\n    at handler (/var/task/src/x.js:3:9)", "src/x.js", true),
        ("Traceback (most recent call last):\n  File \"/var/task/app/handler.py\", line 3, in h\nE", "app/handler.py", true),
        ("PHP Fatal error:  Uncaught E: x in /var/www/checkout-api/src/Cart.php:12", "src/Cart.php", true),
    ];
    for (text, path, in_app) in cases {
        let t = parse_stack_trace(text);
        let raw = t
            .frames
            .last()
            .and_then(|f| f.file_path.clone())
            .unwrap_or_default();
        let n = paths::normalize_path(&raw, "acme/checkout-api");
        assert_eq!((n.path.as_str(), n.in_app), (*path, *in_app), "{text}");
    }
}

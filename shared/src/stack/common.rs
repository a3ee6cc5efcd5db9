//! Small parsing helpers shared by the format parsers. All of them work on one line at a time
//! (lines are at most [`super::MAX_LINE`] bytes) and never index outside a string.

use crate::event::Frame;

/// Longest error message kept, in bytes.
pub(super) const MAX_MESSAGE: usize = 8192;
/// Most lines of a header block (message continuation lines) looked at.
const MAX_HEADER_LINES: usize = 50;

/// A decimal line or column number (at most 9 digits, so it always fits).
pub(super) fn parse_num(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Splits a trailing `:<digits>` off `s`.
fn split_num(s: &str) -> Option<(&str, u32)> {
    let (head, tail) = s.rsplit_once(':')?;
    Some((head, parse_num(tail)?))
}

/// Splits `path:line:col` / `path:line` into its parts; no number means no line.
pub(super) fn split_location(loc: &str) -> (&str, Option<u32>, Option<u32>) {
    match split_num(loc) {
        None => (loc, None, None),
        Some((rest, last)) => match split_num(rest) {
            Some((path, line)) => (path, Some(line), Some(last)),
            None => (rest, Some(last), None),
        },
    }
}

/// Index of the `(` matching the `)` that ends `s`.
pub(super) fn matching_open(s: &str) -> Option<usize> {
    if !s.ends_with(')') {
        return None;
    }
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate().rev() {
        match b {
            b')' => depth += 1,
            b'(' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `Some(s)` when `s` is not empty.
pub(super) fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A frame from its text parts (empty parts become `None`).
pub(super) fn frame(
    path: Option<&str>,
    function: Option<&str>,
    line: Option<u32>,
    col: Option<u32>,
) -> Frame {
    Frame {
        file_path: path.and_then(some),
        module: None,
        function: function.and_then(some),
        line_number: line,
        column_number: col,
        in_app: None,
    }
}

/// Length of the error-type name at the start of `s` (`TypeError`, `java.lang.Foo$Bar`,
/// `App\Exceptions\CartException`, `ActiveRecord::RecordNotFound`), or 0.
fn type_name_len(s: &str) -> usize {
    let b = s.as_bytes();
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_' || *c == b'$')
    {
        return 0;
    }
    let mut i = 0;
    while i < b.len() && i <= 200 {
        let c = b[i];
        if c.is_ascii_alphanumeric() || b"_$.\\".contains(&c) {
            i += 1;
        } else if c == b':'
            && b.get(i + 1) == Some(&b':')
            && b.get(i + 2).is_some_and(|c| c.is_ascii_alphabetic())
        {
            i += 2;
        } else {
            break;
        }
    }
    if i > 200 || b[..i].ends_with(b".") {
        return 0;
    }
    i
}

/// Parses `Type: message`, `Type` alone, or Node's `Error [CODE]: message`.
pub(super) fn type_and_message(line: &str) -> Option<(String, Option<String>)> {
    let line = strip_header_prefix(line.trim());
    let n = type_name_len(line);
    if n == 0 {
        return None;
    }
    let mut ty_end = n;
    let mut rest = &line[n..];
    if let Some(code) = rest.strip_prefix(" [") {
        let close = code.find(']')?;
        ty_end = n + 2 + close + 1;
        rest = &code[close + 1..];
    }
    let ty = line[..ty_end].to_string();
    if rest.is_empty() {
        return Some((ty, None));
    }
    let msg = rest.strip_prefix(':')?;
    Some((ty, some(msg)))
}

/// Drops what runtimes print before the error type.
fn strip_header_prefix(line: &str) -> &str {
    let line = line.strip_prefix("Uncaught ").unwrap_or(line);
    if let Some(rest) = line.strip_prefix("Exception in thread \"") {
        if let Some((_, after)) = rest.split_once("\" ") {
            return after.trim_start();
        }
    }
    line
}

/// The error type and message from the non-empty lines right above `idx` (the first frame):
/// the first of them that reads `Type: message` starts the header; the lines after it continue
/// the message.
pub(super) fn header_above(lines: &[&str], idx: usize) -> (Option<String>, Option<String>) {
    let end = idx.min(lines.len());
    let mut start = end;
    while start > 0 && end - start < MAX_HEADER_LINES && !lines[start - 1].trim().is_empty() {
        start -= 1;
    }
    for (i, line) in lines[start..end].iter().enumerate() {
        if let Some((ty, msg)) = type_and_message(line) {
            let mut message = msg.unwrap_or_default();
            for more in &lines[start + i + 1..end] {
                push_line(&mut message, more);
            }
            return (Some(ty), some(&message));
        }
    }
    (None, None)
}

/// Appends a continuation line to a message, keeping it under [`MAX_MESSAGE`].
pub(super) fn push_line(message: &mut String, line: &str) {
    if message.len() + line.len() + 1 > MAX_MESSAGE {
        return;
    }
    if !message.is_empty() {
        message.push('\n');
    }
    message.push_str(line.trim_end());
}

/// Orders frames oldest first and keeps the newest [`super::MAX_FRAMES`].
pub(super) fn finish(mut frames: Vec<Frame>, newest_first: bool) -> Vec<Frame> {
    if newest_first {
        frames.truncate(super::MAX_FRAMES);
        frames.reverse();
    } else if frames.len() > super::MAX_FRAMES {
        frames.drain(..frames.len() - super::MAX_FRAMES);
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            split_location("/a/b.js:12:5"),
            ("/a/b.js", Some(12), Some(5))
        );
        assert_eq!(
            split_location("C:/a/b.js:12"),
            ("C:/a/b.js", Some(12), None)
        );
        assert_eq!(split_location("native"), ("native", None, None));
        assert_eq!(
            split_location("x:99999999999:1"),
            ("x:99999999999", Some(1), None)
        );
        assert_eq!(split_location(""), ("", None, None));
    }

    #[test]
    fn types_and_messages() {
        let ok = |l: &str, t: &str, m: Option<&str>| {
            assert_eq!(
                type_and_message(l),
                Some((t.to_string(), m.map(str::to_string))),
                "{l}"
            );
        };
        ok("TypeError: x is null", "TypeError", Some("x is null"));
        ok(
            "Uncaught ReferenceError: foo is not defined",
            "ReferenceError",
            Some("foo is not defined"),
        );
        ok(
            "Error [ERR_HTTP_HEADERS_SENT]: Cannot set headers",
            "Error [ERR_HTTP_HEADERS_SENT]",
            Some("Cannot set headers"),
        );
        ok("KeyboardInterrupt", "KeyboardInterrupt", None);
        ok(
            "Exception in thread \"main\" java.lang.IllegalStateException: boom",
            "java.lang.IllegalStateException",
            Some("boom"),
        );
        ok(
            "ActiveRecord::RecordNotFound: gone",
            "ActiveRecord::RecordNotFound",
            Some("gone"),
        );
        for bad in [
            "",
            "12: x",
            "a b: c",
            "x.: y",
            "at foo (x.js:1:2)",
            "Error [unclosed: x",
        ] {
            assert_eq!(type_and_message(bad), None, "{bad}");
        }
    }

    #[test]
    fn matching_parens() {
        assert_eq!(matching_open("f (a (b) c)"), Some(2));
        assert_eq!(matching_open("f)"), None);
        assert_eq!(matching_open("no"), None);
    }
}

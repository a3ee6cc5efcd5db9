//! Python tracebacks: `Traceback (most recent call last):`, then `  File "path", line N, in fn`
//! lines (oldest first, each followed by source and 3.11+ `^^^^` lines), then the exception line
//! `Type: message`. With chained exceptions ("During handling of the above exception…", "The
//! above exception was the direct cause…") the last traceback is the one that propagated: its
//! frames and exception are used.

use super::common::{finish, frame, parse_num, push_line, some, type_and_message};
use super::ParsedTrace;
use crate::event::Frame;

const HEADER: &str = "Traceback (most recent call last):";

/// Parses the last traceback in `lines`.
pub(super) fn parse(lines: &[&str]) -> ParsedTrace {
    let start = lines
        .iter()
        .rposition(|l| l.trim() == HEADER)
        .map_or(0, |i| i + 1);
    let has_header = start > 0;
    let mut frames: Vec<Frame> = Vec::new();
    let mut last_frame = None;
    for (i, line) in lines.iter().enumerate().skip(start) {
        if let Some(f) = parse_frame(line) {
            frames.push(f);
            last_frame = Some(i);
        } else if is_chain_marker(line) {
            // A traceback without its header (e.g. `traceback.format_stack()` text) ends here.
            frames.clear();
            last_frame = None;
        }
    }
    if frames.is_empty() && !has_header {
        return ParsedTrace::default();
    }
    let after = last_frame.map_or(start, |i| i + 1);
    let (error_type, error_message) = exception(lines.get(after..).unwrap_or_default());
    ParsedTrace {
        frames: finish(frames, false),
        error_type,
        error_message,
    }
}

fn is_chain_marker(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("During handling of the above exception")
        || t.starts_with("The above exception was the direct cause")
}

/// `  File "/app/x.py", line 10, in handler` (or without `, in …` for a `SyntaxError`).
fn parse_frame(line: &str) -> Option<Frame> {
    let rest = line.trim_start().strip_prefix("File \"")?;
    let (path, rest) = rest.rsplit_once("\", line ")?;
    let (num, function) = match rest.split_once(", in ") {
        Some((n, f)) => (n, Some(f)),
        None => (rest, None),
    };
    let line_no = parse_num(num.trim())?;
    Some(frame(Some(path), function, Some(line_no), None))
}

/// The exception line after the frames: the first line at column 0 (source lines are
/// indented); the next unindented lines continue its message.
fn exception(lines: &[&str]) -> (Option<String>, Option<String>) {
    let mut found: Option<(String, String)> = None;
    for line in lines {
        if line.trim().is_empty() || line.trim() == HEADER || is_chain_marker(line) {
            if found.is_some() {
                break;
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        match &mut found {
            Some((_, message)) => push_line(message, line),
            None => match type_and_message(line) {
                Some((ty, msg)) => found = Some((ty, msg.unwrap_or_default())),
                None => return (None, None),
            },
        }
    }
    match found {
        Some((ty, message)) => (Some(ty), some(&message)),
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use crate::stack::tests::check;

    #[test]
    fn lambda_traceback() {
        let text = "[ERROR] ZeroDivisionError: division by zero\nTraceback (most recent call last):\n  \
File \"/var/task/app/handler.py\", line 10, in handler\n    return process(event)\n  \
File \"/var/task/app/payments.py\", line 5, in process\n    return amount / count\n           ~~~~~~~^~~~~~~\n\
ZeroDivisionError: division by zero\n";
        check(
            text,
            Some("ZeroDivisionError"),
            Some("division by zero"),
            &[
                (
                    Some("/var/task/app/handler.py"),
                    Some("handler"),
                    Some(10),
                    None,
                ),
                (
                    Some("/var/task/app/payments.py"),
                    Some("process"),
                    Some(5),
                    None,
                ),
            ],
        );
    }

    #[test]
    fn chained_takes_the_last_exception() {
        let text = "Traceback (most recent call last):\n  File \"/srv/checkout-api/app/db.py\", line 3, in get\n    \
return rows[0]\nIndexError: list index out of range\n\nDuring handling of the above exception, another exception \
occurred:\n\nTraceback (most recent call last):\n  File \"/usr/lib/python3.11/runpy.py\", line 198, in _run_module_as_main\n  \
File \"<frozen importlib._bootstrap>\", line 1176, in _find_and_load\n  File \"/srv/checkout-api/app/payments.py\", line 12, in \
charge\n    raise PaymentError(f\"order {order_id} failed\") from None\napp.errors.PaymentError: order 42 failed\n\
second line of message\n";
        check(
            text,
            Some("app.errors.PaymentError"),
            Some("order 42 failed\nsecond line of message"),
            &[
                (
                    Some("/usr/lib/python3.11/runpy.py"),
                    Some("_run_module_as_main"),
                    Some(198),
                    None,
                ),
                (
                    Some("<frozen importlib._bootstrap>"),
                    Some("_find_and_load"),
                    Some(1176),
                    None,
                ),
                (
                    Some("/srv/checkout-api/app/payments.py"),
                    Some("charge"),
                    Some(12),
                    None,
                ),
            ],
        );
        let direct = "Traceback (most recent call last):\n  File \"app/a.py\", line 1, in f\nKeyError: 'x'\n\n\
The above exception was the direct cause of the following exception:\n\nTraceback (most recent call last):\n  \
File \"app/b.py\", line 2, in g\nRuntimeError\n";
        check(
            direct,
            Some("RuntimeError"),
            None,
            &[(Some("app/b.py"), Some("g"), Some(2), None)],
        );
    }

    #[test]
    fn syntax_error_without_function() {
        let text =
            "Traceback (most recent call last):\n  File \"/app/main.py\", line 1, in <module>\n  \
File \"/app/conf.py\", line 3\n    def f(\n         ^\nSyntaxError: '(' was never closed";
        check(
            text,
            Some("SyntaxError"),
            Some("'(' was never closed"),
            &[
                (Some("/app/main.py"), Some("<module>"), Some(1), None),
                (Some("/app/conf.py"), None, Some(3), None),
            ],
        );
    }
}

//! Rust panics and backtraces: `thread 'main' panicked at src/main.rs:4:5:` then the message
//! (Rust ≥ 1.73; older: `panicked at 'message', src/main.rs:4:5`), then with `RUST_BACKTRACE`
//! `stack backtrace:` and numbered frames, newest first, each optionally followed by an
//! `at path:line:col` line (`RUST_BACKTRACE=full` adds addresses, symbol hashes and unnumbered
//! inlined frames). The error type is `panic`, as Sentry's panic integration reports it. Without
//! a backtrace the panic location is the only frame.

use super::common::{finish, frame, parse_num, push_line, some, split_location};
use super::ParsedTrace;
use crate::event::Frame;

/// Parses a panic message and/or a `std::backtrace::Backtrace` printout.
pub(super) fn parse(lines: &[&str]) -> ParsedTrace {
    let header = lines.iter().position(|l| panic_rest(l).is_some());
    let marker = lines
        .iter()
        .position(|l| l.trim().eq_ignore_ascii_case("stack backtrace:"));
    let mut trace = ParsedTrace::default();
    let mut location = None;
    if let Some(i) = header {
        let (loc, message) = parse_header(lines, i);
        trace.error_type = Some("panic".to_string());
        trace.error_message = message;
        location = loc;
    }
    let from = marker.or(header).map_or(0, |i| i + 1);
    let frames = parse_frames(lines.get(from..).unwrap_or_default());
    let located = frames.iter().any(|f| f.file_path.is_some());
    if header.is_none() && marker.is_none() && !located {
        return ParsedTrace::default();
    }
    trace.frames = match location {
        Some((path, line, col)) if frames.is_empty() => vec![frame(Some(path), None, line, col)],
        _ => finish(frames, true),
    };
    trace
}

/// What follows ` panicked at ` in a `thread '…' panicked at …` line.
fn panic_rest(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("thread '")?;
    Some(rest.split_once(" panicked at ")?.1)
}

type Location<'a> = (&'a str, Option<u32>, Option<u32>);

/// The panic location and message, from the header line at `i` and the lines after it.
fn parse_header<'a>(lines: &[&'a str], i: usize) -> (Option<Location<'a>>, Option<String>) {
    let rest = lines
        .get(i)
        .and_then(|l| panic_rest(l))
        .unwrap_or_default()
        .trim();
    if let Some(loc) = rest.strip_suffix(':') {
        // Rust ≥ 1.73: the message is on the next lines.
        let mut message = String::new();
        for line in lines.iter().skip(i + 1) {
            let t = line.trim();
            if t.is_empty() || t.starts_with("note: ") || t.eq_ignore_ascii_case("stack backtrace:")
            {
                break;
            }
            push_line(&mut message, line);
        }
        return (located(loc), some(&message));
    }
    if let Some((message, loc)) = rest.strip_prefix('\'').and_then(|r| r.rsplit_once("', ")) {
        return (located(loc), some(message));
    }
    (located(rest), None)
}

fn located(loc: &str) -> Option<Location<'_>> {
    let (path, line, col) = split_location(loc.trim());
    line.map(|_| (path, line, col))
}

/// The first block of numbered frames (newest first).
fn parse_frames(lines: &[&str]) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in lines {
        let t = line.trim();
        if let Some(function) = numbered(t) {
            if frames.len() >= super::MAX_FRAMES {
                break;
            }
            frames.push(frame(None, Some(function), None, None));
        } else if let (Some(loc), Some(last)) = (t.strip_prefix("at "), frames.last_mut()) {
            let (path, line_no, col) = split_location(loc);
            if last.file_path.is_none() && line_no.is_some() {
                *last = frame(Some(path), last.function.as_deref(), line_no, col);
            }
        } else if !frames.is_empty() && !t.is_empty() && line.starts_with([' ', '\t']) {
            // `RUST_BACKTRACE=full`: an inlined frame under the numbered one.
            frames.push(frame(None, Some(strip_hash(t)), None, None));
        } else if !frames.is_empty() {
            break;
        }
    }
    frames
}

/// `12: checkout::main` or `12:     0x55d0c0a1b2c3 - checkout::main::h0123456789abcdef`.
fn numbered(t: &str) -> Option<&str> {
    let (num, rest) = t.split_once(':')?;
    parse_num(num)?;
    let rest = rest.trim();
    let name = match rest.strip_prefix("0x") {
        Some(addr) => addr.split_once(" - ").map_or("", |(_, name)| name.trim()),
        None => rest,
    };
    (!name.is_empty()).then(|| strip_hash(name))
}

/// `checkout::main::h0123456789abcdef` → `checkout::main` (the hash changes with every build).
fn strip_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use crate::stack::tests::check;

    #[test]
    fn panic_with_backtrace() {
        let text = "thread 'main' panicked at src/main.rs:4:5:\nattempt to divide by zero\nstack backtrace:\n   \
0: rust_begin_unwind\n             at /rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/std/src/panicking.rs:665:5\n   \
1: core::panicking::panic_const::panic_const_div_by_zero\n             at /rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/panicking.rs:178:9\n   \
2: checkout_api::divide\n             at ./src/main.rs:4:5\n   3: checkout_api::main\n             at ./src/main.rs:8:5\n   \
4: __libc_start_main\nnote: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n";
        check(
            text,
            Some("panic"),
            Some("attempt to divide by zero"),
            &[
                (None, Some("__libc_start_main"), None, None),
                (Some("./src/main.rs"), Some("checkout_api::main"), Some(8), Some(5)),
                (Some("./src/main.rs"), Some("checkout_api::divide"), Some(4), Some(5)),
                (
                    Some("/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/panicking.rs"),
                    Some("core::panicking::panic_const::panic_const_div_by_zero"),
                    Some(178),
                    Some(9),
                ),
                (
                    Some("/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/std/src/panicking.rs"),
                    Some("rust_begin_unwind"),
                    Some(665),
                    Some(5),
                ),
            ],
        );
    }

    #[test]
    fn panic_without_backtrace_and_old_format() {
        let text = "thread 'tokio-runtime-worker' panicked at src/cart.rs:12:9:\ncalled `Option::unwrap()` on a `None` value\n\
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        check(
            text,
            Some("panic"),
            Some("called `Option::unwrap()` on a `None` value"),
            &[(Some("src/cart.rs"), None, Some(12), Some(9))],
        );
        let old = "thread 'main' panicked at 'index out of bounds: the len is 3 but the index is 5', src/main.rs:2:5";
        check(
            old,
            Some("panic"),
            Some("index out of bounds: the len is 3 but the index is 5"),
            &[(Some("src/main.rs"), None, Some(2), Some(5))],
        );
    }

    #[test]
    fn full_backtrace_with_hashes_and_inlined_frames() {
        let text = "thread 'main' (4242) panicked at src/main.rs:2:5:\nboom\nstack backtrace:\n   \
0:     0x55d0c0a1b2c3 - checkout_api::main::h0123456789abcdef\n                               at /srv/checkout-api/src/main.rs:2:5\n                           \
core::ops::function::FnOnce::call_once\n                               at /rustc/abc/library/core/src/ops/function.rs:250:5\n";
        check(
            text,
            Some("panic"),
            Some("boom"),
            &[
                (
                    Some("/rustc/abc/library/core/src/ops/function.rs"),
                    Some("core::ops::function::FnOnce::call_once"),
                    Some(250),
                    Some(5),
                ),
                (
                    Some("/srv/checkout-api/src/main.rs"),
                    Some("checkout_api::main"),
                    Some(2),
                    Some(5),
                ),
            ],
        );
    }
}

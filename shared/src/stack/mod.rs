//! Stack traces: parsing the text runtimes print into [`Frame`]s, making paths repo-relative
//! ([`paths`]) and grouping errors ([`fingerprint`]); docs/ARCHITECTURE.md, Ingest path.
//!
//! Formats read by [`parse_stack_trace`]: V8 (Node, Chrome, Edge), Firefox and Safari, Python
//! tracebacks (incl. chained exceptions), Rust panics (with or without `RUST_BACKTRACE`), Go
//! panics, JVM (Java, Kotlin, Scala; `Caused by:` sections are not mixed in), Ruby and PHP.
//! Every parser is tried; the one that reads the most frames wins (ties go to the more specific
//! format, in the order Python, Rust, Go, PHP, JVM, Ruby, V8, Firefox/Safari).
//!
//! Input is treated as hostile: work is linear in its size, lines over [`MAX_LINE`] bytes are
//! skipped, at most [`MAX_FRAMES`] frames are kept (the innermost ones), and nothing panics.

pub mod fingerprint;
pub mod paths;

mod common;
mod firefox;
mod go;
mod java;
mod php;
mod python;
mod ruby;
mod rust;
mod v8;

use crate::event::Frame;

/// Most frames kept from one trace: the newest (innermost) calls, where errors are thrown.
pub const MAX_FRAMES: usize = 1000;
/// Lines longer than this (in bytes) are skipped.
pub const MAX_LINE: usize = 4096;

/// What a stack trace's text says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedTrace {
    /// Frames, oldest call first (Sentry's order); empty when nothing could be read.
    pub frames: Vec<Frame>,
    /// The error type from the trace's header line, e.g. `TypeError`, `ZeroDivisionError`,
    /// `java.lang.IllegalStateException`; `panic` for Rust and Go panics.
    pub error_type: Option<String>,
    /// The error message from the header, when the text has one.
    pub error_message: Option<String>,
}

/// One format's parser.
type Parser = fn(&[&str]) -> ParsedTrace;

/// Parsers, most specific first (ties in frame count go to the earlier one).
const PARSERS: [Parser; 8] = [
    python::parse,
    rust::parse,
    go::parse,
    php::parse,
    java::parse,
    ruby::parse,
    v8::parse,
    firefox::parse,
];

/// Detects the format of `text` and parses it. Text that no parser understands gives no frames
/// (and an error type and message only when its first line reads `Type: message`).
pub fn parse_stack_trace(text: &str) -> ParsedTrace {
    let lines: Vec<&str> = text.lines().filter(|l| l.len() <= MAX_LINE).collect();
    let mut best = ParsedTrace::default();
    for parse in PARSERS {
        let trace = parse(&lines);
        let key = |t: &ParsedTrace| {
            (
                t.frames.len(),
                t.error_type.is_some(),
                t.error_message.is_some(),
            )
        };
        if key(&trace) > key(&best) {
            best = trace;
        }
    }
    if best.frames.is_empty() && best.error_type.is_none() {
        if let Some(first) = lines.iter().find(|l| !l.trim().is_empty()) {
            if let Some((ty, Some(msg))) = common::type_and_message(first) {
                best.error_type = Some(ty);
                best.error_message = Some(msg);
            }
        }
    }
    best.frames = common::finish(best.frames, false);
    best
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests;

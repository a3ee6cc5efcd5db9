//! Firefox (SpiderMonkey) and Safari (JavaScriptCore) stack traces: one `function@location` line
//! per frame, newest first, with no header in `error.stack` (one is read when the text has it).
//! Anonymous frames are `@location`; Safari adds `global code@…`, `eval code@…` and
//! `fn@[native code]`; Firefox marks async boundaries as `promise callback*fn@…`.

use super::common::{finish, frame, header_above, split_location};
use super::ParsedTrace;
use crate::event::Frame;

/// Parses the first block of `fn@location` lines and the header above it.
pub(super) fn parse(lines: &[&str]) -> ParsedTrace {
    let Some(first) = lines.iter().position(|l| parse_frame(l).is_some()) else {
        return ParsedTrace::default();
    };
    let frames: Vec<Frame> = lines[first..]
        .iter()
        .map_while(|l| parse_frame(l))
        .take(super::MAX_FRAMES)
        .collect();
    let (error_type, error_message) = header_above(lines, first);
    ParsedTrace {
        frames: finish(frames, true),
        error_type,
        error_message,
    }
}

fn parse_frame(line: &str) -> Option<Frame> {
    let t = line.trim();
    if t.starts_with("at ") {
        return None;
    }
    // Function names never contain `@`; locations may (`node_modules/@scope/…`).
    let (function, loc) = t.split_once('@')?;
    if function.contains(['(', ')', '"']) || function.len() > 1024 {
        return None;
    }
    // `promise callback*handler`, `setTimeout handler*tick`: keep the function.
    let function = function.rsplit('*').next().unwrap_or_default();
    if loc == "[native code]" || (loc.is_empty() && !function.is_empty()) {
        return Some(frame(None, Some(function), None, None));
    }
    let (path, line_no, col) = split_location(loc);
    line_no?;
    if path.is_empty() {
        return None;
    }
    Some(frame(Some(path), Some(function), line_no, col))
}

#[cfg(test)]
mod tests {
    use crate::stack::tests::check;

    #[test]
    fn firefox() {
        let text =
            "TypeError: cart is null\ntotal@https://shop.example.com/static/js/main.js:10:5\n\
Cart/this.render/<@webpack:///./src/cart.js:40:12\n\
promise callback*checkout@https://shop.example.com/static/js/main.js:20:1\n\
@https://shop.example.com/static/js/main.js:30:7\n";
        check(
            text,
            Some("TypeError"),
            Some("cart is null"),
            &[
                (
                    Some("https://shop.example.com/static/js/main.js"),
                    None,
                    Some(30),
                    Some(7),
                ),
                (
                    Some("https://shop.example.com/static/js/main.js"),
                    Some("checkout"),
                    Some(20),
                    Some(1),
                ),
                (
                    Some("webpack:///./src/cart.js"),
                    Some("Cart/this.render/<"),
                    Some(40),
                    Some(12),
                ),
                (
                    Some("https://shop.example.com/static/js/main.js"),
                    Some("total"),
                    Some(10),
                    Some(5),
                ),
            ],
        );
    }

    #[test]
    fn safari() {
        let text = "total@https://shop.example.com/main.js:10:15\nforEach@[native code]\n\
render@webpack:///./node_modules/@scope/ui/index.js:3:9\nglobal code@https://shop.example.com/main.js:20:1";
        check(
            text,
            None,
            None,
            &[
                (
                    Some("https://shop.example.com/main.js"),
                    Some("global code"),
                    Some(20),
                    Some(1),
                ),
                (
                    Some("webpack:///./node_modules/@scope/ui/index.js"),
                    Some("render"),
                    Some(3),
                    Some(9),
                ),
                (None, Some("forEach"), None, None),
                (
                    Some("https://shop.example.com/main.js"),
                    Some("total"),
                    Some(10),
                    Some(15),
                ),
            ],
        );
    }
}

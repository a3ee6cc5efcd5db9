//! V8 stack traces (Node.js, Chrome, Edge, Deno, Bun): a `Type: message` header, then one
//! `    at …` line per frame, newest first.

use super::common::{finish, frame, header_above, matching_open, split_location};
use super::ParsedTrace;
use crate::event::Frame;

/// Parses the first block of `at …` lines and the header above it.
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

/// One `at …` line: `at fn (location)`, `at async fn (location)`, `at new Foo (location)`,
/// `at location`, `at fn (eval at g (location), <anonymous>:1:2)`, `at Array.map (<anonymous>)`.
fn parse_frame(line: &str) -> Option<Frame> {
    let rest = line.trim().strip_prefix("at ")?;
    // Node prints `at … {` when the error has extra properties (`[cause]`, `code`).
    let rest = rest.strip_suffix(" {").unwrap_or(rest).trim();
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    if let Some(open) = matching_open(rest) {
        let head = &rest[..open];
        if !head.is_empty() && !head.ends_with(' ') {
            return None; // `pkg.Class.method(File.java:1)`: not V8.
        }
        let function = strip_alias(head.trim());
        let mut loc = &rest[open + 1..rest.len() - 1];
        if let Some(eval) = loc.strip_prefix("eval at ") {
            // `eval at outer (file.js:1:2), <anonymous>:3:4`: the eval call site.
            let inner = eval.rsplit_once("), ").map_or(eval, |(a, _)| a);
            let inner = inner.split_once('(').map_or(inner, |(_, b)| b);
            loc = inner.trim_end_matches(')');
        }
        let (path, line_no, col) = split_location(loc);
        let path = line_no.map(|_| path);
        return Some(frame(path, Some(function), line_no, col));
    }
    let (path, line_no, col) = split_location(rest);
    line_no?;
    if path.is_empty() || path.contains(" (") {
        return None;
    }
    Some(frame(Some(path), None, line_no, col))
}

/// `fn [as alias]` → `fn`.
fn strip_alias(function: &str) -> &str {
    match function
        .strip_suffix(']')
        .and_then(|f| f.rsplit_once(" [as "))
    {
        Some((name, _)) => name,
        None => function,
    }
}

#[cfg(test)]
mod tests {
    use crate::stack::tests::check;

    #[test]
    fn node_commonjs_with_internals() {
        let text = "/var/task/src/cart.js:12\n    return cart.items.length;\n                ^\n\n\
TypeError: Cannot read properties of null (reading 'items')\n    at Cart.total (/var/task/src/cart.js:12:17)\n    \
at new Checkout (/var/task/src/checkout.js:5:22)\n    at Object.<anonymous> (/var/task/src/index.js:3:1)\n    \
at /var/task/src/anon.js:1:2\n    at Module._compile (node:internal/modules/cjs/loader:1256:14)\n    \
at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n\nNode.js v20.10.0\n";
        check(
            text,
            Some("TypeError"),
            Some("Cannot read properties of null (reading 'items')"),
            &[
                (
                    Some("node:internal/process/task_queues"),
                    Some("process.processTicksAndRejections"),
                    Some(95),
                    Some(5),
                ),
                (
                    Some("node:internal/modules/cjs/loader"),
                    Some("Module._compile"),
                    Some(1256),
                    Some(14),
                ),
                (Some("/var/task/src/anon.js"), None, Some(1), Some(2)),
                (
                    Some("/var/task/src/index.js"),
                    Some("Object.<anonymous>"),
                    Some(3),
                    Some(1),
                ),
                (
                    Some("/var/task/src/checkout.js"),
                    Some("new Checkout"),
                    Some(5),
                    Some(22),
                ),
                (
                    Some("/var/task/src/cart.js"),
                    Some("Cart.total"),
                    Some(12),
                    Some(17),
                ),
            ],
        );
    }

    #[test]
    fn node_esm_async_eval_and_cause() {
        let text = "Error: payment declined: card 4242\n    at charge (file:///app/src/pay.mjs:10:11)\n    \
at async Promise.all (index 0)\n    at async handler (file:///app/src/index.mjs:4:3)\n    \
at eval (eval at run (/app/src/run.js:2:3), <anonymous>:1:1)\n    at Array.forEach (<anonymous>)\n    \
at Server.emit [as handle] (node:events:517:28) {\n  [cause]: Error: inner\n      at x (/app/src/x.js:1:1)\n}";
        check(
            text,
            Some("Error"),
            Some("payment declined: card 4242"),
            &[
                (
                    Some("node:events"),
                    Some("Server.emit"),
                    Some(517),
                    Some(28),
                ),
                (None, Some("Array.forEach"), None, None),
                (Some("/app/src/run.js"), Some("eval"), Some(2), Some(3)),
                (
                    Some("file:///app/src/index.mjs"),
                    Some("handler"),
                    Some(4),
                    Some(3),
                ),
                (None, Some("Promise.all"), None, None),
                (
                    Some("file:///app/src/pay.mjs"),
                    Some("charge"),
                    Some(10),
                    Some(11),
                ),
            ],
        );
    }

    #[test]
    fn chrome_webpack_and_nextjs() {
        let text = "Uncaught TypeError: e.map is not a function\n    at List (webpack:///./src/components/List.tsx:14:20)\n    \
at renderWithHooks (https://shop.example.com/static/js/vendor.4f2a.js:2:88123)";
        check(
            text,
            Some("TypeError"),
            Some("e.map is not a function"),
            &[
                (
                    Some("https://shop.example.com/static/js/vendor.4f2a.js"),
                    Some("renderWithHooks"),
                    Some(2),
                    Some(88123),
                ),
                (
                    Some("webpack:///./src/components/List.tsx"),
                    Some("List"),
                    Some(14),
                    Some(20),
                ),
            ],
        );
        let next = "Error: Failed to load orders\n    at Page (webpack-internal:///(rsc)/./src/app/page.tsx:12:11)\n    \
at /vercel/path0/.next/server/app/page.js:1:4021\n    at async Promise.all (index 1)";
        check(
            next,
            Some("Error"),
            Some("Failed to load orders"),
            &[
                (None, Some("Promise.all"), None, None),
                (
                    Some("/vercel/path0/.next/server/app/page.js"),
                    None,
                    Some(1),
                    Some(4021),
                ),
                (
                    Some("webpack-internal:///(rsc)/./src/app/page.tsx"),
                    Some("Page"),
                    Some(12),
                    Some(11),
                ),
            ],
        );
    }

    #[test]
    fn lambda_node_and_codes() {
        let text = "Error [ERR_HTTP_HEADERS_SENT]: Cannot set headers after they are sent to the client\n    \
at ServerResponse.setHeader (node:_http_outgoing:652:11)\n    at Runtime.handler (/var/task/src/x.js:7:9)";
        check(
            text,
            Some("Error [ERR_HTTP_HEADERS_SENT]"),
            Some("Cannot set headers after they are sent to the client"),
            &[
                (
                    Some("/var/task/src/x.js"),
                    Some("Runtime.handler"),
                    Some(7),
                    Some(9),
                ),
                (
                    Some("node:_http_outgoing"),
                    Some("ServerResponse.setHeader"),
                    Some(652),
                    Some(11),
                ),
            ],
        );
    }
}

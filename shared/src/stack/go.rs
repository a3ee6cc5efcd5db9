//! Go panics: `panic: message` (or `fatal error: message`), a blank line, then
//! `goroutine 1 [running]:` and for each frame, newest first, a function line
//! (`main.(*Cart).Total(0xc000010000, {0x1, 0x2})`) and a tab-indented `/path/file.go:12 +0x1d`
//! line; `created by main.main in goroutine 1` ends the goroutine. Only the first goroutine (the
//! one that panicked) is read. The error type is `panic` (or `fatal error`), the message is the
//! rest of that line without ` [recovered]`.

use super::common::{finish, frame, matching_open, split_location};
use super::ParsedTrace;
use crate::event::Frame;

/// Parses the panic line and the first goroutine's frames.
pub(super) fn parse(lines: &[&str]) -> ParsedTrace {
    let mut trace = ParsedTrace::default();
    let header = lines.iter().find_map(|l| {
        let t = l.trim_end();
        let (ty, rest) = match t.strip_prefix("panic: ") {
            Some(rest) => ("panic", rest),
            None => ("fatal error", t.strip_prefix("fatal error: ")?),
        };
        Some((ty, rest.strip_suffix(" [recovered]").unwrap_or(rest)))
    });
    if let Some((ty, message)) = header {
        trace.error_type = Some(ty.to_string());
        trace.error_message = super::common::some(message);
    }
    if let Some(start) = lines.iter().position(|l| is_goroutine(l)) {
        trace.frames = finish(
            parse_frames(lines.get(start + 1..).unwrap_or_default()),
            true,
        );
    }
    trace
}

/// `goroutine 1 [running]:`
fn is_goroutine(line: &str) -> bool {
    let t = line.trim();
    t.strip_prefix("goroutine ")
        .and_then(|r| r.split_once(" ["))
        .is_some_and(|(id, _)| id.bytes().all(|b| b.is_ascii_digit()) && t.ends_with("]:"))
}

fn parse_frames(lines: &[&str]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut function: Option<&str> = None;
    for line in lines {
        if line.trim().is_empty() || frames.len() >= super::MAX_FRAMES {
            break;
        }
        if line.starts_with('\t') || line.starts_with("    ") {
            let Some(name) = function.take() else {
                continue;
            };
            let loc = line.trim();
            // `/app/main.go:12 +0x1d` (GOTRACEBACK=system adds ` fp=… sp=… pc=…`).
            let loc = loc.split_once(" +0x").map_or(loc, |(l, _)| l);
            let (path, line_no, _) = split_location(loc);
            let mut f = frame(line_no.map(|_| path), Some(name), line_no, None);
            f.module = package(name).map(str::to_string);
            frames.push(f);
        } else {
            let t = line.trim();
            if t.starts_with("...") {
                continue; // `...additional frames elided...`
            }
            function = Some(function_name(t));
        }
    }
    frames
}

/// `main.(*Cart).Total(0xc000010000, {0x1, 0x2})` → `main.(*Cart).Total`;
/// `created by main.main in goroutine 1` → `main.main`.
fn function_name(t: &str) -> &str {
    if let Some(created) = t.strip_prefix("created by ") {
        return created
            .split_once(" in goroutine ")
            .map_or(created, |(f, _)| f);
    }
    match matching_open(t) {
        Some(open) if open > 0 => &t[..open],
        _ => t,
    }
}

/// The package path of a function: `github.com/acme/api/cart.(*Cart).Total` →
/// `github.com/acme/api/cart`.
fn package(function: &str) -> Option<&str> {
    let slash = function.rfind('/').map_or(0, |i| i + 1);
    let dot = function.get(slash..)?.find('.')?;
    Some(&function[..slash + dot]).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use crate::stack::tests::check;

    #[test]
    fn runtime_error_panic() {
        let text = "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\n\
main.(*Cart).Item(...)\n\t/workspace/cart.go:12\nmain.main()\n\t/workspace/main.go:8 +0x1d\nexit status 2\n";
        check(
            text,
            Some("panic"),
            Some("runtime error: index out of range [5] with length 3"),
            &[
                (Some("/workspace/main.go"), Some("main.main"), Some(8), None),
                (
                    Some("/workspace/cart.go"),
                    Some("main.(*Cart).Item"),
                    Some(12),
                    None,
                ),
            ],
        );
    }

    #[test]
    fn recovered_panic_in_goroutine_with_modules() {
        let text = "panic: order 42 not found [recovered]\n\tpanic: order 42 not found\n\ngoroutine 7 [running]:\n\
panic({0x6c5e20?, 0xc000126010?})\n\t/usr/local/go/src/runtime/panic.go:770 +0x132\n\
github.com/acme/checkout-api/internal/cart.(*Service).Load(0xc00012a000, {0x7a1b20, 0xc000124000})\n\t\
/home/dev/checkout-api/internal/cart/service.go:44 +0x8c fp=0xc000 sp=0xc000 pc=0x4a\n\
created by net/http.(*Server).Serve in goroutine 1\n\t/usr/local/go/src/net/http/server.go:3285 +0x4b4\n\n\
goroutine 1 [IO wait]:\nmain.other()\n\t/x.go:1 +0x1\n";
        check(
            text,
            Some("panic"),
            Some("order 42 not found"),
            &[
                (
                    Some("/usr/local/go/src/net/http/server.go"),
                    Some("net/http.(*Server).Serve"),
                    Some(3285),
                    None,
                ),
                (
                    Some("/home/dev/checkout-api/internal/cart/service.go"),
                    Some("github.com/acme/checkout-api/internal/cart.(*Service).Load"),
                    Some(44),
                    None,
                ),
                (
                    Some("/usr/local/go/src/runtime/panic.go"),
                    Some("panic"),
                    Some(770),
                    None,
                ),
            ],
        );
        let t = crate::stack::parse_stack_trace(text);
        let modules: Vec<_> = t.frames.iter().map(|f| f.module.as_deref()).collect();
        assert_eq!(
            modules,
            [
                Some("net/http"),
                Some("github.com/acme/checkout-api/internal/cart"),
                None
            ]
        );
    }

    #[test]
    fn fatal_error() {
        let text = "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive]:\nmain.main()\n\t/app/main.go:5 +0x2e\n";
        check(
            text,
            Some("fatal error"),
            Some("all goroutines are asleep - deadlock!"),
            &[(Some("/app/main.go"), Some("main.main"), Some(5), None)],
        );
    }
}

//! PHP: `PHP Fatal error:  Uncaught RuntimeException: Cart is empty in /var/www/src/Cart.php:12`,
//! `Stack trace:`, `#0 /var/www/src/Controller.php(30): Cart->total()` … `#2 {main}`, and
//! `  thrown in /var/www/src/Cart.php on line 12`.
//!
//! PHP's entry `#i file(line): call()` means `call` was called from `file:line`, so the code at
//! `file:line` runs in the function of entry `#i+1`. Frames are built Sentry's way: the throw
//! site (from the header or `thrown in`) runs in `#0`'s function, and entry `#i`'s location runs
//! in `#i+1`'s function (`{main}`: none). Without an `Uncaught` header, `PHP Fatal error:  message
//! in file on line N` gives the type `Fatal error`.

use super::common::{finish, frame, parse_num, some, type_and_message};
use super::ParsedTrace;
use crate::event::Frame;

/// One `#N …` entry: where the call was made (if known) and the called function.
struct Entry<'a> {
    path: Option<&'a str>,
    line: Option<u32>,
    call: &'a str,
}

/// Parses the header, the `#N` entries and the `thrown in` line.
pub(super) fn parse(lines: &[&str]) -> ParsedTrace {
    let mut trace = ParsedTrace::default();
    let mut throw_site: Option<Site<'_>> = None;
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for line in lines {
        let t = line.trim();
        if let Some(entry) = parse_entry(t) {
            if entries.len() < super::MAX_FRAMES {
                entries.push(entry);
            }
        } else if let Some(rest) = t.strip_prefix("thrown in ") {
            throw_site = on_line(rest).or(throw_site);
        } else if trace.error_type.is_none() {
            if let Some((ty, message, site)) = header(t) {
                trace.error_type = Some(ty);
                trace.error_message = some(message);
                throw_site = site;
            }
        }
    }
    if entries.is_empty() && trace.error_type.is_none() {
        return ParsedTrace::default();
    }
    let mut frames: Vec<Frame> = Vec::new(); // newest first
    if let Some((path, line)) = throw_site {
        frames.push(frame(
            Some(path),
            entries.first().map(|e| e.call),
            Some(line),
            None,
        ));
    }
    for (i, entry) in entries.iter().enumerate() {
        if entry.path.is_some() {
            frames.push(frame(
                entry.path,
                entries.get(i + 1).map(|e| e.call),
                entry.line,
                None,
            ));
        }
    }
    for f in &mut frames {
        if f.function.as_deref() == Some("{main}") {
            f.function = None;
        }
    }
    trace.frames = finish(frames, true);
    trace
}

/// `#0 /path/File.php(30): Cart->total()`, `#1 [internal function]: array_map()`, `#2 {main}`.
fn parse_entry(t: &str) -> Option<Entry<'_>> {
    let rest = t.strip_prefix('#')?;
    let (num, rest) = rest.split_once(' ')?;
    parse_num(num)?;
    if rest == "{main}" {
        return Some(Entry {
            path: None,
            line: None,
            call: rest,
        });
    }
    let (location, call) = rest.split_once(": ")?;
    let call = call.split_once('(').map_or(call, |(name, _)| name).trim();
    if location == "[internal function]" {
        return Some(Entry {
            path: None,
            line: None,
            call,
        });
    }
    let (path, line) = location.strip_suffix(')')?.rsplit_once('(')?;
    Some(Entry {
        path: Some(path),
        line: Some(parse_num(line)?),
        call,
    })
}

/// Where something was thrown: path and line.
type Site<'a> = (&'a str, u32);

/// `/path/File.php on line 12`.
fn on_line(rest: &str) -> Option<Site<'_>> {
    let (path, line) = rest.rsplit_once(" on line ")?;
    Some((path, parse_num(line.trim())?))
}

/// `PHP Fatal error:  Uncaught Type: message in /path:12`, or `PHP Fatal error:  message in
/// /path on line 12`.
fn header(t: &str) -> Option<(String, &str, Option<Site<'_>>)> {
    let t = t.strip_prefix("PHP ").unwrap_or(t);
    let rest = ["Fatal error:", "Parse error:"]
        .iter()
        .find_map(|p| t.strip_prefix(p))?
        .trim_start();
    if let Some(uncaught) = rest.strip_prefix("Uncaught ") {
        let (ty, _) = type_and_message(uncaught)?;
        let message = uncaught.get(ty.len() + 1..).unwrap_or_default().trim();
        return Some(match message.rsplit_once(" in ") {
            Some((m, loc)) => {
                let site = loc
                    .rsplit_once(':')
                    .and_then(|(p, n)| Some((p, parse_num(n)?)));
                (ty, if site.is_some() { m } else { message }, site)
            }
            None => (ty, message, None),
        });
    }
    let kind = if t.starts_with("Parse") {
        "Parse error"
    } else {
        "Fatal error"
    };
    Some(match rest.rsplit_once(" in ") {
        Some((m, loc)) if on_line(loc).is_some() => (kind.to_string(), m, on_line(loc)),
        _ => (kind.to_string(), rest, None),
    })
}

#[cfg(test)]
mod tests {
    use crate::stack::tests::check;

    #[test]
    fn uncaught_exception() {
        let text = "PHP Fatal error:  Uncaught RuntimeException: Cart is empty in /var/www/checkout-api/src/Cart.php:12\n\
Stack trace:\n#0 /var/www/checkout-api/src/Controller.php(30): Cart->total()\n\
#1 [internal function]: Controller->checkout(Object(Request))\n#2 /var/www/checkout-api/public/index.php(8): array_map(Array, Array)\n\
#3 {main}\n  thrown in /var/www/checkout-api/src/Cart.php on line 12\n";
        check(
            text,
            Some("RuntimeException"),
            Some("Cart is empty"),
            &[
                (
                    Some("/var/www/checkout-api/public/index.php"),
                    None,
                    Some(8),
                    None,
                ),
                (
                    Some("/var/www/checkout-api/src/Controller.php"),
                    Some("Controller->checkout"),
                    Some(30),
                    None,
                ),
                (
                    Some("/var/www/checkout-api/src/Cart.php"),
                    Some("Cart->total"),
                    Some(12),
                    None,
                ),
            ],
        );
    }

    #[test]
    fn namespaced_and_plain_fatal() {
        let text = "Fatal error: Uncaught App\\Exceptions\\CartException: Total must be > 0 in /app/src/Cart.php:7\nStack trace:\n\
#0 {main}\n  thrown in /app/src/Cart.php on line 7";
        check(
            text,
            Some("App\\Exceptions\\CartException"),
            Some("Total must be > 0"),
            &[(Some("/app/src/Cart.php"), None, Some(7), None)],
        );
        let fatal = "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted in /app/src/Report.php on line 88";
        check(
            fatal,
            Some("Fatal error"),
            Some("Allowed memory size of 134217728 bytes exhausted"),
            &[(Some("/app/src/Report.php"), None, Some(88), None)],
        );
    }
}

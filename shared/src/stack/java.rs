//! JVM stack traces (Java, Kotlin, Scala): `Exception in thread "main" pkg.Type: message`, then
//! `\tat pkg.Class.method(File.java:42)` lines, newest first, then `Caused by: …` sections. The
//! error is the top-level exception (the one that propagated, as for Python's chained
//! exceptions), so only its own frames are read; causes and `Suppressed:` are not mixed in.
//!
//! A frame's path is made from the package and file name (`com/acme/Cart.java`), its module is
//! the class and its function the method. `Native Method` / `Unknown Source` give no path.

use super::common::{finish, header_above, parse_num, some};
use super::ParsedTrace;
use crate::event::Frame;

/// Parses the first exception's header and frames.
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

/// `at com.acme.Cart.total(Cart.java:42)`, `at java.base/java.lang.Thread.run(Thread.java:833)`,
/// `at app//com.acme.Main.main(Main.kt)`, `at jdk.internal…invoke0(Native Method)`, with an
/// optional logback suffix ` ~[app.jar:1.0]`.
fn parse_frame(line: &str) -> Option<Frame> {
    let rest = line.trim().strip_prefix("at ")?;
    let rest = match rest.rsplit_once(" ~[").or_else(|| rest.rsplit_once(" [")) {
        Some((head, tail)) if tail.ends_with(']') => head.trim_end(),
        _ => rest,
    };
    let open = rest.find('(')?;
    let inside = rest[open + 1..].strip_suffix(')')?;
    let qualified = &rest[..open];
    if qualified.is_empty() || qualified.contains(' ') || inside.contains(['(', ')']) {
        return None;
    }
    // Drop a module or class-loader prefix: `java.base/`, `app//`.
    let qualified = qualified.rsplit('/').next().unwrap_or_default();
    let (class, method) = qualified.rsplit_once('.')?;
    if class.is_empty() || method.is_empty() {
        return None;
    }
    let (file, line_no) = match inside.rsplit_once(':') {
        Some((file, n)) => (file, Some(parse_num(n)?)),
        None => (inside, None),
    };
    let is_file = !file.is_empty() && !file.contains(' ') && file.contains('.');
    let path = is_file.then(|| match class.rsplit_once('.') {
        Some((package, _)) => format!("{}/{file}", package.replace('.', "/")),
        None => file.to_string(),
    });
    Some(Frame {
        file_path: path,
        module: some(class),
        function: some(method),
        line_number: line_no,
        column_number: None,
        in_app: None,
    })
}

#[cfg(test)]
mod tests {
    use crate::stack::parse_stack_trace;
    use crate::stack::tests::check;

    const TEXT: &str = "Exception in thread \"main\" java.lang.IllegalStateException: boom\n\
\tat com.acme.checkout.Cart.total(Cart.java:42)\n\
\tat com.acme.checkout.Cart$Item.lambda$price$0(Cart.java:57) ~[classes/:?]\n\
\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n\
\tat java.base/java.lang.Thread.run(Native Method)\n\
\tat app//com.acme.checkout.Main.main(Main.kt:10)\n\
Caused by: java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"s\" is null\n\
\tat com.acme.checkout.Price.parse(Price.java:9)\n\
\t... 5 more\n";

    #[test]
    fn exception_with_cause() {
        check(
            TEXT,
            Some("java.lang.IllegalStateException"),
            Some("boom"),
            &[
                (
                    Some("com/acme/checkout/Main.kt"),
                    Some("main"),
                    Some(10),
                    None,
                ),
                (None, Some("run"), None, None),
                (
                    Some("jdk/internal/reflect/DirectMethodHandleAccessor.java"),
                    Some("invoke"),
                    Some(103),
                    None,
                ),
                (
                    Some("com/acme/checkout/Cart.java"),
                    Some("lambda$price$0"),
                    Some(57),
                    None,
                ),
                (
                    Some("com/acme/checkout/Cart.java"),
                    Some("total"),
                    Some(42),
                    None,
                ),
            ],
        );
        let t = parse_stack_trace(TEXT);
        assert_eq!(t.frames[1].module.as_deref(), Some("java.lang.Thread"));
        assert_eq!(
            t.frames[3].module.as_deref(),
            Some("com.acme.checkout.Cart$Item")
        );
    }

    #[test]
    fn logged_exception_without_thread_prefix() {
        let text = "2024-05-01 12:00:00 ERROR [http-nio-8080-exec-1] o.a.c.c.C.[dispatcherServlet] failed\n\
org.springframework.web.server.ResponseStatusException: 404 NOT_FOUND \"order 42\"\n\
\tat com.acme.api.OrderController.get(OrderController.java:31)\n";
        check(
            text,
            Some("org.springframework.web.server.ResponseStatusException"),
            Some("404 NOT_FOUND \"order 42\""),
            &[(
                Some("com/acme/api/OrderController.java"),
                Some("get"),
                Some(31),
                None,
            )],
        );
    }
}

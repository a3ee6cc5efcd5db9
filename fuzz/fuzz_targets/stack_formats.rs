//! Each stack-trace format, reached on purpose: the first byte picks a format (Python, Rust, Go,
//! PHP, JVM, Ruby, V8, Firefox/Safari), whose header line is written first; every following input
//! line `<kind><a>|<b>|<c>|<d>` is written through one of that format's line templates (`kind`
//! picks it) with the fields filled in, so the fuzzer mutates paths, numbers and function names
//! inside well-formed frame lines instead of having to discover the syntax. A line starting with
//! `!` is kept as it is.
//!
//! The per-format parsers are private to `shared::stack`; `parse_stack_trace` runs all of them
//! on every input, so this reaches each one with text shaped for it.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// One format: header lines, then line templates (`{a}`..`{d}` are fields, `{i}` the line index).
struct Format {
    header: &'static str,
    lines: &'static [&'static str],
}

const FORMATS: [Format; 8] = [
    Format {
        header: "Traceback (most recent call last):",
        lines: &[
            "  File \"{a}\", line {b}, in {c}",
            "    {d}",
            "    ^^^^^^^^^^",
            "{c}: {d}",
            "During handling of the above exception, another exception occurred:",
            "The above exception was the direct cause of the following exception:",
            "Traceback (most recent call last):",
            "  File \"{a}\", line {b}",
        ],
    },
    Format {
        header: "thread 'main' panicked at src/main.rs:4:5:",
        lines: &[
            "{d}",
            "stack backtrace:",
            "  {i}: {c}",
            "             at {a}:{b}:{d}",
            "  {i}: 0x{b} - {c}::h{d}",
            "thread '{c}' panicked at '{d}', {a}:{b}:{b}",
            "thread '{c}' panicked at {a}:{b}:{d}:",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
        ],
    },
    Format {
        header: "panic: runtime error: index out of range",
        lines: &[
            "",
            "goroutine {b} [running]:",
            "{c}({d})",
            "\t{a}:{b} +0x{d}",
            "created by {c} in goroutine {b}",
            "fatal error: {d}",
            "panic: {d} [recovered]",
            "    {a}:{b} +0x{d} fp={b} sp={b} pc={b}",
        ],
    },
    Format {
        header:
            "PHP Fatal error:  Uncaught RuntimeException: Cart is empty in /var/www/src/Cart.php:12",
        lines: &[
            "#{i} {a}({b}): {c}()",
            "Stack trace:",
            "#{i} {main}",
            "  thrown in {a} on line {b}",
            "#{i} [internal function]: {c}({d})",
            "PHP Fatal error:  Uncaught {c}: {d} in {a}:{b}",
            "PHP Fatal error:  {d} in {a} on line {b}",
            "#{i} {a}({b}): {c}->{d}()",
        ],
    },
    Format {
        header: "Exception in thread \"main\" java.lang.IllegalStateException: boom",
        lines: &[
            "\tat {c}({a}:{b})",
            "\tat {c}(Native Method)",
            "Caused by: {c}: {d}",
            "\t... {b} more",
            "\tat java.base/{c}({a}:{b})",
            "\tat {c}({a}:{b}) ~[{d}.jar:{b}]",
            "Exception in thread \"{d}\" {c}: {d}",
            "\tSuppressed: {c}: {d}",
        ],
    },
    Format {
        header: "NoMethodError (undefined method 'name' for nil):",
        lines: &[
            "{a}:{b}:in '{c}': {d} ({c})",
            "\tfrom {a}:{b}:in '{c}'",
            "\tfrom {a}:{b}:in `{c}'",
            "{a}:{b}:in `block in {c}'",
            "{d}",
            "{c} ({d}):",
            "{a}:{b}:in '{c}'",
            "\tfrom {a}:{b}",
        ],
    },
    Format {
        header: "TypeError: Cannot read properties of undefined (reading 'x')",
        lines: &[
            "    at {c} ({a}:{b}:{d})",
            "    at {a}:{b}:{d}",
            "    at async {c} ({a}:{b}:{d})",
            "    at new {c} ({a}:{b}:{d})",
            "    at {c} [as {d}] ({a}:{b}:{d})",
            "    at {c} (eval at {d} ({a}:{b}:{b}), <anonymous>:{b}:{d})",
            "    at {c} (<anonymous>)",
            "    at {c} ({a}:{b}:{d}) {",
        ],
    },
    Format {
        header: "TypeError: cart is null",
        lines: &[
            "{c}@{a}:{b}:{d}",
            "@{a}:{b}:{d}",
            "{c}@[native code]",
            "promise callback*{c}@{a}:{b}:{d}",
            "global code@{a}:{b}:{d}",
            "{c}/<@{a}:{b}:{d}",
            "{c}@",
            "{c}@{a}:{b}",
        ],
    },
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let format = &FORMATS[usize::from(selector) % FORMATS.len()];
    let input = String::from_utf8_lossy(rest);
    let mut text = String::with_capacity(input.len() * 2 + 64);
    text.push_str(format.header);
    text.push('\n');
    for (i, line) in input.lines().enumerate() {
        if let Some(raw) = line.strip_prefix('!') {
            text.push_str(raw);
        } else {
            let mut chars = line.chars();
            let Some(kind) = chars.next() else {
                text.push('\n');
                continue;
            };
            let template = format.lines[kind as usize % format.lines.len()];
            let mut fields = chars.as_str().split('|');
            let mut next = || fields.next().unwrap_or_default();
            let (a, b, c, d) = (next(), next(), next(), next());
            let filled = template
                .replace("{i}", &i.to_string())
                .replace("{a}", a)
                .replace("{b}", b)
                .replace("{c}", c)
                .replace("{d}", d);
            text.push_str(&filled);
        }
        text.push('\n');
    }
    cairn_fuzz::check_trace(&text);
});

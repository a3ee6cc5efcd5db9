//! Grouping (docs/ARCHITECTURE.md, Ingest path): events with the same fingerprint belong to the
//! same incident.
//!
//! The default fingerprint hashes the error type, the message with its variable parts replaced
//! by placeholders, and the top in-app frame's path and function — not its line, so a line shift
//! between commits does not split an incident. An SDK's own fingerprint wins, with Sentry's
//! `{{ default }}` expanded to the default one.

use sha2::{Digest, Sha256};

/// Only the first this many characters of a message are normalised and hashed.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// Replaces the variable parts of an error message with placeholders, so that
/// `order 42 not found` and `order 43 not found` group together:
/// UUIDs → `<uuid>`, emails → `<email>`, IPv4/IPv6 addresses → `<ip>`, `0x…` and hex runs of 6+
/// characters with a digit → `<hex>`, numbers (incl. decimals, and in words that start with a
/// digit: `42ms`) → `<num>`, and `'…'` / `"…"` quoted values → `<str>`. Words that start with a
/// letter (`utf8`, `int32`) are kept. Only the first [`MAX_MESSAGE_CHARS`] characters are read.
pub fn normalize_message(msg: &str) -> String {
    let chars: Vec<char> = msg.trim().chars().take(MAX_MESSAGE_CHARS).collect();
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_boundary = i == 0 || !is_word(chars[i - 1]);
        if at_boundary {
            if let Some((len, placeholder)) = token_at(&chars[i..]) {
                out.push_str(placeholder);
                i += len;
                // The rest of a word that starts with a number: `42ms`, `15T10`.
                while placeholder == "<num>" && i < chars.len() && is_word(chars[i]) {
                    if chars[i].is_ascii_digit() {
                        out.push_str("<num>");
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                    } else {
                        out.push(chars[i]);
                        i += 1;
                    }
                }
                continue;
            }
        }
        if (c == '\'' || c == '"') && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            if let Some(len) = quoted_len(&chars[i..]) {
                out.push_str("<str>");
                i += len;
                continue;
            }
        }
        if is_word(c) {
            // Copy the rest of the word: nothing inside a word is replaced.
            while i < chars.len() && is_word(chars[i]) {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The placeholder token starting at `s[0]` (which starts a word), and its length in chars.
fn token_at(s: &[char]) -> Option<(usize, &'static str)> {
    let ends_here = |n: usize| s.get(n).is_none_or(|c| !is_word(*c));
    if s.len() >= 36 && is_uuid(&s[..36]) && ends_here(36) {
        return Some((36, "<uuid>"));
    }
    if let Some(n) = email_len(s) {
        return Some((n, "<email>"));
    }
    if let Some(n) = ip_len(s) {
        return Some((n, "<ip>"));
    }
    if s.len() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
        let n = 2 + s[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if n > 2 && ends_here(n) {
            return Some((n, "<hex>"));
        }
    }
    let word = s.iter().take_while(|c| is_word(**c)).count();
    let hex = &s[..word];
    if word >= 6
        && hex.iter().all(char::is_ascii_hexdigit)
        && hex.iter().any(char::is_ascii_alphabetic)
        && hex.iter().any(char::is_ascii_digit)
    {
        return Some((word, "<hex>"));
    }
    if s[0].is_ascii_digit() {
        let mut n = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if s.get(n) == Some(&'.') && s.get(n + 1).is_some_and(char::is_ascii_digit) {
            n += 1 + s[n + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        }
        return Some((n, "<num>"));
    }
    None
}

fn is_uuid(s: &[char]) -> bool {
    s.iter().enumerate().all(|(i, c)| {
        if matches!(i, 8 | 13 | 18 | 23) {
            *c == '-'
        } else {
            c.is_ascii_hexdigit()
        }
    })
}

/// `local@domain.tld` starting at `s[0]`.
fn email_len(s: &[char]) -> Option<usize> {
    let local = s
        .iter()
        .take(256)
        .take_while(|c| c.is_ascii_alphanumeric() || "._%+-".contains(**c))
        .count();
    if local == 0 || s.get(local) != Some(&'@') {
        return None;
    }
    let domain = s[local + 1..]
        .iter()
        .take(257)
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '.' || **c == '-')
        .count();
    // Longer is no domain: cut at the bound, the placeholder would split a word and leave its
    // tail (digits included) behind (found by fuzzing).
    if domain > 256 {
        return None;
    }
    let d = &s[local + 1..local + 1 + domain];
    // Trim a trailing `.` (end of sentence); need a dot inside.
    let trimmed = d
        .iter()
        .rposition(|c| c.is_ascii_alphanumeric())
        .map_or(0, |p| p + 1);
    (d[..trimmed].contains(&'.')).then_some(local + 1 + trimmed)
}

/// An IPv4 address (four 0–255 parts) or an IPv6 address (hex groups with `::` or 7 colons and
/// at least one digit) starting at `s[0]`.
fn ip_len(s: &[char]) -> Option<usize> {
    // Bounded: an address is at most 45 characters.
    let run = s
        .iter()
        .take(46)
        .take_while(|c| c.is_ascii_digit() || **c == '.')
        .count();
    let v4 = &s[..run];
    let parts: Vec<&[char]> = v4.split(|c| *c == '.').collect();
    let part_ok = |p: &&[char]| {
        !p.is_empty()
            && p.len() <= 3
            && p.iter()
                .collect::<String>()
                .parse::<u16>()
                .is_ok_and(|n| n <= 255)
    };
    if parts.len() == 4 && parts.iter().all(part_ok) && !s.get(run).is_some_and(|c| is_word(*c)) {
        return Some(run);
    }
    let run = s
        .iter()
        .take(46)
        .take_while(|c| c.is_ascii_hexdigit() || **c == ':')
        .count();
    let v6: String = s[..run].iter().collect();
    let v6 = v6.trim_end_matches(':');
    let colons = v6.matches(':').count();
    let groups_ok = v6.split(':').all(|g| g.len() <= 4);
    let shape_ok = (v6.contains("::") && colons >= 2) || colons == 7;
    let ends = !s.get(run).is_some_and(|c| is_word(*c) || *c == '.');
    (groups_ok && shape_ok && ends && v6.bytes().any(|b| b.is_ascii_digit()))
        .then_some(v6.chars().count())
}

/// Length of a quoted value starting at `s[0]` (a quote), up to its closing quote on the same
/// line; a closing `'` must not be followed by a letter (`don't`).
fn quoted_len(s: &[char]) -> Option<usize> {
    let q = s[0];
    for (i, c) in s.iter().enumerate().skip(1) {
        match *c {
            '\n' => return None,
            c if c == q && !s.get(i + 1).is_some_and(|n| n.is_alphanumeric()) => {
                return Some(i + 1)
            }
            _ => {}
        }
    }
    None
}

/// Hashes `fields` with each field length-prefixed (and `None` told apart from `""`), so no two
/// different field lists hash the same input bytes.
fn hash_fields<'a>(domain: &str, fields: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let mut h = Sha256::new();
    h.update(domain.as_bytes());
    for field in fields {
        match field {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    hex::encode(h.finalize())
}

/// The default fingerprint: lowercase hex SHA-256 of the error type, the normalised message
/// ([`normalize_message`] is applied here) and the top in-app frame's path and function.
pub fn default_fingerprint(
    error_type: Option<&str>,
    message: &str,
    top_frame_path: Option<&str>,
    top_frame_function: Option<&str>,
) -> String {
    let message = normalize_message(message);
    hash_fields(
        "cairn.fingerprint.v1",
        [
            error_type,
            Some(message.as_str()),
            top_frame_path,
            top_frame_function,
        ],
    )
}

/// An SDK's fingerprint: each `{{ default }}` (or `{{default}}`) is replaced by `default`, and the
/// parts are hashed. An empty list, or one that is only `{{ default }}`, gives `default` itself,
/// so such events group with those that sent no fingerprint.
pub fn sdk_fingerprint(parts: &[String], default: &str) -> String {
    let expanded: Vec<String> = parts
        .iter()
        .map(|p| {
            p.replace("{{ default }}", default)
                .replace("{{default}}", default)
        })
        .collect();
    if expanded.is_empty() || (expanded.len() == 1 && expanded[0] == default) {
        return default.to_string();
    }
    hash_fields(
        "cairn.sdk-fingerprint.v1",
        expanded.iter().map(|s| Some(s.as_str())),
    )
}

#[cfg(test)]
#[path = "fingerprint_tests.rs"]
mod tests;

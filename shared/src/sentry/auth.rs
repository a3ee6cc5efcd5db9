//! Where a Sentry SDK puts its public key: the `X-Sentry-Auth` header (or `Authorization:
//! Sentry …`), the `sentry_key` query parameter, or the DSN in the envelope header.

use url::Url;

/// The `sentry_key` of an `X-Sentry-Auth` (or `Authorization`) header value such as
/// `Sentry sentry_key=abc, sentry_version=7, sentry_client=sentry.python/2.75.0`.
///
/// The `Sentry` scheme word is optional and case-insensitive; pairs are separated by commas
/// (spaces optional); a value may be double-quoted. Another scheme (`Bearer …`) or a header
/// without a non-empty `sentry_key` gives `None`.
pub fn key_from_auth_header(value: &str) -> Option<String> {
    let value = value.trim();
    let params = match value.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("sentry") => rest,
        _ => value,
    };
    params.split(',').find_map(|pair| {
        let (name, val) = pair.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("sentry_key") {
            return None;
        }
        let val = val.trim();
        let val = val
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(val)
            .trim();
        non_empty_key(val)
    })
}

/// The `sentry_key` parameter of a query string (with or without the leading `?`),
/// percent-decoded. The first non-empty one wins.
pub fn key_from_query(query: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name == "sentry_key")
        .find_map(|(_, value)| non_empty_key(value.trim()))
}

/// The most of an envelope decoded to find its header's `dsn` before the key is known to be
/// good: a header is a few hundred bytes of JSON.
pub const ENVELOPE_HEADER_MAX: usize = 16 * 1024;

/// The key of the `dsn` in an envelope's header line, reading only that line (at most
/// [`ENVELOPE_HEADER_MAX`] decoded bytes): how an envelope that carries its key in its header is
/// authenticated before the rest of it is decoded or parsed. `None` when the line holds no DSN
/// (or is not JSON: the full parse after authentication says what is wrong).
pub fn key_from_envelope_header(
    content_encoding: Option<&str>,
    raw: &[u8],
) -> Result<Option<String>, super::SentryError> {
    #[derive(serde::Deserialize)]
    struct Header {
        dsn: Option<String>,
    }
    let Some(line) =
        super::decompress::decode_first_line(content_encoding, raw, ENVELOPE_HEADER_MAX)?
    else {
        return Ok(None);
    };
    Ok(serde_json::from_slice::<Header>(line.trim_ascii())
        .ok()
        .and_then(|h| h.dsn)
        .and_then(|dsn| key_from_dsn(&dsn))
        .map(|(key, _)| key))
}

/// The public key and project id of a DSN `http(s)://<key>[:<secret>]@<host>[/path]/<project id>`.
///
/// The key is the percent-decoded user name; the project id is the last non-empty path segment
/// (not checked to be numeric). `None` when either is missing or the scheme is not http(s).
pub fn key_from_dsn(dsn: &str) -> Option<(String, String)> {
    let url = Url::parse(dsn.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let key = non_empty_key(&percent_decode(url.username())?)?;
    let project = url
        .path_segments()?
        .rev()
        .find(|s| !s.is_empty())?
        .to_owned();
    Some((key, project))
}

/// Decodes `%XX` escapes (a URL's user name is kept percent-encoded by `url`).
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = char::from(bytes.next()?).to_digit(16)?;
            let lo = char::from(bytes.next()?).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// Keys are tokens: no whitespace or control characters, and bounded.
fn non_empty_key(value: &str) -> Option<String> {
    let ok = !value.is_empty()
        && value.len() <= 256
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "cairn_ik_EXAMPLEKEY0123456789abcdefghij";

    #[test]
    fn auth_headers() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Sentry sentry_key=cairn_ik_EXAMPLEKEY0123456789abcdefghij, sentry_version=7, sentry_client=sentry.python/2.75.0",
                Some(KEY),
            ),
            ("Sentry sentry_version=7,sentry_client=raven-php/1.0,sentry_key=abc", Some("abc")),
            ("sentry sentry_key=abc", Some("abc")),
            ("SENTRY   sentry_key = abc ,sentry_version=7", Some("abc")),
            ("Sentry sentry_key=\"abc\"", Some("abc")),
            ("sentry_key=abc, sentry_version=7", Some("abc")),
            ("Sentry sentry_key=abc, sentry_secret=def", Some("abc")),
            ("Sentry sentry_version=7", None),
            ("Sentry sentry_key=, sentry_version=7", None),
            ("Sentry sentry_key=\"\"", None),
            ("Bearer cairn_ik_abc", None),
            ("Bearer sentry_key=abc", None),
            ("Basic dXNlcjpwYXNz", None),
            ("", None),
            ("Sentry", None),
            ("Sentry sentry_key=a b", None),
        ];
        for (header, want) in cases {
            assert_eq!(key_from_auth_header(header).as_deref(), *want, "{header}");
        }
    }

    #[test]
    fn queries() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "sentry_version=7&sentry_key=cairn_ik_EXAMPLEKEY0123456789abcdefghij&sentry_client=sentry.javascript.node%2F11.12.0",
                Some(KEY),
            ),
            ("?sentry_key=abc", Some("abc")),
            ("sentry_key=a%5Fb", Some("a_b")),
            ("sentry_key=&sentry_key=second", Some("second")),
            ("sentry_version=7", None),
            ("", None),
            ("sentry_key", None),
            ("not_sentry_key=abc", None),
        ];
        for (query, want) in cases {
            assert_eq!(key_from_query(query).as_deref(), *want, "{query}");
        }
    }

    #[test]
    fn dsns() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            (
                "http://cairn_ik_EXAMPLEKEY0123456789abcdefghij@host/42",
                Some((KEY, "42")),
            ),
            ("https://abc@cairn.example.com/7", Some(("abc", "7"))),
            (
                "https://abc@cairn.example.com:8443/prefix/path/7",
                Some(("abc", "7")),
            ),
            ("https://abc@cairn.example.com/7/", Some(("abc", "7"))),
            ("https://abc:secret@cairn.example.com/7", Some(("abc", "7"))),
            ("https://a%5Fb@host/7", Some(("a_b", "7"))),
            ("https://cairn.example.com/7", None),
            ("https://abc@cairn.example.com", None),
            ("https://abc@cairn.example.com/", None),
            ("ftp://abc@host/7", None),
            ("not a url", None),
            ("", None),
        ];
        for (dsn, want) in cases {
            let got = key_from_dsn(dsn);
            let got = got.as_ref().map(|(k, p)| (k.as_str(), p.as_str()));
            assert_eq!(got, *want, "{dsn}");
        }
    }
}

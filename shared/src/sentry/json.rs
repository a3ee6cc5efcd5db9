//! Small JSON helpers shared by the envelope and event parsers: a nesting-depth pre-scan, bounded
//! strings, lenient scalar coercion and Sentry timestamps.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::{SentryError, MAX_JSON_DEPTH};

/// Longest kept message, in bytes.
pub(super) const MESSAGE_MAX: usize = 8 * 1024;
/// Longest kept string of any other field, in bytes.
pub(super) const FIELD_MAX: usize = 1024;

/// Parses `bytes` as JSON after checking, with a byte scan that runs before serde, that objects
/// and arrays nest at most [`MAX_JSON_DEPTH`] deep.
pub(super) fn parse_bounded(bytes: &[u8]) -> Result<Value, SentryError> {
    check_depth(bytes, MAX_JSON_DEPTH)?;
    serde_json::from_slice(bytes).map_err(|e| SentryError::InvalidJson(e.to_string()))
}

/// Counts `[`/`{` nesting outside JSON strings; deeper than `limit` is [`SentryError::TooDeep`].
/// Malformed JSON is left for the real parser to report.
pub(super) fn check_depth(bytes: &[u8], limit: usize) -> Result<(), SentryError> {
    if crate::http::json_depth_exceeds(bytes, limit) {
        return Err(SentryError::TooDeep { limit });
    }
    Ok(())
}

/// `s` cut to at most `max` bytes on a char boundary.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_owned()
}

/// A non-empty (after trimming) string field, truncated to `max` bytes.
pub(super) fn str_field(value: Option<&Value>, max: usize) -> Option<String> {
    let s = value?.as_str()?;
    if s.trim().is_empty() {
        None
    } else {
        Some(truncate(s, max))
    }
}

/// A scalar as text: strings as they are, numbers and booleans printed; `None` for null, empty
/// strings, arrays and objects.
pub(super) fn scalar_text(value: &Value, max: usize) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(truncate(s, max)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A non-negative integer that fits `u32`, from a JSON number or a string of digits.
pub(super) fn as_u32(value: Option<&Value>) -> Option<u32> {
    match value? {
        Value::Number(n) => n.as_u64().and_then(|v| u32::try_from(v).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A Sentry timestamp: RFC 3339 text (a missing offset means UTC), or seconds since the epoch as
/// a number or numeric text. Anything else, or out of range, is `None`.
pub(super) fn timestamp(value: Option<&Value>) -> Option<DateTime<Utc>> {
    match value? {
        Value::Number(n) => n.as_f64().and_then(from_epoch_seconds),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(t.with_timezone(&Utc));
            }
            if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
                return Some(t.and_utc());
            }
            s.parse::<f64>().ok().and_then(from_epoch_seconds)
        }
        _ => None,
    }
}

/// Seconds (with fraction) since the epoch, to the microsecond, when finite and in range.
fn from_epoch_seconds(secs: f64) -> Option<DateTime<Utc>> {
    // ±10^11 s is about ±3,000 years: inside chrono's range, and 10^17 µs fits i64 exactly
    // enough (Sentry timestamps carry microseconds at most).
    if !secs.is_finite() || secs.abs() > 1e11 {
        return None;
    }
    // In range: checked above.
    #[allow(clippy::cast_possible_truncation)]
    let micros = (secs * 1e6).round() as i64;
    DateTime::from_timestamp_micros(micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_scan() {
        let cases: &[(&str, bool)] = &[
            ("{}", true),
            ("[[[]]]", true),
            ("[[[[]]]]", false),
            ("[[[]]][[[]]]", true),
            (
                r#"{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#,
                true,
            ),
            (
                r#"{"a":"\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#,
                true,
            ),
        ];
        for (input, ok) in cases {
            assert_eq!(check_depth(input.as_bytes(), 3).is_ok(), *ok, "{input}");
        }
        let at_limit = "[".repeat(64) + &"]".repeat(64);
        assert!(parse_bounded(at_limit.as_bytes()).is_ok());
        let over = "[".repeat(65) + &"]".repeat(65);
        assert_eq!(
            parse_bounded(over.as_bytes()),
            Err(SentryError::TooDeep { limit: 64 })
        );
        // Unbalanced input far deeper than serde's own limit is refused before serde sees it.
        let unbalanced = "{\"a\":".repeat(100_000);
        assert_eq!(
            check_depth(unbalanced.as_bytes(), 64),
            Err(SentryError::TooDeep { limit: 64 })
        );
        assert!(check_depth(b"[[[]]]", 2).is_err());
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("€€", 1), "");
    }

    #[test]
    fn timestamps() {
        let t = |v: Value| timestamp(Some(&v)).map(|t| t.to_rfc3339());
        let cases = [
            (
                json!("2026-11-24T05:39:23.063Z"),
                Some("2026-11-24T05:39:23.063+00:00"),
            ),
            (
                json!("2026-11-24T07:39:23+02:00"),
                Some("2026-11-24T05:39:23+00:00"),
            ),
            (
                json!("2026-11-24T05:39:23.5"),
                Some("2026-11-24T05:39:23.500+00:00"),
            ),
            (json!(1795498763.036), Some("2026-11-24T05:39:23.036+00:00")),
            (json!(1795498763), Some("2026-11-24T05:39:23+00:00")),
            (json!("1795498763.5"), Some("2026-11-24T05:39:23.500+00:00")),
            (json!("yesterday"), None),
            (json!(1e300), None),
            (json!(-1e300), None),
            (json!(null), None),
            (json!({"a": 1}), None),
            (json!(true), None),
        ];
        for (input, want) in cases {
            assert_eq!(t(input.clone()).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn scalars() {
        assert_eq!(scalar_text(&json!(42), 10).as_deref(), Some("42"));
        assert_eq!(scalar_text(&json!(true), 10).as_deref(), Some("true"));
        assert_eq!(scalar_text(&json!(""), 10), None);
        assert_eq!(scalar_text(&json!([1]), 10), None);
        assert_eq!(as_u32(Some(&json!(12))), Some(12));
        assert_eq!(as_u32(Some(&json!("12"))), Some(12));
        assert_eq!(as_u32(Some(&json!(-1))), None);
        assert_eq!(as_u32(Some(&json!(1.5))), None);
        assert_eq!(as_u32(Some(&json!(5_000_000_000u64))), None);
        assert_eq!(str_field(Some(&json!("  ")), 10), None);
    }
}

//! Small JSON helpers shared by the envelope and event parsers: a nesting-depth pre-scan, bounded
//! strings, lenient scalar coercion and Sentry timestamps.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::view::Scalar;
use super::SentryError;

/// Longest kept message, in bytes.
pub(super) const MESSAGE_MAX: usize = 8 * 1024;
/// Longest kept string of any other field, in bytes.
pub(super) const FIELD_MAX: usize = 1024;

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
pub(super) fn str_field(value: &Scalar<'_>, max: usize) -> Option<String> {
    let s = value.as_str()?;
    if s.trim().is_empty() {
        None
    } else {
        Some(truncate(s, max))
    }
}

/// A scalar as text: strings as they are, numbers and booleans printed; `None` for null, empty
/// strings, arrays and objects.
pub(super) fn scalar_text(value: &Scalar<'_>, max: usize) -> Option<String> {
    match value {
        Scalar::Str(s) if !s.is_empty() => Some(truncate(s, max)),
        Scalar::Num(n) => Some(n.to_string()),
        Scalar::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A non-negative integer that fits `u32`, from a JSON number or a string of digits.
pub(super) fn as_u32(value: &Scalar<'_>) -> Option<u32> {
    match value {
        Scalar::Num(n) => n.as_u64().and_then(|v| u32::try_from(v).ok()),
        Scalar::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A Sentry timestamp: RFC 3339 text (a missing offset means UTC), or seconds since the epoch as
/// a number or numeric text. Anything else, or out of range, is `None`.
pub(super) fn timestamp(value: &Scalar<'_>) -> Option<DateTime<Utc>> {
    match value {
        Scalar::Num(n) => n.as_f64().and_then(from_epoch_seconds),
        Scalar::Str(s) => {
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
    use super::super::MAX_JSON_DEPTH;
    use super::*;
    use serde_json::{json, Value};

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
        assert!(check_depth(at_limit.as_bytes(), MAX_JSON_DEPTH).is_ok());
        let over = "[".repeat(65) + &"]".repeat(65);
        assert_eq!(
            check_depth(over.as_bytes(), MAX_JSON_DEPTH),
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
        let t = |v: Value| timestamp(&Scalar::of(Some(&v))).map(|t| t.to_rfc3339());
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
        let text = |v: Value| scalar_text(&Scalar::of(Some(&v)), 10);
        assert_eq!(text(json!(42)).as_deref(), Some("42"));
        assert_eq!(text(json!(1.50)).as_deref(), Some("1.5"));
        assert_eq!(text(json!(true)).as_deref(), Some("true"));
        assert_eq!(text(json!("")), None);
        assert_eq!(text(json!([1])), None);
        assert_eq!(text(json!({"a": "b"})), None);
        let int = |v: Value| as_u32(&Scalar::of(Some(&v)));
        assert_eq!(int(json!(12)), Some(12));
        assert_eq!(int(json!("12")), Some(12));
        assert_eq!(int(json!(-1)), None);
        assert_eq!(int(json!(1.5)), None);
        assert_eq!(int(json!(5_000_000_000u64)), None);
        assert_eq!(as_u32(&Scalar::Absent), None);
        assert_eq!(str_field(&Scalar::of(Some(&json!("  "))), 10), None);
        assert_eq!(str_field(&Scalar::of(Some(&json!(7))), 10), None);
        assert_eq!(
            str_field(&Scalar::of(Some(&json!("héllo"))), 2).as_deref(),
            Some("h")
        );
    }
}

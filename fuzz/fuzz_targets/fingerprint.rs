//! Grouping: `normalize_message`, `default_fingerprint` and `sdk_fingerprint`.
//!
//! Input: NUL-separated fields: message, error type, top frame path, top frame function, then
//! SDK fingerprint parts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::stack::fingerprint::{default_fingerprint, normalize_message, sdk_fingerprint};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\0');
    let message = fields.next().unwrap_or_default();
    let (ty, path, function) = (fields.next(), fields.next(), fields.next());
    let parts: Vec<String> = fields.map(str::to_owned).collect();

    let normalized = normalize_message(message);
    assert_eq!(normalized, normalize_message(message), "not deterministic");
    // A number that starts a word is always replaced (`order 42` and `order 43` group together).
    let mut prev: Option<char> = None;
    for c in normalized.chars() {
        if c.is_ascii_digit() {
            assert!(
                prev.is_some_and(|p| p.is_alphanumeric() || p == '_'),
                "a number survives in {normalized:?} (from {message:?})"
            );
        }
        prev = Some(c);
    }

    let default = default_fingerprint(ty, message, path, function);
    cairn_fuzz::check_fingerprint(&default);
    cairn_fuzz::check_fingerprint(&sdk_fingerprint(&parts, &default));
});

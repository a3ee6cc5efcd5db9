//! `POST /api/{id}/envelope/` after decoding: the envelope parser, the Sentry event mapping, the
//! DSN in the header, and `prepare` on every event (the whole path before the database).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::sentry;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = sentry::parse_envelope(data) {
        assert!(
            envelope.items.len() <= sentry::MAX_ITEMS,
            "too many items kept"
        );
        let body = data.as_ptr_range();
        for item in &envelope.items {
            assert!(!item.ty.is_empty(), "item without a type");
            let p = item.payload.as_ptr_range();
            assert!(
                item.payload.is_empty() || (body.start <= p.start && p.end <= body.end),
                "payload outside the body"
            );
        }
        if let Some((key, project)) = envelope
            .header
            .dsn
            .as_deref()
            .and_then(sentry::key_from_dsn)
        {
            cairn_fuzz::check_key(&key);
            assert!(!project.is_empty(), "empty project id from a dsn");
        }
    }
    if let Ok((_, events)) = sentry::events_from_envelope(data) {
        for event in events {
            cairn_fuzz::check_event(&event, true);
            cairn_fuzz::prepare_and_check(event, true);
        }
    }
});

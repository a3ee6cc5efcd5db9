//! `POST /api/{id}/store/` after decoding: one event JSON, or a legacy raven body (base64 of
//! zlib), then `prepare`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = shared::sentry::event_from_store(data) {
        cairn_fuzz::check_event(&event, true);
        cairn_fuzz::prepare_and_check(event, true);
    }
});

//! `POST /v1/events`: cairn's own JSON (one event or an array), then `prepare` on each event.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match shared::ingest::native::parse(data) {
        Ok((events, _)) => {
            for event in events {
                cairn_fuzz::check_event(&event, false);
                cairn_fuzz::prepare_and_check(event, false);
            }
        }
        Err(e) => {
            // As a client would see it: the mapping at the edge (shared/src/error.rs).
            let e = shared::ApiError::from(e);
            let status = e.status();
            assert!(
                (400..500).contains(&status),
                "status {status} for a bad body"
            );
            assert!(!e.code().is_empty());
        }
    }
});

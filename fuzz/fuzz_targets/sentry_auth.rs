//! Where a Sentry SDK puts its key: `X-Sentry-Auth`, the `sentry_key` query parameter, the DSN.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::sentry;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(key) = sentry::key_from_auth_header(&text) {
        cairn_fuzz::check_key(&key);
    }
    if let Some(key) = sentry::key_from_query(&text) {
        cairn_fuzz::check_key(&key);
    }
    if let Some((key, project)) = sentry::key_from_dsn(&text) {
        cairn_fuzz::check_key(&key);
        assert!(!project.is_empty(), "empty project id from a dsn");
    }
});

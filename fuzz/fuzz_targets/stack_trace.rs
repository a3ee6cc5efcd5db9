//! Stack-trace text as clients send it in `stack_trace`: `parse_stack_trace` (every parser runs
//! on every input; the best reading wins), then `prepare` on an event carrying the text, which
//! normalises the parsed paths and fingerprints the result.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cairn_fuzz::check_trace(&String::from_utf8_lossy(data));
});

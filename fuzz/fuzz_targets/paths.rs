//! Path normalisation (`normalize_path`) and module names (`module_to_path`).
//!
//! Input: the raw path, then optionally a NUL and the repo name (the fixed `acme/checkout-api`
//! is tried too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::stack::paths::{module_to_path, normalize_path};

fuzz_target!(|data: &[u8]| {
    let (raw, repo) = cairn_fuzz::split2(data);
    let raw = String::from_utf8_lossy(raw);
    let repo = String::from_utf8_lossy(repo);
    for repo in [repo.as_ref(), cairn_fuzz::REPO] {
        let n = normalize_path(&raw, repo);
        cairn_fuzz::check_normalized(&raw, &n);
    }
    for hint in [None, Some("python"), Some("java"), Some(repo.as_ref())] {
        if let Some(path) = module_to_path(&raw, hint) {
            assert!(
                path.ends_with(".py") || path.ends_with(".java"),
                "module path {path:?}"
            );
            assert!(
                !path.starts_with('/') && path.len() <= 512 + 5,
                "module path {path:?}"
            );
        }
    }
});

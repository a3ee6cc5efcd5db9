//! The decompression path (`decode_body`): gzip, deflate (zlib or raw), brotli and stacks of
//! them, bounded by `max_out` while decoding.
//!
//! Input: two bytes of `max_out` (0..=65535, or the real 8 MiB limit when the mode byte's top
//! bit is set), one mode byte, then the body. Modes: arbitrary `Content-Encoding` text (up to a
//! NUL) over arbitrary bytes; a known encoding stack over arbitrary bytes; or a round trip, where
//! the body is compressed here first and must come back intact.
#![no_main]

use std::io::Write;

use flate2::Compression;
use libfuzzer_sys::fuzz_target;
use shared::sentry::{decode_body, SentryError, MAX_DECOMPRESSED_BYTES};

const STACKS: &[&str] = &[
    "gzip",
    "x-gzip",
    "deflate",
    "br",
    "identity",
    "GZIP, br",
    "deflate, gzip",
    "br, br",
    "gzip,gzip,gzip,gzip",
];

fuzz_target!(|data: &[u8]| {
    let [lo, hi, mode, body @ ..] = data else {
        return;
    };
    let max_out = if mode & 0x80 != 0 {
        MAX_DECOMPRESSED_BYTES
    } else {
        usize::from(u16::from_le_bytes([*lo, *hi]))
    };
    match mode & 0x7f {
        0..=31 => {
            let (header, body) = cairn_fuzz::split2(body);
            let header = String::from_utf8_lossy(header);
            check(decode_body(Some(&header), body, max_out), max_out);
        }
        32..=95 => {
            let stack = STACKS[usize::from(mode & 0x7f) % STACKS.len()];
            check(decode_body(Some(stack), body, max_out), max_out);
        }
        m => round_trip(m % 3, body, max_out),
    }
});

fn check(result: Result<Vec<u8>, SentryError>, max_out: usize) {
    if let Ok(out) = result {
        assert!(
            out.len() <= max_out,
            "{} bytes out, max {max_out}",
            out.len()
        );
    }
}

fn round_trip(kind: u8, body: &[u8], max_out: usize) {
    let (encoding, packed) = match kind {
        0 => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(body).unwrap();
            ("gzip", e.finish().unwrap())
        }
        1 => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::fast());
            e.write_all(body).unwrap();
            ("deflate", e.finish().unwrap())
        }
        _ => {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
            e.write_all(body).unwrap();
            ("deflate", e.finish().unwrap())
        }
    };
    match decode_body(Some(encoding), &packed, max_out) {
        Ok(out) => {
            assert!(out.len() <= max_out);
            assert!(out == body, "{encoding} round trip changed the body");
        }
        Err(SentryError::PayloadTooLarge { limit }) => {
            assert_eq!(limit, max_out);
            assert!(
                body.len() > max_out,
                "{} bytes refused under {max_out}",
                body.len()
            );
        }
        Err(e) => panic!("{encoding} round trip failed: {e}"),
    }
}

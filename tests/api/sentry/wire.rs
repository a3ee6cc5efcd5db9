//! Building Sentry requests for the table tests: events and envelopes, every content coding,
//! and [`post`], which checks that the answer carries `X-Sentry-Rate-Limits`, as every answer of
//! a Sentry route must.

use std::io::Write;

use serde_json::{json, Value};

use crate::helpers::{TestApp, TestResponse};

/// A Python-style error event raised in `app/payments.py:2`, released at `commit`.
pub fn event(event_id: &str, message: &str, commit: &str) -> Value {
    json!({
        "event_id": event_id, "level": "error", "platform": "python", "release": commit,
        "environment": "production", "timestamp": 1_764_000_000.25,
        "exception": {"values": [{"type": "ValueError", "value": message, "stacktrace": {"frames": [
            {"abs_path": "/srv/checkout-api/app/main.py", "function": "<module>", "lineno": 5, "in_app": true},
            {"abs_path": "/srv/checkout-api/app/payments.py", "function": "charge", "lineno": 2, "in_app": true}
        ]}}]}
    })
}

/// An envelope: the header line, then each item's header line and payload.
pub fn envelope(header: &Value, items: &[(Value, Vec<u8>)]) -> Vec<u8> {
    let mut out = format!("{header}\n").into_bytes();
    for (item_header, payload) in items {
        out.extend_from_slice(format!("{item_header}\n").as_bytes());
        out.extend_from_slice(payload);
        out.push(b'\n');
    }
    out
}

/// An envelope holding one event item, with its `length`.
pub fn event_envelope(event_id: &str, message: &str, commit: &str) -> Vec<u8> {
    let payload = event(event_id, message, commit).to_string().into_bytes();
    envelope(
        &json!({"event_id": event_id}),
        &[(json!({"type": "event", "length": payload.len()}), payload)],
    )
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `data` as a valid brotli stream (RFC 7932) of uncompressed meta-blocks: real `br` framing
/// without pulling in an encoder. (Compressed brotli from the real Python SDK is covered by the
/// fixture replay and the end-to-end test.)
pub fn brotli_stored(data: &[u8]) -> Vec<u8> {
    let mut w = BitWriter::default();
    w.bits(0, 1); // WBITS = 16
    for block in data.chunks(1 << 16) {
        // ISLAST = 0, MNIBBLES = 4, MLEN - 1 in 16 bits, ISUNCOMPRESSED = 1, then byte-aligned data.
        w.bits(0, 1);
        w.bits(0, 2);
        w.bits(block.len() as u64 - 1, 16);
        w.bits(1, 1);
        w.align();
        w.out.extend_from_slice(block);
    }
    w.bits(0b11, 2); // ISLAST, ISLASTEMPTY
    w.align();
    w.out
}

/// Writes bits least significant first, as brotli reads them.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn bits(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn align(&mut self) {
        let pad = (8 - self.n % 8) % 8;
        self.bits(0, pad);
    }
}

/// Posts to a Sentry route and checks the answer carries `X-Sentry-Rate-Limits`.
pub async fn post(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<hyper::body::Bytes>,
) -> TestResponse {
    let r = app.send("POST", path, headers, body).await;
    assert_rate_limits_header(&r);
    r
}

pub fn assert_rate_limits_header(r: &TestResponse) {
    let limits = r
        .headers
        .get("x-sentry-rate-limits")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        limits.as_deref().is_some_and(|l| l.contains("transaction")),
        "every Sentry answer switches off transactions (status {}, {:?}): {limits:?}",
        r.status,
        r.body
    );
}

/// `(status, code)` of an answer, with `"id"` standing for a success's id.
pub fn outcome(r: &TestResponse) -> (u16, String) {
    let code = if r.status == 200 {
        r.body["id"].as_str().unwrap_or("no id").to_owned()
    } else {
        r.code().to_owned()
    };
    (r.status, code)
}

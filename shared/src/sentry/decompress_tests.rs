use super::*;
use std::io::Write;
use std::time::{Duration, Instant};

use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::Compression;

const TEXT: &[u8] = b"{\"type\":\"event\"}\n{\"exception\":{\"values\":[]}}\n";
const MIB: usize = 1024 * 1024;

/// (case name, `Content-Encoding`, body, expected decoded bytes)
type DecodeCase<'a> = (&'a str, Option<&'a str>, Vec<u8>, &'a [u8]);
/// (case name, `Content-Encoding`, body, expected status and code)
type RefuseCase<'a> = (&'a str, Option<&'a str>, Vec<u8>, (u16, &'a str));

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .unwrap_or_default()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .unwrap_or_default()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .unwrap_or_default()
}

/// A brotli stream of uncompressed meta-blocks (no brotli encoder among the allowed crates).
fn brotli_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut first = true;
    for chunk in data.chunks(1 << 16) {
        let mlen = u32::try_from(chunk.len() - 1).unwrap_or_default();
        // First block: WBITS=16 ('0'), then ISLAST=0, MNIBBLES=4 ('00'), MLEN-1, ISUNCOMPRESSED.
        let bits = if first {
            (mlen << 4) | (1 << 20)
        } else {
            (mlen << 3) | (1 << 19)
        };
        out.extend_from_slice(&bits.to_le_bytes()[..3]);
        out.extend_from_slice(chunk);
        first = false;
    }
    // Last, empty meta-block: ISLAST=1, ISLASTEMPTY=1.
    out.push(if first { 0b110 } else { 0b11 });
    out
}

/// `n` zero bytes written through `enc` in 1 MiB steps.
fn zeros<W: Write>(mut enc: W, n: usize) -> W {
    let chunk = vec![0u8; MIB];
    for _ in 0..n / MIB {
        enc.write_all(&chunk).unwrap_or_default();
    }
    enc
}

#[test]
fn decodes_every_supported_encoding() {
    let python = include_bytes!("../../../../shared/fixtures/sentry/python-sdk-2.75.0/01.body");
    let python_plain = decode_body(Some("br"), python, MIB).unwrap_or_default();
    assert!(python_plain.starts_with(b"{\"event_id\":\"465cc9668833467c8ae768bd7c4a1c23\""));

    let stacked = gzip(&zlib(TEXT));
    let cases: Vec<DecodeCase<'_>> = vec![
        ("absent", None, TEXT.to_vec(), TEXT),
        ("empty", Some(""), TEXT.to_vec(), TEXT),
        ("identity", Some("identity"), TEXT.to_vec(), TEXT),
        ("gzip", Some("gzip"), gzip(TEXT), TEXT),
        ("x-gzip", Some("x-gzip"), gzip(TEXT), TEXT),
        ("upper case", Some(" GZIP "), gzip(TEXT), TEXT),
        (
            "multi-member gzip",
            Some("gzip"),
            [gzip(b"ab"), gzip(b"cd")].concat(),
            b"abcd",
        ),
        ("deflate zlib", Some("deflate"), zlib(TEXT), TEXT),
        ("deflate raw", Some("deflate"), raw_deflate(TEXT), TEXT),
        ("br stored", Some("br"), brotli_stored(TEXT), TEXT),
        ("br empty", Some("br"), brotli_stored(b""), b""),
        (
            "br python fixture",
            Some("br"),
            python.to_vec(),
            &python_plain,
        ),
        (
            "stacked deflate, gzip",
            Some("deflate, gzip"),
            stacked.clone(),
            TEXT,
        ),
        ("stacked no space", Some("deflate,gzip"), stacked, TEXT),
        (
            "stacked with identity",
            Some("identity, gzip"),
            gzip(TEXT),
            TEXT,
        ),
        (
            "stacked br, gzip",
            Some("br, gzip"),
            gzip(&brotli_stored(TEXT)),
            TEXT,
        ),
        ("empty gzip body", Some("gzip"), Vec::new(), b""),
    ];
    for (name, encoding, body, want) in cases {
        assert_eq!(
            decode_body(encoding, &body, MIB).as_deref(),
            Ok(want),
            "{name}"
        );
    }
}

#[test]
fn refuses_unknown_and_corrupt_bodies() {
    let mut truncated_gzip = gzip(&vec![b'a'; 10_000]);
    truncated_gzip.truncate(truncated_gzip.len() / 2);
    let mut truncated_br =
        include_bytes!("../../../../shared/fixtures/sentry/python-sdk-2.75.0/01.body").to_vec();
    truncated_br.truncate(900);
    let cases: Vec<RefuseCase<'_>> = vec![
        (
            "zstd",
            Some("zstd"),
            TEXT.to_vec(),
            (415, "unsupported_content_encoding"),
        ),
        (
            "compress",
            Some("compress"),
            TEXT.to_vec(),
            (415, "unsupported_content_encoding"),
        ),
        (
            "unknown in a stack",
            Some("gzip, zstd"),
            gzip(TEXT),
            (415, "unsupported_content_encoding"),
        ),
        (
            "too many stacked",
            Some("gzip,gzip,gzip,gzip,gzip"),
            TEXT.to_vec(),
            (415, "unsupported_content_encoding"),
        ),
        (
            "gzip of plain text",
            Some("gzip"),
            TEXT.to_vec(),
            (400, "invalid_compression"),
        ),
        (
            "truncated gzip",
            Some("gzip"),
            truncated_gzip,
            (400, "invalid_compression"),
        ),
        (
            "deflate garbage",
            Some("deflate"),
            b"\xff\xff\xff\xff garbage".to_vec(),
            (400, "invalid_compression"),
        ),
        (
            "br garbage",
            Some("br"),
            b"\xff\xff\xff\xff garbage garbage".to_vec(),
            (400, "invalid_compression"),
        ),
        (
            "truncated br",
            Some("br"),
            truncated_br,
            (400, "invalid_compression"),
        ),
        (
            "identity over limit",
            None,
            vec![b'a'; MIB + 1],
            (413, "payload_too_large"),
        ),
    ];
    for (name, encoding, body, (status, code)) in cases {
        let err = decode_body(encoding, &body, MIB).err();
        let got = err.as_ref().map(|e| (e.status(), e.code()));
        assert_eq!(got, Some((status, code)), "{name}: {err:?}");
    }
}

#[test]
fn output_limit_is_exact() {
    let data = vec![b'x'; 1000];
    for (encoding, body) in [
        ("gzip", gzip(&data)),
        ("deflate", zlib(&data)),
        ("br", brotli_stored(&data)),
    ] {
        assert_eq!(
            decode_body(Some(encoding), &body, 1000).map(|v| v.len()),
            Ok(1000),
            "{encoding}"
        );
        assert_eq!(
            decode_body(Some(encoding), &body, 999),
            Err(SentryError::PayloadTooLarge { limit: 999 }),
            "{encoding}"
        );
    }
}

#[test]
fn refuses_decompression_bombs_while_decoding() {
    let hundred_mib = 100 * MIB;
    let gz = zeros(GzEncoder::new(Vec::new(), Compression::fast()), hundred_mib).finish();
    let zl = zeros(
        ZlibEncoder::new(Vec::new(), Compression::fast()),
        hundred_mib,
    )
    .finish();
    let raw = zeros(
        DeflateEncoder::new(Vec::new(), Compression::fast()),
        hundred_mib,
    )
    .finish();
    // 20 MiB of stored brotli blocks: not a small bomb, but shows the bound applies to br too.
    let br = brotli_stored(&vec![0u8; 20 * MIB]);
    let bombs = [
        ("gzip", gz.unwrap_or_default()),
        ("deflate", zl.unwrap_or_default()),
        ("deflate", raw.unwrap_or_default()),
        ("br", br),
    ];
    for (encoding, body) in bombs {
        assert!(body.len() < 21 * MIB);
        let start = Instant::now();
        let result = decode_body(Some(encoding), &body, 8 * MIB);
        assert_eq!(
            result,
            Err(SentryError::PayloadTooLarge { limit: 8 * MIB }),
            "{encoding}"
        );
        // Bounded work: only 8 MiB are inflated, however large the bomb.
        assert!(start.elapsed() < Duration::from_secs(20), "{encoding}");
    }
    // A bomb under a stack: the inner stage is bounded as well.
    let inner = zeros(GzEncoder::new(Vec::new(), Compression::fast()), 16 * MIB).finish();
    let stacked = gzip(&inner.unwrap_or_default());
    assert_eq!(
        decode_body(Some("gzip, gzip"), &stacked, 8 * MIB),
        Err(SentryError::PayloadTooLarge { limit: 8 * MIB })
    );
}

#[test]
fn legacy_store_bodies() {
    use base64::Engine as _;
    let json = br#"{"message":"hi"}"#;
    let standard = base64::engine::general_purpose::STANDARD.encode(zlib(json));
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw_deflate(json));
    assert_eq!(
        unpack_legacy_store(standard.as_bytes()).as_deref(),
        Ok(&json[..])
    );
    assert_eq!(
        unpack_legacy_store(url_safe.as_bytes()).as_deref(),
        Ok(&json[..])
    );
    let bomb = zeros(ZlibEncoder::new(Vec::new(), Compression::fast()), 2 * MIB).finish();
    let bomb = base64::engine::general_purpose::STANDARD.encode(bomb.unwrap_or_default());
    assert_eq!(
        unpack_legacy_store(bomb.as_bytes()),
        Err(SentryError::EventTooLarge {
            limit: MAX_EVENT_BYTES
        })
    );
    assert_eq!(
        unpack_legacy_store(b"not base64 !!").map_err(|e| e.code()),
        Err("invalid_json")
    );
}

#[test]
fn the_first_line_is_decoded_alone_whatever_follows() {
    let mut body = b"{\"dsn\":\"http://k@h/1\"}\n".to_vec();
    body.extend(vec![b' '; 16 * 1024 * 1024]);
    let header = b"{\"dsn\":\"http://k@h/1\"}".to_vec();
    let started = Instant::now();

    for (encoding, data) in [
        (Some("gzip"), gzip(&body)),
        (Some("deflate"), zlib(&body)),
        (Some("deflate"), raw_deflate(&body)),
        (Some("gzip, gzip"), gzip(&gzip(&body))),
    ] {
        assert_eq!(
            decode_first_line(encoding, &data, 1024).unwrap(),
            Some(header.clone()),
            "{encoding:?}"
        );
    }
    // 16 MiB behind the line were never decoded.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        decode_first_line(None, b"{}", 1024).unwrap(),
        Some(b"{}".to_vec())
    );
    assert_eq!(decode_first_line(None, &[b'x'; 2048], 1024).unwrap(), None);
    assert_eq!(
        decode_first_line(Some("gzip"), b"not gzip", 1024).unwrap(),
        None
    );
    assert!(decode_first_line(Some("zstd"), b"", 1024).is_err());
}

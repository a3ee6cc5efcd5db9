//! `Content-Encoding` decoding with a hard bound on the output, enforced while decoding.

use std::io::Read;

use base64::Engine as _;

use super::{SentryError, MAX_EVENT_BYTES};

/// Most encodings one `Content-Encoding` header may stack (`gzip, br` is 2).
const MAX_STACKED: usize = 4;

/// Decodes `body` as described by a `Content-Encoding` header value.
///
/// Supports identity (absent, empty or `identity`), `gzip` / `x-gzip`, `deflate` (zlib-wrapped or
/// raw, as clients send both) and `br`, and comma-separated stacks of them, undone in reverse
/// order. Names are case-insensitive. No stage may produce more than `max_out` bytes: decoding
/// stops as soon as it would ([`SentryError::PayloadTooLarge`]), so a decompression bomb costs at
/// most `max_out` bytes of work. An unknown encoding is [`SentryError::UnsupportedEncoding`];
/// corrupt data is [`SentryError::BadCompression`].
pub fn decode_body(
    content_encoding: Option<&str>,
    body: &[u8],
    max_out: usize,
) -> Result<Vec<u8>, SentryError> {
    let encodings = encodings(content_encoding)?;
    if body.len() > max_out && encodings.is_empty() {
        return Err(SentryError::PayloadTooLarge { limit: max_out });
    }
    let mut data = body.to_vec();
    for encoding in encodings.iter().rev() {
        if data.is_empty() {
            // Nothing was sent: let the format parser say "empty body".
            break;
        }
        data = encoding.decode(&data, max_out)?;
    }
    Ok(data)
}

/// The first line of `body` once decoded (without its `\n`), reading at most `max_line` decoded
/// bytes, whatever follows: an envelope's header, read before its key is known to be good, so
/// an unauthenticated request costs at most that much decoding. `None` when the data is corrupt
/// or no line ends within `max_line` bytes; an unknown encoding is
/// [`SentryError::UnsupportedEncoding`] as in [`decode_body`].
pub fn decode_first_line(
    content_encoding: Option<&str>,
    body: &[u8],
    max_line: usize,
) -> Result<Option<Vec<u8>>, SentryError> {
    let encodings = encodings(content_encoding)?;
    // The stages as a chain of streaming readers, so only what the line needs is decoded.
    let mut reader: Box<dyn Read + '_> = Box::new(body);
    for encoding in encodings.iter().rev() {
        reader = match encoding {
            Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
            Encoding::Deflate => {
                let mut buffered = std::io::BufReader::new(reader);
                let zlib = std::io::BufRead::fill_buf(&mut buffered).is_ok_and(looks_like_zlib);
                if zlib {
                    Box::new(flate2::read::ZlibDecoder::new(buffered))
                } else {
                    Box::new(flate2::read::DeflateDecoder::new(buffered))
                }
            }
            Encoding::Brotli => Box::new(brotli_decompressor::Decompressor::new(reader, 4096)),
        };
    }
    let limit = u64::try_from(max_line)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut line = Vec::new();
    let read = std::io::BufRead::read_until(
        &mut std::io::BufReader::new(reader.take(limit)),
        b'\n',
        &mut line,
    );
    if read.is_err() {
        return Ok(None);
    }
    match line.pop() {
        Some(b'\n') => Ok(Some(line)),
        // The whole body is one line (an envelope of only a header).
        Some(last) if line.len() < max_line => {
            line.push(last);
            Ok(Some(line))
        }
        _ => Ok(None),
    }
}

/// The stages of a `Content-Encoding` header value, outermost last.
fn encodings(content_encoding: Option<&str>) -> Result<Vec<Encoding>, SentryError> {
    let mut encodings = Vec::new();
    for token in content_encoding.unwrap_or("").split(',') {
        let token = token.trim().to_ascii_lowercase();
        match token.as_str() {
            "" | "identity" => {}
            "gzip" | "x-gzip" => encodings.push(Encoding::Gzip),
            "deflate" => encodings.push(Encoding::Deflate),
            "br" => encodings.push(Encoding::Brotli),
            _ => return Err(SentryError::UnsupportedEncoding(truncate_name(&token))),
        }
    }
    if encodings.len() > MAX_STACKED {
        return Err(SentryError::UnsupportedEncoding(format!(
            "more than {MAX_STACKED} stacked encodings"
        )));
    }
    Ok(encodings)
}

/// One content coding.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    Gzip,
    Deflate,
    Brotli,
}

impl Encoding {
    fn decode(self, input: &[u8], max_out: usize) -> Result<Vec<u8>, SentryError> {
        match self {
            Self::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(input), max_out),
            Self::Deflate => inflate(input, max_out),
            Self::Brotli => {
                read_bounded(brotli_decompressor::Decompressor::new(input, 4096), max_out)
            }
        }
    }
}

/// Inflates zlib-wrapped deflate when the data starts with a zlib header, raw deflate otherwise
/// (or when the zlib attempt fails on data that merely looked like a header).
fn inflate(input: &[u8], max_out: usize) -> Result<Vec<u8>, SentryError> {
    if looks_like_zlib(input) {
        match read_bounded(flate2::read::ZlibDecoder::new(input), max_out) {
            Err(SentryError::BadCompression(_)) => {}
            other => return other,
        }
    }
    read_bounded(flate2::read::DeflateDecoder::new(input), max_out)
}

/// RFC 1950 header check: compression method 8, window ≤ 32 KiB, and the FCHECK checksum.
fn looks_like_zlib(input: &[u8]) -> bool {
    match input {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) * 256 + u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Reads `reader` to the end through `take(max_out + 1)`, refusing more than `max_out` bytes.
fn read_bounded(reader: impl Read, max_out: usize) -> Result<Vec<u8>, SentryError> {
    let limit = u64::try_from(max_out).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    reader
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| SentryError::BadCompression(e.to_string().to_lowercase()))?;
    if out.len() > max_out {
        return Err(SentryError::PayloadTooLarge { limit: max_out });
    }
    Ok(out)
}

/// Unpacks a legacy raven `/store/` body: base64 (standard or URL-safe) of zlib or raw deflate.
pub(super) fn unpack_legacy_store(body: &[u8]) -> Result<Vec<u8>, SentryError> {
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let decoded = engines
        .iter()
        .find_map(|engine| engine.decode(&compact).ok())
        .ok_or_else(|| SentryError::InvalidJson("body is neither json nor base64".into()))?;
    match inflate(&decoded, MAX_EVENT_BYTES) {
        Err(SentryError::PayloadTooLarge { .. }) => Err(SentryError::EventTooLarge {
            limit: MAX_EVENT_BYTES,
        }),
        other => other,
    }
}

/// An encoding name fit for an error message (bounded, printable).
fn truncate_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
#[path = "decompress_tests.rs"]
mod tests;

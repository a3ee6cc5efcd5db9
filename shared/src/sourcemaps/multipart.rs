//! Just enough `multipart/form-data` (RFC 7578) for chunk uploads: parts with a
//! `Content-Disposition` name and filename and a body, borrowed from the request body. No
//! streaming and no other headers: a chunk request is one chunk plus a few hundred bytes.

/// One part of a form.
#[derive(Debug)]
pub struct Part<'a> {
    /// The form field (`file_gzip`, `file`).
    pub name: String,
    /// The part's filename (a chunk's SHA-1), if given.
    pub filename: Option<String>,
    pub data: &'a [u8],
}

/// Most parts read from one body.
const MAX_PARTS: usize = 256;
/// Longest header block of one part.
const MAX_HEADERS: usize = 8 * 1024;

/// The parts of `body` delimited by `boundary`; `None` when the body is not a well-formed form.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let dash = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    // The first delimiter may stand at the very start (no preamble) or after a preamble.
    let mut pos = if body.starts_with(dash.as_bytes()) {
        dash.len()
    } else {
        next_delimiter(body, delimiter.as_bytes(), 0)? + delimiter.len()
    };
    let mut out = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Some(out);
        }
        // Transport padding, then the line break that ends the delimiter line.
        let skip = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if !rest[skip..].starts_with(b"\r\n") || out.len() >= MAX_PARTS {
            return None;
        }
        let start = pos + skip + 2;
        let headers_end = find(body, b"\r\n\r\n", start)?;
        if headers_end - start > MAX_HEADERS {
            return None;
        }
        let headers = std::str::from_utf8(&body[start..headers_end]).ok()?;
        let data_start = headers_end + 4;
        let data_end = next_delimiter(body, delimiter.as_bytes(), data_start)?;
        let (name, filename) = disposition(headers)?;
        out.push(Part {
            name,
            filename,
            data: &body[data_start..data_end],
        });
        pos = data_end + delimiter.len();
    }
}

/// The `name` and `filename` of a part's `Content-Disposition: form-data` header.
fn disposition(headers: &str) -> Option<(String, Option<String>)> {
    let value = headers.split("\r\n").find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(v)
    })?;
    let mut params = value.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("form-data") {
        return None;
    }
    let (mut name, mut filename) = (None, None);
    for p in params {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(v)
            .to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "filename" => filename = Some(v),
            _ => {}
        }
    }
    Some((name?, filename))
}

/// The next delimiter line at or after `from`: the delimiter followed by `--` (the last) or by
/// optional padding and a line break. Data may hold the delimiter's text followed by anything else.
fn next_delimiter(body: &[u8], delimiter: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let at = find(body, delimiter, i)?;
        let after = &body[at + delimiter.len()..];
        let pad = after
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if after.starts_with(b"--") || after[pad..].starts_with(b"\r\n") {
            return Some(at);
        }
        i = at + 1;
    }
}

/// Where `needle` first occurs in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let at = i + hay[i..].iter().position(|b| *b == first)?;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_read_with_their_names_and_bodies() {
        let body = b"preamble\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"abc\"\r\nContent-Type: x\r\n\r\nA\r\n--bb\r\n--b  \r\ncontent-disposition: form-data; name=other\r\n\r\n\r\n--b--\r\n";
        let parts = parts(body, "b").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "file");
        assert_eq!(parts[0].filename.as_deref(), Some("abc"));
        assert_eq!(parts[0].data, b"A\r\n--bb");
        assert_eq!(
            (
                parts[1].name.as_str(),
                parts[1].filename.clone(),
                parts[1].data
            ),
            ("other", None, &b""[..])
        );
    }

    #[test]
    fn malformed_forms_are_none() {
        for body in [
            &b"no delimiter at all"[..],
            b"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nunterminated",
            b"--b\r\nContent-Type: x\r\n\r\nno disposition\r\n--b--",
            b"--bXX\r\n",
            b"--b\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nx\r\n--b--",
        ] {
            assert!(
                parts(body, "b").is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

//! Chunks: sentry-cli cuts a bundle into SHA-1-named slices of the advertised size, asks
//! `GET chunk-upload/` how, and posts them as `multipart/form-data` (one part per chunk, field
//! `file_gzip` when gzip is offered, the part's filename the SHA-1 hex of the *uncompressed*
//! chunk). Each chunk is checked against its name and kept per project until its bundle is
//! assembled; uploading a chunk twice is harmless.

use std::io::Read;

use serde::Serialize;
use sha1::{Digest, Sha1};
use sqlx::PgPool;

use super::Limits;

/// What sentry-cli learns from `GET /api/0/organizations/{org}/chunk-upload/` (its
/// `ChunkServerOptions`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChunkOptions {
    /// Where chunks go: absolute, on cairn's public URL, as Sentry answers. sentry-cli 2.x and
    /// 3.x would resolve a relative path against the URL they use, but the JavaScript `sentry`
    /// CLI that `@sentry/nextjs` 11 and the bundler plugins upload through fetches this URL as
    /// given, and refuses (`Credentials: <unknown host>`) one without a host.
    pub url: String,
    pub chunk_size: usize,
    /// One chunk per request: a request stays one chunk plus a little (the 1 MiB body limit).
    pub chunks_per_request: usize,
    pub max_request_size: usize,
    /// Largest bundle sentry-cli should try to upload.
    pub max_file_size: usize,
    /// Seconds sentry-cli may wait for assembly (it is synchronous here).
    pub max_wait: u64,
    pub concurrency: u8,
    pub hash_algorithm: &'static str,
    pub compression: Vec<&'static str>,
    /// Capabilities: `artifact_bundles` takes 2.x to the debug-id bundle upload, `_v2` makes
    /// it ask which chunks are missing first (as 3.x always does); `release_files` keeps 2.x
    /// from refusing to upload without a release.
    pub accept: Vec<&'static str>,
}

impl ChunkOptions {
    /// The options for uploads to `org` on cairn at `public_url` under `limits`.
    pub fn new(public_url: &str, org: &str, limits: &Limits) -> Self {
        let org: String = url::form_urlencoded::byte_serialize(org.as_bytes()).collect();
        let base = public_url.trim_end_matches('/');
        Self {
            url: format!("{base}/api/0/organizations/{org}/chunk-upload/"),
            chunk_size: limits.chunk,
            chunks_per_request: 1,
            max_request_size: limits.chunk,
            max_file_size: limits.bundle,
            max_wait: 60,
            concurrency: 4,
            hash_algorithm: "sha1",
            compression: vec!["gzip"],
            accept: vec!["release_files", "artifact_bundles", "artifact_bundles_v2"],
        }
    }
}

/// Why a chunk upload was refused (each a `4xx`; the message is the client's).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChunkError {
    #[error("the request is not multipart/form-data with a boundary")]
    NotMultipart,
    #[error("the multipart body is malformed")]
    Malformed,
    #[error("the request holds no chunk")]
    Empty,
    #[error("chunk name {0:?} is not a SHA-1 in hex")]
    BadName(String),
    #[error("chunk {0} is larger than the chunk size")]
    TooLarge(String),
    #[error("chunk {0} is not valid gzip")]
    BadGzip(String),
    #[error("chunk {0} does not match its SHA-1")]
    ChecksumMismatch(String),
}

/// A chunk, checked against its name.
#[derive(Debug, PartialEq, Eq)]
pub struct Chunk {
    /// SHA-1 of `data`, lowercase hex.
    pub checksum: String,
    pub data: Vec<u8>,
}

/// `true` for 40 lowercase or uppercase hex digits.
pub fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// SHA-1 of `data`, lowercase hex (the protocol's checksum; not used for security).
pub fn sha1_hex(data: &[u8]) -> String {
    hex::encode(Sha1::digest(data))
}

/// Reads the chunks of a `multipart/form-data` body (`content_type` is the request's header):
/// parts named `file_gzip` are gunzipped (never past `limits.chunk`), parts named `file` taken as
/// they are, other parts ignored. Every chunk must match its name.
pub fn parse_upload(
    content_type: &str,
    body: &[u8],
    limits: &Limits,
) -> Result<Vec<Chunk>, ChunkError> {
    let boundary = boundary(content_type).ok_or(ChunkError::NotMultipart)?;
    let mut chunks = Vec::new();
    for part in super::multipart::parts(body, &boundary).ok_or(ChunkError::Malformed)? {
        let gzip = match part.name.as_str() {
            "file_gzip" => true,
            "file" => false,
            _ => continue,
        };
        let name = part.filename.unwrap_or_default().to_ascii_lowercase();
        if !is_sha1_hex(&name) {
            return Err(ChunkError::BadName(name));
        }
        let data = if gzip {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(part.data)
                .take(limits.chunk as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|_| ChunkError::BadGzip(name.clone()))?;
            out
        } else {
            part.data.to_vec()
        };
        if data.len() > limits.chunk {
            return Err(ChunkError::TooLarge(name));
        }
        if sha1_hex(&data) != name {
            return Err(ChunkError::ChecksumMismatch(name));
        }
        chunks.push(Chunk {
            checksum: name,
            data,
        });
    }
    if chunks.is_empty() {
        return Err(ChunkError::Empty);
    }
    Ok(chunks)
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        let v = v.trim().trim_matches('"');
        (k.trim().eq_ignore_ascii_case("boundary") && !v.is_empty() && v.len() <= 200)
            .then(|| v.to_owned())
    })
}

/// Keeps the chunks for `project_id` (one statement; a chunk already there stays as it is).
pub async fn store(pool: &PgPool, project_id: &str, chunks: &[Chunk]) -> Result<(), sqlx::Error> {
    let sums: Vec<&str> = chunks.iter().map(|c| c.checksum.as_str()).collect();
    let data: Vec<&[u8]> = chunks.iter().map(|c| c.data.as_slice()).collect();
    sqlx::query(
        "insert into upload_chunks (project_id, checksum, data)
         select $1, c.checksum, c.data from unnest($2::text[], $3::bytea[]) as c(checksum, data)
         on conflict (project_id, checksum) do nothing",
    )
    .bind(project_id)
    .bind(&sums)
    .bind(&data)
    .execute(pool)
    .await?;
    Ok(())
}

/// Which of `checksums` the project has no chunk for, in the order asked (each once).
pub async fn missing(
    pool: &PgPool,
    project_id: &str,
    checksums: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let present: Vec<String> = sqlx::query_scalar(
        "select checksum from upload_chunks where project_id = $1 and checksum = any($2)",
    )
    .bind(project_id)
    .bind(checksums)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<String> = Vec::new();
    for c in checksums {
        if !present.contains(c) && !out.contains(c) {
            out.push(c.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn form(parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, filename, data) in parts {
            write!(
                body,
                "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .unwrap();
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        body
    }

    const CT: &str = "multipart/form-data; boundary=XyZ";

    #[test]
    fn gzip_and_plain_chunks_are_read_and_checked_against_their_names() {
        let (a, b) = (
            b"first chunk".as_slice(),
            b"second\r\n--XyZ chunk".as_slice(),
        );
        let body = form(&[
            ("file_gzip", &sha1_hex(a), &gzip(a)),
            ("file", &sha1_hex(b).to_uppercase(), b),
        ]);
        let chunks = parse_upload(CT, &body, &Limits::DEFAULT).unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(
            (chunks[0].checksum.as_str(), &chunks[0].data[..]),
            (sha1_hex(a).as_str(), a)
        );
        assert_eq!(
            (chunks[1].checksum.as_str(), &chunks[1].data[..]),
            (sha1_hex(b).as_str(), b)
        );
    }

    #[test]
    fn bad_chunks_are_refused_with_their_reason() {
        let a = b"chunk".as_slice();
        let wrong = sha1_hex(b"other");
        let tiny = Limits {
            chunk: 4,
            ..Limits::DEFAULT
        };
        let cases: Vec<(Vec<u8>, Limits, ChunkError)> = vec![
            (
                form(&[("file_gzip", &wrong, &gzip(a))]),
                Limits::DEFAULT,
                ChunkError::ChecksumMismatch(wrong.clone()),
            ),
            (
                form(&[("file", "abc", a)]),
                Limits::DEFAULT,
                ChunkError::BadName("abc".into()),
            ),
            (
                form(&[("file_gzip", &sha1_hex(a), a)]),
                Limits::DEFAULT,
                ChunkError::BadGzip(sha1_hex(a)),
            ),
            (
                form(&[("file_gzip", &sha1_hex(a), &gzip(a))]),
                tiny,
                ChunkError::TooLarge(sha1_hex(a)),
            ),
            (
                form(&[("other", "x", a)]),
                Limits::DEFAULT,
                ChunkError::Empty,
            ),
            (
                b"--XyZ\r\nno headers end".to_vec(),
                Limits::DEFAULT,
                ChunkError::Malformed,
            ),
        ];
        for (body, limits, want) in cases {
            assert_eq!(parse_upload(CT, &body, &limits), Err(want));
        }
        assert_eq!(
            parse_upload("application/json", b"{}", &Limits::DEFAULT),
            Err(ChunkError::NotMultipart)
        );
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_chunk_size() {
        let zeros = vec![0u8; 64 * 1024 * 1024];
        let bomb = gzip(&zeros);
        assert!(bomb.len() < 1024 * 1024);
        let body = form(&[("file_gzip", &sha1_hex(&zeros), &bomb)]);
        assert_eq!(
            parse_upload(CT, &body, &Limits::DEFAULT),
            Err(ChunkError::TooLarge(sha1_hex(&zeros)))
        );
    }

    #[test]
    fn options_are_what_sentry_cli_reads() {
        let v = serde_json::to_value(ChunkOptions::new(
            "https://cairn.example.com/",
            "Acme",
            &Limits::DEFAULT,
        ))
        .unwrap();
        assert_eq!(
            v["url"], "https://cairn.example.com/api/0/organizations/Acme/chunk-upload/",
            "absolute: the JavaScript sentry CLI fetches it as given"
        );
        assert_eq!(v["chunkSize"], 512 * 1024);
        assert!(v["chunkSize"].as_u64().unwrap().is_power_of_two());
        for key in [
            "chunksPerRequest",
            "maxRequestSize",
            "concurrency",
            "maxFileSize",
            "maxWait",
        ] {
            assert!(v[key].as_u64().unwrap() > 0, "{key}");
        }
        assert_eq!(v["hashAlgorithm"], "sha1");
        assert_eq!(v["compression"], serde_json::json!(["gzip"]));
    }
}

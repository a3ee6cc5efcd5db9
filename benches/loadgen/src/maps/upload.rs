//! The maps scenario's uploads, as sentry-cli 3.x makes them: the chunk-upload options,
//! assemble asked first (it answers with the missing chunks), the chunks gzipped, one per
//! request, as many at a time as the options allow, then assemble again until `ok`; timed, with
//! the server's CPU over it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use hyper::body::Bytes;
use serde_json::{json, Value};

use super::ORG;
use crate::maps_gen::{self, Generated};
use crate::{diag, env, load};

/// A sentry-cli-style upload, measured.
#[derive(Debug, Clone)]
pub struct Upload {
    pub zip_bytes: usize,
    pub unzipped_bytes: usize,
    pub maps: usize,
    pub chunks: usize,
    pub wall: Duration,
    pub server_cpu_s: f64,
}

/// One multipart chunk request as sentry-cli sends it (one `file_gzip` part per chunk).
fn chunk_form(sum: &str, gz: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--cairnbenchboundary7f3a9c\r\nContent-Disposition: form-data; name=\"file_gzip\"; filename=\"{sum}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(gz);
    body.extend_from_slice(b"\r\n--cairnbenchboundary7f3a9c--\r\n");
    body
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Uploads `zip` the way sentry-cli 3.x does; the wall time of the whole and the server's CPU.
async fn upload(
    server: &env::Server,
    token: &str,
    zip: &[u8],
    release: &str,
) -> anyhow::Result<Duration> {
    let auth = vec![("authorization", format!("Bearer {token}"))];
    let addr = &server.addr;
    let start = Instant::now();
    let (status, body) = load::get(
        addr,
        &format!("/api/0/organizations/{ORG}/chunk-upload/"),
        &auth,
    )
    .await?;
    ensure!(status == 200, "chunk-upload options: {status}");
    let options: Value = serde_json::from_slice(&body)?;
    let size = options["chunkSize"].as_u64().context("chunkSize")? as usize;
    let concurrency = options["concurrency"].as_u64().unwrap_or(1).max(1) as usize;
    // An absolute URL on cairn's public URL (as Sentry answers it), or a path: the path is
    // what is asked of the server under test.
    let advertised = options["url"].as_str().context("url")?;
    let url = match advertised.find("/api/0/") {
        Some(at) => advertised[at..].to_owned(),
        None => format!("/api/0/{}", advertised.trim_start_matches('/')),
    };
    let chunks: Vec<&[u8]> = zip.chunks(size).collect();
    let sums: Vec<String> = chunks
        .iter()
        .map(|c| shared::sourcemaps::chunks::sha1_hex(c))
        .collect();
    let assemble = Bytes::from(
        json!({"checksum": shared::sourcemaps::chunks::sha1_hex(zip), "chunks": sums,
               "projects": ["maps"], "version": release})
        .to_string(),
    );
    let mut headers = auth.clone();
    headers.push(("content-type", "application/json".into()));
    let path = format!("/api/0/organizations/{ORG}/artifactbundle/assemble/");
    let mut uploaded = false;
    loop {
        let (status, body) = load::request(addr, "POST", &path, &headers, assemble.clone()).await?;
        ensure!(
            status == 200,
            "assemble: {status} {}",
            String::from_utf8_lossy(&body)
        );
        let v: Value = serde_json::from_slice(&body)?;
        let missing: Vec<String> = serde_json::from_value(v["missingChunks"].clone())?;
        match v["state"].as_str() {
            Some("ok") => return Ok(start.elapsed()),
            Some("error") => bail!("assemble: {}", v["detail"]),
            _ if !missing.is_empty() && !uploaded => {
                let queue: Vec<(String, Vec<u8>)> = missing
                    .iter()
                    .filter_map(|m| sums.iter().position(|s| s == m))
                    .map(|i| (sums[i].clone(), chunk_form(&sums[i], &gzip(chunks[i]))))
                    .collect();
                let queue = Arc::new(std::sync::Mutex::new(queue));
                let tasks: Vec<_> = (0..concurrency)
                    .map(|_| {
                        let (queue, addr, url, auth) = (
                            Arc::clone(&queue),
                            addr.clone(),
                            url.clone(),
                            auth[0].1.clone(),
                        );
                        tokio::spawn(async move {
                            loop {
                                let next = queue.lock().ok().and_then(|mut q| q.pop());
                                let Some((sum, form)) = next else { break };
                                let headers = [
                                    ("authorization", auth.clone()),
                                    (
                                        "content-type",
                                        "multipart/form-data; boundary=cairnbenchboundary7f3a9c"
                                            .to_owned(),
                                    ),
                                ];
                                let (status, body) =
                                    load::request(&addr, "POST", &url, &headers, Bytes::from(form))
                                        .await?;
                                ensure!(
                                    status == 200,
                                    "chunk {sum}: {status} {}",
                                    String::from_utf8_lossy(&body)
                                );
                            }
                            anyhow::Ok(())
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await??;
                }
                uploaded = true;
            }
            other => {
                ensure!(
                    start.elapsed() < Duration::from_secs(300),
                    "assemble stuck in {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Uploads a bundle of `maps`, measuring the wall time and the server's CPU.
pub async fn measured_upload(
    server: &env::Server,
    token: &str,
    maps: &[(&str, &Generated)],
) -> anyhow::Result<Upload> {
    let zip = maps_gen::artifact_bundle(maps, "shop@bench");
    let cpu = diag::process_cpu_secs(server.pid());
    let wall = upload(server, token, &zip, "shop@bench").await?;
    Ok(Upload {
        zip_bytes: zip.len(),
        unzipped_bytes: maps.iter().map(|(_, g)| g.js.len() + g.map.len()).sum(),
        maps: maps.len(),
        chunks: zip
            .len()
            .div_ceil(shared::sourcemaps::Limits::DEFAULT.chunk),
        wall,
        server_cpu_s: diag::process_cpu_secs(server.pid()) - cpu,
    })
}

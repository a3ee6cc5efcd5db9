//! What the maps scenario measures besides the load: cairn's own parsing and resolution
//! functions timed in this process on the scenario's events, and the cold burst.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use sqlx::PgPool;

use super::{event, World, PROJECT};
use crate::load::{self, Req};
use crate::scenarios::{self, mix};
use crate::{diag, env, payloads};

/// See [`Setup::timing`].
#[derive(Debug, Clone, Default)]
pub struct Timing {
    pub frames: f64,
    pub parse_with_images_us: f64,
    pub parse_without_us: f64,
    pub resolve_us: f64,
    pub lookups_us: f64,
    pub apply_us: f64,
    /// What assembling one map and its minified file costs (ms): parsing the map as assemble
    /// does, and deflating both for storage (`store::compress`).
    pub upload_parse_ms: f64,
    pub upload_compress_ms: f64,
}

/// `concurrency` one-event envelopes at once on a map never used.
#[derive(Debug, Clone)]
pub struct Burst {
    /// Latencies, sorted (ms).
    pub ms: Vec<f64>,
    pub server_cpu_s: f64,
    pub peak_rss: f64,
}

/// Times, in this process, cairn's own functions on 2,000 of the scenario's events (see
/// [`Setup::timing`]). The cache is warm: `frames::resolve` never reaches the database.
pub async fn timing(pool: &PgPool, world: &World) -> anyhow::Result<Timing> {
    use shared::sourcemaps::{frames, resolve, Limits};
    let g = &world.main;
    let map = Arc::new(resolve::ParsedMap::parse(&g.map)?);
    let cache = resolve::MapCache::default();
    let id = shared::sourcemaps::DebugId::parse(&g.debug_id).context("debug id")?;
    cache.insert(PROJECT, &id, Arc::clone(&map));
    let n = 2000;
    let events: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
        .map(|i| {
            let r = mix(i as u64 ^ 0x717);
            let with = event(g, "main.js", i, r, &world.project.commit, "0", true);
            let without = event(g, "main.js", i, r, &world.project.commit, "0", false);
            (
                with.to_string().into_bytes(),
                without.to_string().into_bytes(),
            )
        })
        .collect();
    let mut t = Timing::default();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    let start = Instant::now();
    for (_, without) in &events {
        std::hint::black_box(shared::sentry::event_from_json(without)?);
    }
    t.parse_without_us = per(start.elapsed());
    let start = Instant::now();
    let mut parsed = Vec::with_capacity(n);
    for (with, _) in &events {
        parsed.push(shared::sentry::event_from_json(with)?);
    }
    t.parse_with_images_us = per(start.elapsed());
    t.frames = parsed.iter().map(|e| e.frames.len()).sum::<usize>() as f64 / n as f64;
    let start = Instant::now();
    let mut resolutions = Vec::with_capacity(n);
    for ev in &parsed {
        let minified = frames::positions(&ev.frames);
        resolutions.push(
            frames::resolve(
                pool,
                &cache,
                PROJECT,
                &ev.debug_images,
                &minified,
                &Limits::DEFAULT,
            )
            .await?,
        );
    }
    t.resolve_us = per(start.elapsed());
    let start = Instant::now();
    for ev in &parsed {
        for f in &ev.frames {
            if let (Some(line), Some(col)) = (f.line_number, f.column_number) {
                std::hint::black_box(map.lookup(line, col));
            }
        }
    }
    t.lookups_us = per(start.elapsed());
    let start = Instant::now();
    for (ev, res) in parsed.iter_mut().zip(&resolutions) {
        frames::apply(&mut ev.frames, res, "maps");
    }
    t.apply_us = per(start.elapsed());
    ensure!(
        resolutions
            .iter()
            .all(|r| r.frames.iter().all(Option::is_some)),
        "a frame of the timed events did not resolve"
    );
    let start = Instant::now();
    for _ in 0..3 {
        std::hint::black_box(resolve::ParsedMap::parse(&g.map)?);
    }
    t.upload_parse_ms = start.elapsed().as_secs_f64() * 1000.0 / 3.0;
    let start = Instant::now();
    for _ in 0..3 {
        std::hint::black_box(shared::sourcemaps::store::compress(&g.map));
        std::hint::black_box(shared::sourcemaps::store::compress(&g.js));
    }
    t.upload_compress_ms = start.elapsed().as_secs_f64() * 1000.0 / 3.0;
    Ok(t)
}

/// `concurrency` one-event envelopes at once, on a map no event has named yet.
pub async fn burst(
    server: &env::Server,
    world: &World,
    concurrency: usize,
) -> anyhow::Result<Burst> {
    let (name, last) = world.others.last().context("no map for the burst")?;
    let reqs: Vec<Req> = (0..concurrency)
        .map(|n| {
            let id = payloads::event_id("maps-burst", n, 0, 0);
            let ev = event(
                last,
                name,
                n,
                mix(n as u64),
                &world.project.commit,
                &id,
                true,
            );
            scenarios::envelope(&world.project, &[ev])
        })
        .collect();
    server.reset_peak_rss();
    let cpu = diag::process_cpu_secs(server.pid());
    let tasks: Vec<_> = reqs
        .into_iter()
        .map(|r| {
            let addr = server.addr.clone();
            tokio::spawn(async move {
                let t = Instant::now();
                let (status, _) =
                    load::request(&addr, r.method, &r.path, &r.headers, r.body).await?;
                ensure!(status == 200, "burst: {status}");
                anyhow::Ok(t.elapsed().as_secs_f64() * 1000.0)
            })
        })
        .collect();
    let mut ms = Vec::new();
    for t in tasks {
        ms.push(t.await??);
    }
    ms.sort_by(f64::total_cmp);
    Ok(Burst {
        ms,
        server_cpu_s: diag::process_cpu_secs(server.pid()) - cpu,
        peak_rss: server.peak_rss_mib(),
    })
}

//! The maps scenario (issue 19's measurement): Sentry envelopes whose frames point into a
//! minified bundle, resolved through its uploaded source map.
//!
//! Setup, before any warm-up: project `proj_bench_maps` (repo `bench/maps`) with an ingest key
//! and an upload token minted by the core (`sourcemaps::tokens::create`, what the projects
//! route calls); a generated bundle and map ([`crate::maps_gen`]) uploaded as sentry-cli 3.x
//! does (chunk-upload options, assemble asking for missing chunks, the chunks gzipped
//! `concurrency` at a time, assemble again until `ok`); then a second artifact bundle of about
//! `--upload-mb` MB (several such maps, each with its own debug id), timed with the server's CPU.
//! Then the first resolution: one event naming the main map, the first the server resolves
//! since it started, timed and checked (its incident on the original file and line); one more
//! for each map of the second bundle (cold cache, sequentially), and the same event on the warm
//! main map for comparison. Then cache pressure: maps reckoned at twice the cache's budget (a
//! third bundle, untimed), one event each, pass after pass, with the server's RSS after each.
//! Last, cairn's own parsing and resolution functions timed in this process on the scenario's
//! events. After the rounds ([`burst`]): `concurrency` events at once on a map never used.
//!
//! Load: envelopes of 100 events whose stacks are real chains of calls in the bundle (the top
//! frame inside a function, each caller at one of its call sites), with `debug_meta.images`
//! naming the map; and the same envelopes without `debug_meta` (frames stay minified), to
//! isolate what resolution costs.

use std::sync::Arc;
use std::time::Instant;

use anyhow::ensure;
use serde_json::{json, Value};
use sqlx::PgPool;

mod probe;
mod upload;

pub use probe::{burst, Burst, Timing};
pub use upload::Upload;

use crate::load::{self, MakeReq, Req};
use crate::maps_gen::{self, Generated};
use crate::scenarios::{self, mix, BATCH, FINGERPRINTS};
use crate::seed::BenchProject;
use crate::{diag, env, payloads};

pub const PROJECT: &str = "proj_bench_maps";
const ORG: &str = "bench";
/// Where the browser loaded the bundles from (the frames' `abs_path`, the images' `code_file`).
const ORIGIN: &str = "https://shop.example.com/static/js/";

/// The project, the main bundle and the maps of the second bundle.
pub struct World {
    pub project: BenchProject,
    pub main: Arc<Generated>,
    /// Maps uploaded besides the main one, with the names they are served as; the last is
    /// kept for the burst.
    pub others: Vec<(String, Generated)>,
}

/// What the setup measured.
#[derive(Debug, Clone)]
pub struct Setup {
    pub js_bytes: usize,
    pub map_bytes: usize,
    pub tokens: usize,
    pub sources: usize,
    /// cairn's own reckoning of one parsed map (`ParsedMap::cost`), in bytes.
    pub parsed_cost: usize,
    pub main_upload: Upload,
    pub big_upload: Upload,
    /// The first event resolved by the server (ms), and the server CPU it took (s).
    pub first_ms: f64,
    pub first_cpu_s: f64,
    /// Later first resolutions of other maps (ms, server CPU s).
    pub cold: Vec<(f64, f64)>,
    /// The same one-event request on the warm main map (ms).
    pub warm_ms: Vec<f64>,
    /// Server RSS (MiB): before the setup, after the uploads, after the cold resolutions.
    pub rss: [f64; 3],
    /// Cache pressure: maps cycled through (their reckoned cost well over the budget), one
    /// event each per pass: (pass ms per event, server RSS after the pass in MiB).
    pub pressure_maps: usize,
    pub pressure: Vec<(f64, f64)>,
    /// In-process timing of what resolution adds per event (µs, this program running cairn's
    /// own functions on the scenario's events): parsing an event with and without its
    /// `debug_meta`, `frames::resolve` on a warm cache, of which the map lookups alone, and
    /// `frames::apply`.
    pub timing: Timing,
}

fn code_file(name: &str) -> String {
    format!("{ORIGIN}{name}")
}

/// Creates the project and its ingest key (SQL, as `seed` does) and mints an upload token.
async fn project(pool: &PgPool, server: &env::Server) -> anyhow::Result<(BenchProject, String)> {
    let key = format!("cairn_ik_{}", shared::crypto::random_alphanumeric(32));
    let sentry_id: i64 = sqlx::query_scalar(
        "insert into projects (project_id, owner_id, repo_owner, repo_name, repo_full_name)
         select $1, id, 'bench', 'maps', 'bench/maps' from users where github_id = 424242
         returning sentry_id",
    )
    .bind(PROJECT)
    .fetch_one(pool)
    .await?;
    sqlx::query(
        "insert into ingest_keys (key_id, project_id, key_hash, prefix) values ('key_bench_maps', $1, $2, $3)",
    )
    .bind(PROJECT)
    .bind(shared::crypto::sha256(key.as_bytes()))
    .bind(&key[..13])
    .execute(pool)
    .await?;
    sqlx::query("insert into api_key_usage (key_id, project_id) values ('key_bench_maps', $1)")
        .bind(PROJECT)
        .execute(pool)
        .await?;
    let url = format!("http://{}", server.addr);
    let token =
        shared::sourcemaps::tokens::create(pool, PROJECT, None, Some("bench"), &url, ORG).await?;
    let project = BenchProject {
        key,
        sentry_id,
        commit: payloads::commit(4242),
    };
    Ok((project, token.token.expose().to_owned()))
}

/// A stack in `g` for fingerprint `f`: the top frame somewhere in one function, then up to
/// seven callers, each at a call site of the frame above; Sentry's order (oldest first), with
/// the top frame's function.
fn stack(g: &Generated, file: &str, f: usize, r: u64) -> (Vec<Value>, usize, maps_gen::Site) {
    let top = g.tops[f % g.tops.len()];
    let body = &g.functions[top].body;
    let site = body[(r % body.len() as u64) as usize];
    let frame = |s: maps_gen::Site, func: usize| {
        json!({"filename": file, "abs_path": file, "function": g.functions[func].min_name,
               "lineno": s.line, "colno": s.col, "in_app": true})
    };
    let mut frames = vec![frame(site, top)];
    let (mut cur, mut r) = (top, r);
    for _ in 0..7 {
        let callers = &g.functions[cur].callers;
        if callers.is_empty() {
            break;
        }
        r = mix(r);
        let (s, caller) = callers[(r % callers.len() as u64) as usize];
        frames.push(frame(s, caller));
        cur = caller;
    }
    frames.reverse();
    (frames, top, site)
}

/// A browser SDK's event of fingerprint `f` in bundle `g` (served as `name`), with or without
/// the `debug_meta` naming its map.
fn event(
    g: &Generated,
    name: &str,
    f: usize,
    r: u64,
    commit: &str,
    id: &str,
    images: bool,
) -> Value {
    let file = code_file(name);
    let (frames, _, _) = stack(g, &file, f, r);
    let mut ev = json!({
        "event_id": id, "platform": "javascript", "level": "error",
        "release": format!("shop@{commit}"), "environment": "production", "timestamp": 1_717_171_717.5,
        "exception": {"values": [{"type": "TypeError",
            "value": "Cannot read properties of undefined (reading 'price')",
            "stacktrace": {"frames": frames}}]},
        "user": {"id": format!("user-{}", (r >> 32) % 5000)},
        "tags": {"commit_sha": commit, "browser": "Chrome 131"},
        "sdk": {"name": "sentry.javascript.browser", "version": "8.9.2"},
    });
    if images {
        ev["debug_meta"] =
            json!({"images": [{"type": "sourcemap", "code_file": file, "debug_id": g.debug_id}]});
    }
    ev
}

/// Envelopes of `BATCH` events on the main bundle, fingerprints random over `FINGERPRINTS`.
pub fn envelopes(world: &World, run: String, images: bool) -> MakeReq {
    let (g, p) = (Arc::clone(&world.main), world.project.clone());
    Arc::new(move |w, seq| {
        let r = mix(((w as u64) << 40) ^ seq ^ 0x3a9);
        let events: Vec<Value> = (0..BATCH)
            .map(|i| {
                let ri = mix(r ^ i as u64);
                let id = payloads::event_id(&run, w, seq, i);
                event(
                    &g,
                    "main.js",
                    (ri % FINGERPRINTS as u64) as usize,
                    ri >> 8,
                    &p.commit,
                    &id,
                    images,
                )
            })
            .collect();
        scenarios::envelope(&p, &events)
    })
}

/// One event of every fingerprint, with and without images: the incidents both variants write to.
pub fn warmup(world: &World) -> Vec<Req> {
    let mut out = Vec::new();
    for images in [true, false] {
        for chunk in 0..FINGERPRINTS.div_ceil(BATCH) {
            let events: Vec<Value> = (chunk * BATCH..((chunk + 1) * BATCH).min(FINGERPRINTS))
                .map(|f| {
                    let id =
                        payloads::event_id("warmup-maps", usize::from(images), chunk as u64, f);
                    event(
                        &world.main,
                        "main.js",
                        f,
                        f as u64,
                        &world.project.commit,
                        &id,
                        images,
                    )
                })
                .collect();
            out.push(scenarios::envelope(&world.project, &events));
        }
    }
    out
}

/// Sends one event on `g` with a fingerprint of its own (a new incident) and checks its
/// incident is on the original file, line and function. The latency (ms) and server CPU (s).
async fn one_event(
    pool: &PgPool,
    server: &env::Server,
    world: &World,
    g: &Generated,
    name: &str,
    n: usize,
) -> anyhow::Result<(f64, f64)> {
    let id = payloads::event_id(&format!("maps-one-{}", g.debug_id), n, 0, 0);
    let r = mix(n as u64 ^ 0x0e);
    let mut ev = event(g, name, n, r, &world.project.commit, &id, true);
    ev["fingerprint"] = json!([format!("first-resolution-{}-{n}", g.debug_id)]);
    let req = scenarios::envelope(&world.project, &[ev]);
    let cpu = diag::process_cpu_secs(server.pid());
    let t = Instant::now();
    let (status, body) =
        load::request(&server.addr, req.method, &req.path, &req.headers, req.body).await?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let cpu = diag::process_cpu_secs(server.pid()) - cpu;
    ensure!(
        status == 200,
        "one event: {status} {}",
        String::from_utf8_lossy(&body)
    );
    let (_, top, site) = stack(g, &code_file(name), n, r);
    let want = (
        g.paths[g.functions[top].module].clone(),
        site.src_line as i32,
        g.functions[top].name.clone(),
    );
    let got: (Option<String>, Option<i32>, Option<String>) = sqlx::query_as(
        "select i.file_path, i.line_number, i.function from incident_events e
           join incidents i on i.incident_id = e.incident_id
          where e.project_id = $1 and e.event_id = $2",
    )
    .bind(PROJECT)
    .bind(&id)
    .fetch_one(pool)
    .await?;
    ensure!(
        got == (Some(want.0.clone()), Some(want.1), Some(want.2.clone())),
        "event on map {} resolved to {got:?}, the map says {want:?}",
        g.debug_id
    );
    Ok((ms, cpu))
}

/// Builds the world, uploads the bundles and measures the first resolutions and the cache
/// under pressure (see the module docs). `modules` sizes each bundle; `upload_mb` the second
/// upload; `passes` the cache pressure.
pub async fn setup(
    pool: &PgPool,
    server: &env::Server,
    modules: usize,
    upload_mb: f64,
    passes: usize,
) -> anyhow::Result<(World, Setup)> {
    let rss0 = server.rss_mib();
    let (project, token) = project(pool, server).await?;
    let t = Instant::now();
    let main = maps_gen::generate(0, modules);
    let parsed_cost = shared::sourcemaps::resolve::ParsedMap::parse(&main.map)?.cost();
    // The second bundle: as many maps as make about `upload_mb` MB zipped. Then enough maps
    // for twice the cache's budget, and one for the burst.
    let one = maps_gen::artifact_bundle(&[("main.js", &main)], "x").len() as f64;
    let count = ((upload_mb * 1e6 / one).ceil() as usize).max(1);
    let budget = shared::ingest::MAP_CACHE_BYTES;
    // (At most 32: small maps, as in the smoke run, would need hundreds.)
    let total = count.max((2 * budget).div_ceil(parsed_cost.max(1)).min(32)) + 1;
    let others: Vec<(String, Generated)> = (1..=total)
        .map(|s| {
            (
                format!("chunk-{s}.js"),
                maps_gen::generate(s as u64, modules),
            )
        })
        .collect();
    println!(
        "maps: bundle {:.2} MB, map {:.2} MB ({} mappings, {} sources; cairn reckons {:.1} MiB parsed), {} more maps, generated in {:.1} s",
        main.js.len() as f64 / 1e6,
        main.map.len() as f64 / 1e6,
        main.tokens,
        main.paths.len(),
        parsed_cost as f64 / 1048576.0,
        total,
        t.elapsed().as_secs_f64()
    );
    let main_upload = upload::measured_upload(server, &token, &[("main.js", &main)]).await?;
    let pairs: Vec<(&str, &Generated)> = others.iter().map(|(n, g)| (n.as_str(), g)).collect();
    let big_upload = upload::measured_upload(server, &token, &pairs[..count]).await?;
    upload::measured_upload(server, &token, &pairs[count..]).await?;
    let world = World {
        project,
        main: Arc::new(main),
        others,
    };
    let rss1 = server.rss_mib();
    let (first_ms, first_cpu_s) =
        one_event(pool, server, &world, &world.main, "main.js", 0).await?;
    let mut cold = Vec::new();
    for (name, g) in &world.others[..count] {
        cold.push(one_event(pool, server, &world, g, name, 0).await?);
    }
    let mut warm_ms = Vec::new();
    for n in 1..=10 {
        warm_ms.push(
            one_event(pool, server, &world, &world.main, "main.js", n)
                .await?
                .0,
        );
    }
    let rss2 = server.rss_mib();
    // Every map but the burst's, one event each, twice: more than the budget holds, so each
    // event finds its map evicted (least recently used first).
    let cycle: Vec<(&str, &Generated)> = std::iter::once(("main.js", &*world.main))
        .chain(
            world.others[..total - 1]
                .iter()
                .map(|(n, g)| (n.as_str(), g)),
        )
        .collect();
    let mut pressure = Vec::new();
    for pass in 1..=passes {
        let t = Instant::now();
        for (name, g) in &cycle {
            one_event(pool, server, &world, g, name, 100 * pass).await?;
        }
        pressure.push((
            t.elapsed().as_secs_f64() * 1000.0 / cycle.len() as f64,
            server.rss_mib(),
        ));
    }
    let timing = probe::timing(pool, &world).await?;
    let setup = Setup {
        js_bytes: world.main.js.len(),
        map_bytes: world.main.map.len(),
        tokens: world.main.tokens,
        sources: world.main.paths.len(),
        parsed_cost,
        main_upload,
        big_upload,
        first_ms,
        first_cpu_s,
        cold,
        warm_ms,
        rss: [rss0, rss1, rss2],
        pressure_maps: cycle.len(),
        pressure,
        timing,
    };
    Ok((world, setup))
}

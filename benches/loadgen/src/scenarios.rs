//! The scenarios as request builders: spread, hot, batched arrays, batched Sentry envelopes,
//! and the IDE query.

use std::sync::Arc;

use hyper::body::Bytes;

use crate::load::{MakeReq, Req};
use crate::payloads;
use crate::seed::BenchProject;

/// Fingerprints per project in the spread scenario.
pub const FINGERPRINTS: usize = 1000;
/// Events per request in the batched scenarios.
pub const BATCH: usize = 100;

/// A cheap per-worker pseudo-random sequence (splitmix64), deterministic per run.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn native(p: &BenchProject, body: Vec<u8>, events: u64) -> Req {
    Req {
        method: "POST",
        path: "/v1/events".into(),
        headers: vec![
            ("authorization", format!("Bearer {}", p.key)),
            ("content-type", "application/json".into()),
        ],
        body: Bytes::from(body),
        events,
    }
}

/// One event per request, spread over every project and `FINGERPRINTS` fingerprints each.
pub fn spread(projects: Arc<Vec<BenchProject>>, run: String) -> MakeReq {
    Arc::new(move |w, seq| {
        let r = mix(((w as u64) << 40) ^ seq);
        let p = &projects[(r % projects.len() as u64) as usize];
        let f = ((r >> 16) % FINGERPRINTS as u64) as usize;
        let id = payloads::event_id(&run, w, seq, 0);
        let ev = payloads::native_event(f, &p.commit, (r >> 40) as usize % 5000, &id);
        native(p, ev.to_string().into_bytes(), 1)
    })
}

/// One event per request, always the same error of the same project.
pub fn hot(projects: Arc<Vec<BenchProject>>, run: String) -> MakeReq {
    Arc::new(move |w, seq| {
        let p = &projects[0];
        let id = payloads::event_id(&run, w, seq, 0);
        let ev = payloads::native_event(0, &p.commit, (mix(seq) % 5000) as usize, &id);
        native(p, ev.to_string().into_bytes(), 1)
    })
}

/// `BATCH` events of one project, each of a random fingerprint and end user, made by `event`
/// (`salt` keeps the batched and envelope scenarios' choices apart).
fn batch_of<'p>(
    projects: &'p [BenchProject],
    run: &str,
    w: usize,
    seq: u64,
    salt: u64,
    event: fn(usize, &str, usize, &str) -> serde_json::Value,
) -> (&'p BenchProject, Vec<serde_json::Value>) {
    let r = mix(((w as u64) << 40) ^ seq ^ salt);
    let p = &projects[(r % projects.len() as u64) as usize];
    let events = (0..BATCH)
        .map(|i| {
            let ri = mix(r ^ i as u64);
            let id = payloads::event_id(run, w, seq, i);
            event(
                (ri % FINGERPRINTS as u64) as usize,
                &p.commit,
                (ri >> 32) as usize % 5000,
                &id,
            )
        })
        .collect();
    (p, events)
}

/// Arrays of `BATCH` events of one project on `POST /v1/events`.
pub fn batched(projects: Arc<Vec<BenchProject>>, run: String) -> MakeReq {
    Arc::new(move |w, seq| {
        let (p, events) = batch_of(&projects, &run, w, seq, 0xba, payloads::native_event);
        native(
            p,
            serde_json::Value::Array(events).to_string().into_bytes(),
            BATCH as u64,
        )
    })
}

/// Sentry envelopes of `BATCH` event items on `POST /api/{sentry_id}/envelope/`.
pub fn envelopes(projects: Arc<Vec<BenchProject>>, run: String) -> MakeReq {
    Arc::new(move |w, seq| {
        let (p, events) = batch_of(&projects, &run, w, seq, 0x5e, payloads::sentry_event);
        envelope(p, &events)
    })
}

/// One envelope of `events` for project `p`.
pub fn envelope(p: &BenchProject, events: &[serde_json::Value]) -> Req {
    Req {
        method: "POST",
        path: format!("/api/{}/envelope/", p.sentry_id),
        headers: vec![
            (
                "x-sentry-auth",
                format!(
                    "Sentry sentry_key={}, sentry_version=7, sentry_client=cairn-loadgen/0.1",
                    p.key
                ),
            ),
            ("content-type", "application/x-sentry-envelope".into()),
        ],
        body: Bytes::from(payloads::envelope(events)),
        events: events.len() as u64,
    }
}

/// `GET /v1/incidents?repo=bench/query&commit=…` as the signed-in reader.
pub fn query(session: String, commit: String) -> MakeReq {
    Arc::new(move |_, _| Req {
        method: "GET",
        path: format!("/v1/incidents?repo=bench/query&commit={commit}"),
        headers: vec![("authorization", format!("Bearer {session}"))],
        body: Bytes::new(),
        events: 0,
    })
}

/// The at scenario's listing of `bench/at`: located at `at`, or (`None`) as recorded.
pub fn listing(session: String, at: Option<String>) -> MakeReq {
    let path = match at {
        Some(at) => format!("/v1/incidents?repo=bench/at&at={at}&limit=100"),
        None => "/v1/incidents?repo=bench/at&limit=100".to_owned(),
    };
    Arc::new(move |_, _| Req {
        method: "GET",
        path: path.clone(),
        headers: vec![("authorization", format!("Bearer {session}"))],
        body: Bytes::new(),
        events: 0,
    })
}

/// Warm-up: one event of every fingerprint of every project, in arrays of `BATCH`, so the
/// spread scenario measures the steady state (its incidents exist, as pgbench's do).
pub fn warmup(projects: &[BenchProject]) -> Vec<Req> {
    let mut out = Vec::new();
    for (pi, p) in projects.iter().enumerate() {
        for chunk in 0..FINGERPRINTS.div_ceil(BATCH) {
            let events: Vec<_> = (chunk * BATCH..((chunk + 1) * BATCH).min(FINGERPRINTS))
                .map(|f| {
                    let id = payloads::event_id("warmup", pi, chunk as u64, f);
                    payloads::native_event(f, &p.commit, f, &id)
                })
                .collect();
            let n = events.len() as u64;
            out.push(native(
                p,
                serde_json::Value::Array(events).to_string().into_bytes(),
                n,
            ));
            // The same errors as Sentry reports them (their fingerprints differ from the
            // native ones): the envelope scenario measures the steady state too.
            let items: Vec<_> = (chunk * BATCH..((chunk + 1) * BATCH).min(FINGERPRINTS))
                .map(|f| {
                    let id = payloads::event_id("warmup-sentry", pi, chunk as u64, f);
                    payloads::sentry_event(f, &p.commit, f, &id)
                })
                .collect();
            out.push(envelope(p, &items));
        }
    }
    out
}

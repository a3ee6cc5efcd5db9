//! Per-round samples, medians and the final table with ratios to the same run's ceiling.
#![expect(clippy::print_stdout, reason = "the report is this program's output")]

use std::time::Duration;

use crate::ceiling::Ceiling;
use crate::load::Outcome;

/// One scenario's figures in one round.
#[derive(Debug, Clone)]
pub struct Sample {
    pub events_per_s: f64,
    pub requests_per_s: f64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub errors: u64,
    pub server_errors: u64,
    pub rss_mib: f64,
    pub lost: i64,
    pub converged: Option<Duration>,
}

impl Sample {
    pub fn from_outcome(o: &Outcome, rss_mib: f64, lost: i64, converged: Option<Duration>) -> Self {
        Self {
            events_per_s: o.events_per_s(),
            requests_per_s: o.requests_per_s(),
            p50: o.latency_ms(0.5),
            p99: o.latency_ms(0.99),
            p999: o.latency_ms(0.999),
            errors: o.errors(),
            server_errors: o.server_errors(),
            rss_mib,
            lost,
            converged,
        }
    }

    /// One line for the progress log.
    pub fn line(&self) -> String {
        format!(
            "{:>9.0} events/s {:>7.0} req/s  p50 {:>6.2} p99 {:>6.2} p999 {:>7.2} ms  errors {} (5xx {})  rss {:.1} MiB  lost {}  counts exact after {}",
            self.events_per_s,
            self.requests_per_s,
            self.p50,
            self.p99,
            self.p999,
            self.errors,
            self.server_errors,
            self.rss_mib,
            self.lost,
            self.converged
                .map(|d| format!("{:.2} s", d.as_secs_f64()))
                .unwrap_or_else(|| "-".into())
        )
    }
}

/// The ingest scenarios of one round, measured back to back.
#[derive(Default)]
pub struct Round {
    /// The ceiling measured at the start of the round.
    pub ceiling: Option<Ceiling>,
    /// The ceiling measured again at the end of the round, after its scenarios.
    pub ceiling_end: Option<Ceiling>,
    /// pgbench inserting the event and upserting the incident only (reference).
    pub minimal: Option<Ceiling>,
    /// pgbench writing 100 events per transaction (reference for the batched scenarios).
    pub batch: Option<Ceiling>,
    pub spread: Option<Sample>,
    pub hot: Option<Sample>,
    pub batched: Option<Sample>,
    pub envelope: Option<Sample>,
    /// Envelopes whose frames resolve through an uploaded map, and the same without images.
    pub maps: Option<Sample>,
    pub maps_raw: Option<Sample>,
}

impl Round {
    /// The round's ratio basis: the mean of the ceilings measured before and after its
    /// scenarios (the start one alone if there is no end one), so that the tables the
    /// scenarios wrote to, of sizes in between, are the ones the ceiling was measured on.
    pub fn ceiling_tps(&self) -> Option<f64> {
        let start = self.ceiling?.tps;
        Some(match self.ceiling_end {
            Some(end) => (start + end.tps) / 2.0,
            None => start,
        })
    }
}

/// A row of results.
pub enum Row {
    Round(Box<Round>),
    Query {
        events: u64,
        samples: Vec<Sample>,
    },
    /// The at scenario: the same listing without and with `at=` (cached), round by round, and
    /// uncached listings with the GitHub calls each made.
    At {
        plain: Vec<Sample>,
        cached: Vec<Sample>,
        uncached_ms: Vec<f64>,
        calls: Vec<u64>,
        latency_ms: u64,
    },
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn summary(name: &str, samples: &[&Sample], ratio: Option<(f64, &str)>, query: bool) {
    let m = |f: fn(&Sample) -> f64| median(samples.iter().map(|s| f(s)).collect());
    let rate = if query {
        m(|s| s.requests_per_s)
    } else {
        m(|s| s.events_per_s)
    };
    let worst_conv = samples
        .iter()
        .map(|s| {
            s.converged
                .map(|d| d.as_secs_f64())
                .unwrap_or(f64::INFINITY)
        })
        .fold(0.0, f64::max);
    println!(
        "| {name:<15} | {:>9.0} | {:>17} | {:>6.2} | {:>6.2} | {:>6.2} | {:>6} | {:>4} | {:>4} | {:>8.1} | {:>6} |",
        rate,
        ratio
            .map(|(r, of)| format!("{r:.2} × {of}"))
            .unwrap_or_else(|| "-".into()),
        m(|s| s.p50),
        m(|s| s.p99),
        m(|s| s.p999),
        samples.iter().map(|s| s.errors).sum::<u64>(),
        samples.iter().map(|s| s.server_errors).sum::<u64>(),
        samples.iter().map(|s| s.lost).sum::<i64>(),
        samples.iter().map(|s| s.rss_mib).fold(0.0, f64::max),
        if worst_conv.is_finite() {
            format!("{worst_conv:.1} s")
        } else if query {
            "-".into()
        } else {
            "no".into()
        }
    );
}

/// The batched scenarios against pgbench batch (the same writes, 100 events per transaction, in
/// pure SQL: no server, no parsing, no deduplication), median of each round's own ratio: how
/// far cairn is from what batching alone gives on this machine, whatever the ceiling measured.
fn print_against_batch(rounds: &[&Round]) {
    type Pick = fn(&Round) -> Option<&Sample>;
    let scen: [(&str, Pick); 2] = [
        ("arrays", |r| r.batched.as_ref()),
        ("envelopes", |r| r.envelope.as_ref()),
    ];
    let parts: Vec<String> = scen
        .iter()
        .filter_map(|(name, pick)| {
            let r: Vec<f64> = rounds
                .iter()
                .filter_map(|r| Some(pick(r)?.events_per_s / r.batch?.tps))
                .collect();
            (!r.is_empty()).then(|| format!("{name} {:.2} ×", median(r)))
        })
        .collect();
    if !parts.is_empty() {
        println!(
            "(batched against pgbench batch, median of the rounds: {})",
            parts.join(", ")
        );
    }
}

/// Prints the medians over rounds, each scenario as a ratio of the same round's reference.
pub fn print(rows: &[Row]) {
    println!();
    println!("| scenario        |  events/s | ratio (median)    | p50 ms | p99 ms | p999ms | errors |  5xx | lost | peak RSS | counts |");
    println!("|-----------------|-----------|-------------------|--------|--------|--------|--------|------|------|----------|--------|");
    let rounds: Vec<&Round> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Round(r) => Some(&**r),
            Row::Query { .. } | Row::At { .. } => None,
        })
        .collect();
    if !rounds.is_empty() {
        let ceilings: Vec<f64> = rounds.iter().filter_map(|r| r.ceiling_tps()).collect();
        println!(
            "| pgbench ceiling | {:>9.0} | {:>17} |      - |      - |      - |      - |    - |    - |        - |      - |",
            median(ceilings),
            "1.00 × ceiling"
        );
        // The ceiling's two measurements (when the run made both), then the references, with
        // their ratio to it.
        let bracketed = rounds.iter().any(|r| r.ceiling_end.is_some());
        type Reference = fn(&Round) -> Option<Ceiling>;
        let references: [(&str, Reference, bool); 4] = [
            ("  round start", |r| r.ceiling, false),
            ("  round end", |r| r.ceiling_end, false),
            ("pgbench minimal", |r| r.minimal, true),
            ("pgbench batch", |r| r.batch, true),
        ];
        for (name, pick, with_ratio) in references {
            let tps: Vec<f64> = rounds
                .iter()
                .filter_map(|r| pick(r).map(|c| c.tps))
                .collect();
            if tps.is_empty() || !(with_ratio || bracketed) {
                continue;
            }
            let ratio = if with_ratio {
                let ratio: Vec<f64> = rounds
                    .iter()
                    .filter_map(|r| Some(pick(r)?.tps / r.ceiling_tps()?))
                    .collect();
                format!("{:.2} × ceiling", median(ratio))
            } else {
                "-".to_owned()
            };
            println!(
                "| {name:<15} | {:>9.0} | {ratio:>17} |      - |      - |      - |      - |    - |    - |        - |      - |",
                median(tps),
            );
        }
        type Pick = fn(&Round) -> Option<&Sample>;
        let scen: [(&str, Pick); 6] = [
            ("spread", |r| r.spread.as_ref()),
            ("hot", |r| r.hot.as_ref()),
            ("batched (array)", |r| r.batched.as_ref()),
            ("batched (envlp)", |r| r.envelope.as_ref()),
            ("maps (resolved)", |r| r.maps.as_ref()),
            ("maps (no image)", |r| r.maps_raw.as_ref()),
        ];
        for (name, pick) in scen {
            let samples: Vec<&Sample> = rounds.iter().filter_map(|r| pick(r)).collect();
            if samples.is_empty() {
                continue;
            }
            let ratio = if name.starts_with("maps") {
                let r: Vec<f64> = rounds
                    .iter()
                    .filter_map(|r| Some(pick(r)?.events_per_s / r.envelope.as_ref()?.events_per_s))
                    .collect();
                (!r.is_empty()).then(|| (median(r), "envelope"))
            } else if name == "hot" {
                let r: Vec<f64> = rounds
                    .iter()
                    .filter_map(|r| {
                        Some(r.hot.as_ref()?.events_per_s / r.spread.as_ref()?.events_per_s)
                    })
                    .collect();
                (!r.is_empty()).then(|| (median(r), "spread"))
            } else {
                let r: Vec<f64> = rounds
                    .iter()
                    .filter_map(|r| Some(pick(r)?.events_per_s / r.ceiling_tps()?))
                    .collect();
                (!r.is_empty()).then(|| (median(r), "ceiling"))
            };
            summary(name, &samples, ratio, false);
        }
    }
    let queries: Vec<(u64, &Vec<Sample>)> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Query { events, samples } => Some((*events, samples)),
            Row::Round(_) | Row::At { .. } => None,
        })
        .collect();
    let base_p99 = queries
        .first()
        .map(|(_, s)| median(s.iter().map(|x| x.p99).collect()));
    for (i, (events, samples)) in queries.iter().enumerate() {
        let p99 = median(samples.iter().map(|x| x.p99).collect());
        let ratio = (i > 0)
            .then_some(base_p99)
            .flatten()
            .map(|b| (p99 / b, "p99 first"));
        let refs: Vec<&Sample> = samples.iter().collect();
        let name = format!("query {}k ev", events / 1000);
        summary(&name, &refs, ratio, true);
    }
    if !queries.is_empty() {
        println!("(query rows: the events/s column is queries/s)");
    }
    for row in rows {
        if let Row::At {
            plain,
            cached,
            uncached_ms,
            calls,
            latency_ms,
        } = row
        {
            let base = median(plain.iter().map(|x| x.p99).collect());
            let p99 = median(cached.iter().map(|x| x.p99).collect());
            summary(
                "listing (no at)",
                &plain.iter().collect::<Vec<_>>(),
                None,
                true,
            );
            summary(
                "listing at= cached",
                &cached.iter().collect::<Vec<_>>(),
                Some((p99 / base, "p99 no at")),
                true,
            );
            println!(
                "(at rows: {} incidents seen at {} commits; uncached, GitHub at {latency_ms} ms: median {:.0} ms, max {:.0} ms, compare calls per listing {:?})",
                crate::at::INCIDENTS,
                crate::at::SEEN_COMMITS,
                median(uncached_ms.clone()),
                uncached_ms.iter().copied().fold(f64::NAN, f64::max),
                calls
            );
        }
    }
    print_against_batch(&rounds);
    let resolved: Vec<f64> = rounds
        .iter()
        .filter_map(|r| Some(r.maps.as_ref()?.events_per_s / r.maps_raw.as_ref()?.events_per_s))
        .collect();
    if !resolved.is_empty() {
        println!(
            "(maps resolved against the same envelopes without debug_meta, median of the rounds: {:.2} ×; by round {:?})",
            median(resolved.clone()),
            resolved.iter().map(|r| (r * 100.0).round() / 100.0).collect::<Vec<_>>()
        );
    }
}

/// The maps scenario's setup: the bundle, the uploads and the first resolutions.
pub fn print_maps_setup(s: &crate::maps::Setup) {
    println!(
        "maps setup: bundle {:.2} MB, map {:.2} MB, {} mappings, {} sources; cairn reckons one parsed map at {:.1} MiB (ingest cache budget {} MiB)",
        s.js_bytes as f64 / 1e6,
        s.map_bytes as f64 / 1e6,
        s.tokens,
        s.sources,
        s.parsed_cost as f64 / 1048576.0,
        shared::ingest::MAP_CACHE_BYTES / 1048576
    );
    for (name, u) in [
        ("main bundle", &s.main_upload),
        ("big bundle", &s.big_upload),
    ] {
        println!(
            "  upload {name}: {:.2} MB zipped ({:.1} MB of files, {} maps, {} chunks): wall {:.2} s, server cpu {:.2} s",
            u.zip_bytes as f64 / 1e6,
            u.unzipped_bytes as f64 / 1e6,
            u.maps,
            u.chunks,
            u.wall.as_secs_f64(),
            u.server_cpu_s
        );
    }
    let cold_ms: Vec<f64> = s.cold.iter().map(|c| c.0).collect();
    let cold_cpu: Vec<f64> = s.cold.iter().map(|c| c.1).collect();
    println!(
        "  first resolution (request latency, incident checked): first map after start {:.1} ms (server cpu {:.2} s); other cold maps median {:.1} ms (cpu {:.2} s) {:?}; warm median {:.1} ms {:?}",
        s.first_ms,
        s.first_cpu_s,
        median(cold_ms.clone()),
        median(cold_cpu),
        cold_ms.iter().map(|x| x.round()).collect::<Vec<_>>(),
        median(s.warm_ms.clone()),
        s.warm_ms.iter().map(|x| (x * 10.0).round() / 10.0).collect::<Vec<_>>()
    );
    println!(
        "  server RSS: {:.1} MiB before the uploads, {:.1} after them, {:.1} after the cold resolutions",
        s.rss[0], s.rss[1], s.rss[2]
    );
    println!(
        "  cache pressure: {} maps (reckoned {:.0} MiB together, budget {} MiB), one event each per pass: {}",
        s.pressure_maps,
        (s.pressure_maps * s.parsed_cost) as f64 / 1048576.0,
        shared::ingest::MAP_CACHE_BYTES / 1048576,
        s.pressure
            .iter()
            .enumerate()
            .map(|(i, (ms, rss))| format!("pass {}: {ms:.1} ms per event, RSS after {rss:.1} MiB", i + 1))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let t = &s.timing;
    println!(
        "  in-process, per event of {:.1} frames (µs): parse with debug_meta {:.1}, without {:.1}; frames::resolve (warm) {:.1}, of which lookups {:.1}; frames::apply {:.1}",
        t.frames, t.parse_with_images_us, t.parse_without_us, t.resolve_us, t.lookups_us, t.apply_us
    );
    println!(
        "  in-process, per map and its minified file: parsing the map {:.1} ms, deflating both for storage {:.1} ms",
        t.upload_parse_ms, t.upload_compress_ms
    );
}

/// The cold burst of the maps scenario.
pub fn print_maps_burst(b: &crate::maps::Burst) {
    println!(
        "maps cold burst: {} one-event envelopes at once on a map never used: p50 {:.0} ms, max {:.0} ms, server cpu {:.2} s, peak RSS {:.1} MiB",
        b.ms.len(),
        median(b.ms.clone()),
        b.ms.last().copied().unwrap_or(f64::NAN),
        b.server_cpu_s,
        b.peak_rss
    );
}

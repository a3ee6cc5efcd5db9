//! `cairn-loadgen`: cairn's benchmark. Starts a fresh PostgreSQL and `cairn serve` against it,
//! measures the pgbench ceiling (the durable write one event needs) and the HTTP scenarios in
//! the same run, round after round, and prints medians and ratios. See docs/PERFORMANCE.md.
#![expect(clippy::print_stdout, reason = "the report is this program's output")]

mod at;
mod ceiling;
mod diag;
mod env;
mod load;
mod maps;
mod maps_gen;
mod payloads;
mod report;
mod scenarios;
mod seed;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use report::{Row, Sample};

/// Command-line options (see `--help`).
pub struct Opts {
    cairn: PathBuf,
    duration: u64,
    runs: usize,
    concurrency: usize,
    pool: u32,
    scenarios: Vec<String>,
    projects: usize,
    query_incidents: usize,
    query_events: Vec<u64>,
    query_concurrency: usize,
    at_fresh: usize,
    github_latency_ms: u64,
    /// Modules in each generated bundle of the maps scenario.
    map_modules: usize,
    /// Size of the maps scenario's second upload (zipped), in MB.
    upload_mb: f64,
    /// Passes over more maps than the cache holds, one event per map each.
    map_passes: usize,
    /// WAL segments created and recycled before anything is measured.
    wal_segments: usize,
}

const HELP: &str =
    "usage: cairn-loadgen [--smoke] [--duration S] [--runs N] [--concurrency C] [--pool N]
                     [--scenarios spread,hot,batched,envelope,maps,query,at] [--cairn PATH]
                     [--query-incidents N] [--query-events N,M] [--query-concurrency C]
                     [--at-fresh N] [--github-latency-ms MS] [--map-modules N] [--upload-mb MB]
  maps     envelopes whose frames resolve through an uploaded source map (a generated bundle of
           --map-modules modules, 600), the same without debug_meta, the first resolutions, and
           the upload of a bundle of --upload-mb MB zipped (10)
  at       incidents located at a checkout (runs after query, on its world): cached, and
           --at-fresh uncached listings against a fake GitHub answering after MS (100)
  --smoke  seconds-long run for CI (no thresholds)";

fn parse_opts() -> anyhow::Result<Opts> {
    let exe_dir = std::env::current_exe()?
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut o = Opts {
        cairn: exe_dir.join("cairn"),
        duration: 10,
        runs: 3,
        concurrency: 64,
        pool: 16,
        scenarios: [
            "spread", "hot", "batched", "envelope", "maps", "query", "at",
        ]
        .map(String::from)
        .to_vec(),
        projects: 100,
        query_incidents: 10_000,
        query_events: vec![100_000, 1_000_000],
        query_concurrency: 2,
        at_fresh: 10,
        github_latency_ms: 100,
        map_modules: 600,
        upload_mb: 10.0,
        map_passes: 4,
        wal_segments: env::PREALLOCATED_WAL_SEGMENTS,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--smoke" => {
                o.duration = 2;
                o.runs = 1;
                o.concurrency = 8;
                o.projects = 10;
                o.query_incidents = 500;
                o.query_events = vec![2_000, 20_000];
                o.at_fresh = 2;
                o.map_modules = 40;
                o.upload_mb = 0.5;
                o.map_passes = 1;
                o.wal_segments = 4;
            }
            "--cairn" => o.cairn = val()?.into(),
            "--duration" => o.duration = val()?.parse()?,
            "--runs" => o.runs = val()?.parse()?,
            "--concurrency" => o.concurrency = val()?.parse()?,
            "--pool" => o.pool = val()?.parse()?,
            "--scenarios" => o.scenarios = val()?.split(',').map(String::from).collect(),
            "--query-incidents" => o.query_incidents = val()?.parse()?,
            "--query-events" => {
                o.query_events = val()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--query-concurrency" => o.query_concurrency = val()?.parse()?,
            "--at-fresh" => o.at_fresh = val()?.parse()?,
            "--github-latency-ms" => o.github_latency_ms = val()?.parse()?,
            "--map-modules" => o.map_modules = val()?.parse()?,
            "--upload-mb" => o.upload_mb = val()?.parse()?,
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument {other}\n{HELP}"),
        }
    }
    Ok(o)
}

/// Counts stored for the bench projects: (events, sum of occurrence counts, key usage).
async fn counts(pool: &sqlx::PgPool) -> anyhow::Result<(i64, i64, i64)> {
    Ok(sqlx::query_as(
        "select (select count(*) from incident_events where project_id like 'proj\\_bench\\_%' and project_id <> 'proj_bench_query'),
                (select coalesce(sum(occurrence_count), 0)::bigint from incidents where project_id like 'proj\\_bench\\_%' and project_id <> 'proj_bench_query'),
                (select coalesce(sum(usage_count), 0)::bigint from api_key_usage where project_id like 'proj\\_bench\\_%')",
    )
    .fetch_one(pool)
    .await?)
}

/// Runs one ingest scenario and checks what was acknowledged was stored and counted.
async fn ingest_scenario(
    name: &str,
    make: load::MakeReq,
    o: &Opts,
    server: &env::Server,
    pool: &sqlx::PgPool,
) -> anyhow::Result<Sample> {
    let quiet = env::quiesce(pool).await?;
    if quiet > 0.5 {
        println!("  (waited {quiet:.1} s for autovacuum to finish)");
    }
    let (before, _, _) = counts(pool).await?;
    server.reset_peak_rss();
    let waits = diag::waits(pool);
    let wal = diag::wal(pool).await;
    let checkpoints = diag::checkpoints(pool).await?;
    let cpu = diag::Cpu::start_with_server(server.pid());
    let out = load::run(
        &server.addr,
        o.concurrency,
        Duration::from_secs(o.duration),
        make,
    )
    .await?;
    if let Some(w) = waits {
        w.print().await;
    }
    let rss = server.peak_rss_mib();
    let (stored, _, _) = counts(pool).await?;

    let lost = (out.acked_events as i64 - (stored - before)).max(0);
    if let Some(w) = &wal {
        w.print(pool, stored - before).await;
    }
    // Counts converge once the load stops: wait for them to equal the stored events.
    let stop = Instant::now();
    let converged = loop {
        let (events, occurrences, usage) = counts(pool).await?;
        if occurrences == events && usage == events {
            break Some(stop.elapsed());
        }
        if stop.elapsed() > Duration::from_secs(30) {
            println!("  counts did not converge: {events} events, {occurrences} occurrences, {usage} key uses");
            let busy: Vec<(String, Option<String>, String)> = sqlx::query_as(
                "select state, wait_event, left(query, 60) from pg_stat_activity
                  where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'",
            )
            .fetch_all(pool)
            .await?;
            for b in busy {
                println!("    busy: {b:?}");
            }
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Measured up to here: the folds that finish counting after the load belong to its cost.
    let cpu = cpu.per_event((stored - before) as f64);
    if let Some(w) = &wal {
        w.print_updates(pool, stored - before).await;
    }
    let checkpoints = diag::checkpoints(pool).await? - checkpoints;
    let s = Sample::from_outcome(&out, rss, lost, converged);
    println!(
        "  {name:<10} {}  {cpu}{}",
        s.line(),
        diag::checkpoint_note(checkpoints)
    );
    Ok(s)
}

/// Seconds each pgbench script runs unmeasured before its measured run.
const PGBENCH_WARMUP_SECS: u64 = 3;

/// Runs one pgbench script as a measured phase (after the database is quiet) and prints it.
async fn pgbench_phase(
    name: &str,
    kind: ceiling::Script,
    path: &str,
    o: &Opts,
    cluster: &env::Cluster,
    pool: &sqlx::PgPool,
) -> anyhow::Result<ceiling::Ceiling> {
    let password = shared::localpg::password_of(&cluster.pg.data_dir)?;
    let quiet = env::quiesce(pool).await?;
    if quiet > 0.5 {
        println!("  (waited {quiet:.1} s for autovacuum to finish)");
    }
    // Unmeasured first seconds, as each cairn scenario runs on tables the one before it has
    // just used, where the scenarios before this phase may have evicted pgbench's tables from
    // the caches (docs/PERFORMANCE.md: it did not remove the ceiling's spread between runs).
    ceiling::run(
        path,
        cluster.pg.port,
        &password,
        "cairn_bench",
        o.concurrency,
        PGBENCH_WARMUP_SECS.min(o.duration),
    )?;
    let wal = diag::wal(pool).await;
    let checkpoints = diag::checkpoints(pool).await?;
    let cpu = diag::Cpu::start();
    let mut c = ceiling::run(
        path,
        cluster.pg.port,
        &password,
        "cairn_bench",
        o.concurrency,
        o.duration,
    )?;
    if matches!(kind, ceiling::Script::Batch) {
        c.tps *= ceiling::BATCH_EVENTS as f64;
    }
    let cpu = cpu.per_event(c.tps * o.duration as f64);
    let checkpoints = diag::checkpoints(pool).await? - checkpoints;
    println!(
        "  {name:<10} {:>9.0} events/s  latency avg {:.2} ms  {cpu}{}",
        c.tps,
        c.latency_avg_ms,
        diag::checkpoint_note(checkpoints)
    );
    if let Some(w) = &wal {
        let events = (c.tps * o.duration as f64) as i64;
        w.print(pool, events).await;
        w.print_updates(pool, events).await;
    }
    Ok(c)
}

/// The at scenario on the query world as the last size left it: the listing at the IDE's
/// HEAD, cached, next to the same listing without `at=`, round after round; then uncached
/// listings one by one.
async fn at_scenario(
    o: &Opts,
    server: &env::Server,
    pool: &sqlx::PgPool,
    session: &str,
    world: &at::World,
    github: &at::FakeGitHub,
) -> anyhow::Result<Row> {
    at::seed(pool, world).await?;
    at::warm(&server.addr, session, world).await?;
    println!(
        "at world: {} incidents last seen at {} commits; HEAD listed once to fill the cache ({} compare calls)",
        at::INCIDENTS,
        at::SEEN_COMMITS,
        github.compare_calls()
    );
    let (mut plain, mut cached) = (Vec::new(), Vec::new());
    for _ in 0..o.runs {
        for (name, with_at, into) in [("plain", false, &mut plain), ("at", true, &mut cached)] {
            server.reset_peak_rss();
            let out = load::run(
                &server.addr,
                o.query_concurrency,
                Duration::from_secs(o.duration.min(5)),
                scenarios::listing(session.to_owned(), with_at.then(|| world.head.clone())),
            )
            .await?;
            let s = Sample::from_outcome(&out, server.peak_rss_mib(), 0, None);
            println!("  {name:<10} {}", s.line());
            into.push(s);
        }
    }
    let calls_before = github.compare_calls();
    let (uncached_ms, calls) = at::uncached(&server.addr, session, world, github).await?;
    println!(
        "  uncached   {} listings, GitHub answering after {} ms: {:?} ms, compare calls {:?} ({} in all)",
        uncached_ms.len(),
        o.github_latency_ms,
        uncached_ms.iter().map(|t| t.round()).collect::<Vec<_>>(),
        calls,
        github.compare_calls() - calls_before
    );
    Ok(Row::At {
        plain,
        cached,
        uncached_ms,
        calls,
        latency_ms: o.github_latency_ms,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut o = parse_opts()?;
    let on = |s: &str| o.scenarios.iter().any(|x| x == s);
    anyhow::ensure!(
        o.cairn.exists(),
        "{} not found: build it (cargo build --release -p cairn) or pass --cairn",
        o.cairn.display()
    );
    o.cairn = o.cairn.canonicalize()?;
    println!(
        "cairn bench: {} × {} s per scenario, {} clients, server pool {}, {} projects × {} fingerprints",
        o.runs,
        o.duration,
        o.concurrency,
        o.pool,
        o.projects,
        scenarios::FINGERPRINTS
    );
    let cluster = env::Cluster::start().await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&cluster.url())
        .await?;
    // Checkpoints far enough apart for a write-heavy load (PostgreSQL's 1 GB default made them
    // every 7-20 s here, each followed by a burst of full-page writes that hit the ceiling and
    // the scenarios unevenly). Both run on this same setting.
    let buffers = std::env::var("CAIRN_BENCH_SHARED_BUFFERS").unwrap_or_else(|_| "128MB".into());
    // `min_wal_size` as large: WAL segments are recycled at checkpoints, never removed, as on
    // a server that has run for a while (see `env::preallocate_wal`).
    for q in [
        "alter system set max_wal_size = '4GB'".to_owned(),
        "alter system set min_wal_size = '4GB'".to_owned(),
        format!("alter system set shared_buffers = '{buffers}'"),
        "select pg_reload_conf()".to_owned(),
    ] {
        sqlx::query(&q).execute(&pool).await?;
    }
    let pool = cluster.restart(pool).await?;
    let pool = diag::setup(&cluster, pool).await?;
    env::preallocate_wal(&pool, o.wal_segments).await?;
    let log = std::env::temp_dir().join("cairn-bench-serve.log");
    println!("server log: {}", log.display());
    anyhow::ensure!(
        !on("at") || on("query"),
        "the at scenario runs on the query scenario's world: add query to --scenarios"
    );
    // The at scenario's git history and the fake GitHub that answers from it: the server is
    // pointed at it from the start.
    let at_world = if on("at") {
        let world = at::World::build(o.at_fresh)?;
        let github =
            at::FakeGitHub::start(&world, Duration::from_millis(o.github_latency_ms)).await?;
        Some((world, github))
    } else {
        None
    };
    let github_url = at_world.as_ref().map(|(_, g)| g.url.as_str());
    let server = env::Server::start(
        &o.cairn,
        &cluster.url(),
        o.pool,
        &cluster.dir,
        &log,
        github_url,
    )
    .await?;
    let projects = Arc::new(seed::projects(&pool, o.projects).await?);
    seed::ceiling(&pool, o.projects, scenarios::FINGERPRINTS).await?;
    // No `analyze` here: tables cairn writes start empty and never analysed, as on a fresh
    // deployment (the planner then assumes they are not tiny).
    use ceiling::Script;
    let script = |s| ceiling::write_script(&cluster.dir, s, o.projects, scenarios::FINGERPRINTS);
    let scripts = [
        ("pgbench", Script::Full, script(Script::Full)?),
        ("pgb-minimal", Script::Minimal, script(Script::Minimal)?),
        ("pgb-batch", Script::Batch, script(Script::Batch)?),
    ];

    // The maps scenario's uploads and first resolutions, on a server that has resolved nothing
    // yet (before any warm-up).
    let maps_world = if on("maps") {
        let (world, setup) =
            maps::setup(&pool, &server, o.map_modules, o.upload_mb, o.map_passes).await?;
        report::print_maps_setup(&setup);
        Some((world, setup))
    } else {
        None
    };
    // Every ingest scenario writes to the incidents the warm-up creates (batched and envelope
    // included: without it they would measure creating incidents, which pgbench's seeded
    // tables never do).
    if ["spread", "hot", "batched", "envelope"]
        .iter()
        .any(|s| on(s))
    {
        let t = Instant::now();
        let failed = load::send_all(&server.addr, scenarios::warmup(&projects), 8).await?;
        println!(
            "warm-up: {} incidents (native and Sentry) created in {:.1} s ({failed} requests failed)",
            2 * o.projects * scenarios::FINGERPRINTS,
            t.elapsed().as_secs_f64()
        );
    }
    if let Some((world, _)) = &maps_world {
        let t = Instant::now();
        let failed = load::send_all(&server.addr, maps::warmup(world), 8).await?;
        // Each variant should have made its own FINGERPRINTS incidents (fewer: a grouping the
        // two would not share).
        let incidents: i64 =
            sqlx::query_scalar("select count(*) from incidents where project_id = $1")
                .bind(maps::PROJECT)
                .fetch_one(&pool)
                .await?;
        println!(
            "warm-up: {} maps events (with and without images) in {:.1} s ({failed} requests failed); the maps project has {incidents} incidents",
            2 * scenarios::FINGERPRINTS,
            t.elapsed().as_secs_f64()
        );
    }
    diag::reset(&pool).await?;
    let mut rows: Vec<Row> = Vec::new();
    let ingest = ["spread", "hot", "batched", "envelope", "maps"]
        .iter()
        .any(|s| on(s));
    for run in (1..=o.runs).filter(|_| ingest) {
        println!("round {run}/{}", o.runs);
        let mut round = report::Round::default();
        let batching = on("batched") || on("envelope") || on("maps");
        for (name, kind, path) in &scripts {
            if matches!(kind, Script::Batch) && !batching {
                continue;
            }
            let c = pgbench_phase(name, *kind, path, &o, &cluster, &pool).await?;
            match kind {
                Script::Full => round.ceiling = Some(c),
                Script::Minimal => round.minimal = Some(c),
                Script::Batch => round.batch = Some(c),
            }
        }
        let tag = |s: &str| format!("{s}-{run}-{}", std::process::id());
        if on("spread") {
            let make = scenarios::spread(Arc::clone(&projects), tag("spread"));
            round.spread = Some(ingest_scenario("spread", make, &o, &server, &pool).await?);
        }
        if on("hot") {
            let make = scenarios::hot(Arc::clone(&projects), tag("hot"));
            round.hot = Some(ingest_scenario("hot", make, &o, &server, &pool).await?);
        }
        if on("batched") {
            let make = scenarios::batched(Arc::clone(&projects), tag("batched"));
            round.batched = Some(ingest_scenario("batched", make, &o, &server, &pool).await?);
        }
        if on("envelope") {
            let make = scenarios::envelopes(Arc::clone(&projects), tag("envelope"));
            round.envelope = Some(ingest_scenario("envelope", make, &o, &server, &pool).await?);
        }
        if let Some((world, _)) = &maps_world {
            let make = maps::envelopes(world, tag("maps"), true);
            round.maps = Some(ingest_scenario("maps", make, &o, &server, &pool).await?);
            let make = maps::envelopes(world, tag("maps-raw"), false);
            round.maps_raw = Some(ingest_scenario("maps-raw", make, &o, &server, &pool).await?);
        }
        // The ceiling again, on the tables as this round's writes left them (see
        // `Round::ceiling_tps`).
        let (name, kind, path) = &scripts[0];
        round.ceiling_end =
            Some(pgbench_phase(&format!("{name} (end)"), *kind, path, &o, &cluster, &pool).await?);
        rows.push(Row::Round(Box::new(round)));
    }

    if on("query") {
        let commits = 5;
        let t = Instant::now();
        let (session, commit) = seed::query_world(&pool, o.query_incidents, commits).await?;
        for &events in &o.query_events {
            seed::query_events(&pool, o.query_incidents, commits, events).await?;
            seed::fresh_access(&pool).await?;
            println!(
                "query world: {} incidents, {} events (seeded in {:.0} s)",
                o.query_incidents,
                events,
                t.elapsed().as_secs_f64()
            );
            let mut samples = Vec::new();
            for _ in 0..o.runs {
                server.reset_peak_rss();
                let out = load::run(
                    &server.addr,
                    o.query_concurrency,
                    Duration::from_secs(o.duration.min(5)),
                    scenarios::query(session.clone(), commit.clone()),
                )
                .await?;
                let s = Sample::from_outcome(&out, server.peak_rss_mib(), 0, None);
                println!("  {:<10} {}", "query", s.line());
                samples.push(s);
            }
            rows.push(Row::Query { events, samples });
        }
        if let Some((world, github)) = &at_world {
            rows.push(at_scenario(&o, &server, &pool, &session, world, github).await?);
        }
    }
    // The burst last: the memory it takes stays with the server (malloc keeps it), and would
    // count in every later scenario's peak.
    let burst = match &maps_world {
        Some((world, _)) => Some(maps::burst(&server, world, o.concurrency).await?),
        None => None,
    };
    report::print(&rows);
    if let Some((_, setup)) = &maps_world {
        report::print_maps_setup(setup);
    }
    if let Some(b) = &burst {
        report::print_maps_burst(b);
    }
    diag::report(&pool).await?;
    drop(server);
    drop(cluster);
    Ok(())
}

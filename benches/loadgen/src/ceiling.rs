//! The ceiling: `pgbench` performing the durable writes one event needs, against the same
//! PostgreSQL at the same concurrency, one transaction per event committed with
//! `synchronous_commit = on`. The event's payload is a parameter (parsed per event, as cairn's
//! are), the project, fingerprint and end user are random over the same 100 × 1,000 × 5,000.
//!
//! - [`Script::Full`], the ceiling the ratios use: what cairn's schema keeps per event, written
//!   the direct way in one statement: insert the event row, upsert the incident counting the
//!   event on it, upsert the incident's row at the commit counting it there, and record the end
//!   user (affected users). Same tables, indexes and foreign keys as cairn's.
//! - [`Script::Minimal`], printed for reference (the "minimal insert+upsert"): insert
//!   the event and upsert the incident only, with no per-commit count and no affected users.
//! - [`Script::Batch`], printed for reference beside the batched scenarios: the Full script's
//!   writes for [`BATCH_EVENTS`] events in one statement and one transaction (counts added per
//!   incident and per commit, upserts in key order): what batching alone can gain on this
//!   machine, with no server, parsing or deduplication at all.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use crate::payloads;

/// What pgbench measured.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    pub tps: f64,
    pub latency_avg_ms: f64,
}

/// The pgbench scripts.
#[derive(Debug, Clone, Copy)]
pub enum Script {
    Full,
    Minimal,
    Batch,
}

/// Events per transaction of [`Script::Batch`] (the batched scenarios send arrays of 100).
pub const BATCH_EVENTS: usize = 100;

/// Writes the pgbench script for `projects` × `fingerprints` incidents into `dir`.
pub fn write_script(
    dir: &Path,
    script: Script,
    projects: usize,
    fingerprints: usize,
) -> anyhow::Result<String> {
    let commit = payloads::commit(0);
    let event = format!(
        "insert into incident_events (project_id, incident_id, event_id, occurred_at, commit_sha, environment, release, user_hash, payload)\n\
         select inc.project_id, inc.incident_id, md5(random()::text || clock_timestamp()::text), now(), '{commit}', 'production',\n\
                'web@1.4.2', sha256(('user-' || :u)::bytea), (:payload)::jsonb from inc;\n"
    );
    let upsert = "with inc as (insert into incidents (incident_id, project_id, fingerprint, error_type, error_message, occurred_at, occurrence_count)\n\
         values ('inc_pgb_' || :p || '_' || :f, 'proj_pgb_' || :p, 'fp' || :f, 'TypeError', 'x', now(), 1)\n\
         on conflict (project_id, fingerprint) do update set occurrence_count = incidents.occurrence_count + 1, last_seen_at = now()\n\
         returning incident_id, project_id)";
    let vars = format!(
        "\\set p random(1, {projects})\n\\set f random(1, {fingerprints})\n\\set u random(1, 5000)"
    );
    let text = match script {
        Script::Batch => batch_script(&commit, projects, fingerprints),
        Script::Minimal => format!("{vars}\n{upsert}\n{event}"),
        Script::Full => format!(
            "{vars}\n{upsert},\n\
             ev as ({}),\n\
             com as (insert into incident_commits (incident_id, commit_sha, project_id, occurrence_count)\n\
                     select incident_id, '{commit}', project_id, 1 from inc\n\
                     on conflict (incident_id, commit_sha) do update\n\
                     set occurrence_count = incident_commits.occurrence_count + 1, last_seen_at = now()),\n\
             usr as (insert into incident_users (incident_id, user_hash)\n\
                     select incident_id, sha256(('user-' || :u)::bytea) from inc on conflict do nothing)\n\
             select 1;\n",
            event.trim_end().trim_end_matches(';')
        ),
    };
    let path = dir.join(format!("ceiling-{script:?}.sql").to_lowercase());
    std::fs::write(&path, text)?;
    Ok(path.to_string_lossy().into_owned())
}

/// [`Script::Batch`]: [`BATCH_EVENTS`] random events, then the Full script's writes for all of
/// them in one statement.
fn batch_script(commit: &str, projects: usize, fingerprints: usize) -> String {
    format!(
        "with src as materialized (\n\
           select 'inc_pgb_' || p || '_' || f as incident_id, 'proj_pgb_' || p as project_id, 'fp' || f as fingerprint,\n\
                  sha256(('user-' || u)::bytea) as user_hash\n\
             from (select floor(random() * {projects})::int + 1 as p, floor(random() * {fingerprints})::int + 1 as f,\n\
                          floor(random() * 5000)::int + 1 as u\n\
                     from generate_series(1, {BATCH_EVENTS})) r),\n\
         inc as (insert into incidents (incident_id, project_id, fingerprint, error_type, error_message, occurred_at, occurrence_count)\n\
                 select incident_id, project_id, fingerprint, 'TypeError', 'x', now(), count(*) from src\n\
                  group by 1, 2, 3 order by 2, 3\n\
                 on conflict (project_id, fingerprint) do update\n\
                 set occurrence_count = incidents.occurrence_count + excluded.occurrence_count, last_seen_at = now()),\n\
         ev as (insert into incident_events (project_id, incident_id, event_id, occurred_at, commit_sha, environment, release, user_hash, payload)\n\
                select project_id, incident_id, md5(random()::text || clock_timestamp()::text), now(), '{commit}', 'production',\n\
                       'web@1.4.2', user_hash, (:payload)::jsonb from src),\n\
         com as (insert into incident_commits (incident_id, commit_sha, project_id, occurrence_count)\n\
                 select incident_id, '{commit}', project_id, count(*) from src group by 1, 3 order by 1\n\
                 on conflict (incident_id, commit_sha) do update\n\
                 set occurrence_count = incident_commits.occurrence_count + excluded.occurrence_count, last_seen_at = now()),\n\
         usr as (insert into incident_users (incident_id, user_hash)\n\
                 select distinct incident_id, user_hash from src order by 1, 2 on conflict do nothing)\n\
         select 1;\n"
    )
}

/// Runs pgbench with `clients` connections for `seconds` seconds.
pub fn run(
    script: &str,
    port: u16,
    password: &str,
    db: &str,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<Ceiling> {
    let out = Command::new(std::env::var("PGBENCH").unwrap_or_else(|_| "pgbench".into()))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        // The local cluster wants its password over TCP (shared/src/localpg.rs).
        .env("PGPASSWORD", password)
        .args(["-n", "-M", "prepared"])
        .arg("-D")
        .arg(format!("payload={}", payloads::ceiling_payload()))
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(2).to_string(),
        ])
        .args(["-T", &seconds.to_string(), "-f", script, db])
        .output()
        .context("running pgbench (is it on PATH? set PGBENCH to its path)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench failed: {}\n{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let field = |prefix: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(prefix))?
            .trim_start_matches(prefix)
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Ok(Ceiling {
        tps: field("tps = ").context("pgbench printed no tps")?,
        latency_avg_ms: field("latency average = ").unwrap_or(f64::NAN),
    })
}

//! The ceiling: `pgbench` performing the durable write one event needs, against the same
//! PostgreSQL at the same concurrency. One transaction per event: find the event's incident by
//! `(project_id, fingerprint)` and insert the event row (same table, indexes, foreign keys and
//! payload size as cairn's), committed with `synchronous_commit = on`. This is the least any
//! design must write per acknowledged single event, so it is a generous ceiling.

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

/// Writes the pgbench script for `projects` × `fingerprints` incidents into `dir`.
pub fn write_script(dir: &Path, projects: usize, fingerprints: usize) -> anyhow::Result<String> {
    let payload = payloads::ceiling_payload().replace('\'', "''");
    let commit = payloads::commit(0);
    let script = format!(
        "\\set p random(1, {projects})\n\\set f random(1, {fingerprints})\n\
         with inc as (select incident_id, project_id from incidents where project_id = 'proj_pgb_' || :p and fingerprint = 'fp' || :f)\n\
         insert into incident_events (project_id, incident_id, event_id, occurred_at, commit_sha, environment, release, user_hash, payload)\n\
         select inc.project_id, inc.incident_id, md5(random()::text || clock_timestamp()::text), now(), '{commit}', 'production',\n\
                'web@1.4.2', sha256('user-1'::bytea), '{payload}'::jsonb from inc;\n"
    );
    let path = dir.join("ceiling.sql");
    std::fs::write(&path, script)?;
    Ok(path.to_string_lossy().into_owned())
}

/// Runs pgbench with `clients` connections for `seconds` seconds.
pub fn run(
    script: &str,
    port: u16,
    db: &str,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<Ceiling> {
    let out = Command::new(std::env::var("PGBENCH").unwrap_or_else(|_| "pgbench".into()))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(["-n", "-M", "prepared"])
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

//! Storing prepared events: any number of events, of any number of keys, in ONE statement (one
//! round trip, atomic on its own, arrays bound once and `unnest`ed). For each event: refuse it
//! if its key was revoked or its project deleted (checked here, so a cached key still stops
//! working at once), skip it if its `event_id` is stored already, find or create its incident,
//! insert the event and the incident's location at this commit, and reopen the incident if it
//! was resolved (a regression, audited). Counts are appended to `incident_counts_batches`, one
//! row per statement, never by updating a row shared by every event of a spike. An event whose commit awaits its deployment keeps its
//! location on the event (`pending_location`) for `backfill`.
//!
//! The plan stays linear in the number of events: every lookup is an index probe per event
//! (`looked`), and every write reads that one materialised list; no two lists are joined.
//!
//! A new incident's id is derived from its project and fingerprint under a secret salt
//! ([`incident_id_salt`]), so each event knows its incident's id without reading back what was
//! inserted, and two statements (of this instance or another) creating the same incident at
//! once agree on its id: the second waits for the first and finds its row, no retry needed.
//! There are no foreign keys on the rows an event writes (migration 0007), so the statement
//! checks instead that such a row carries its id: if not (an instance with another secret key,
//! mid-rotation), it raises `40001` and writes nothing, and the caller retries (its snapshot
//! then sees the incident). Rows are written in a fixed order (incidents by fingerprint, events
//! by event id), so such statements wait for each other instead of deadlocking. When a
//! concurrent statement stored one of the same event ids (an SDK retry racing its original),
//! the event's insert fails on the unique `(project_id, event_id)` and the caller retries the
//! same way (its snapshot then sees that event, answered as a duplicate).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::prepare::Prepared;

/// The incident an event landed in, and whether it was a retry of one already stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub event_id: String,
    pub incident_id: String,
    pub duplicate: bool,
}

/// What happened to one event of a statement.
#[derive(Debug, Clone)]
pub enum Outcome {
    Stored(Stored),
    /// Its key was revoked (or its project deleted) before the statement ran.
    Refused,
}

/// One event to store, with the key and project it came with.
pub struct Row<'a> {
    pub key_id: &'a str,
    pub project_id: &'a str,
    pub event: &'a Prepared,
}

/// The salt of new incidents' ids: a hash of the instance's secret key, the same on every
/// instance. Incident ids are public; the salt only keeps them from being guessed from a
/// fingerprint.
pub fn incident_id_salt(secret: &crate::config::SecretKey) -> String {
    let mut input = b"cairn incident id v1:".to_vec();
    input.extend_from_slice(&secret.0);
    hex::encode(crate::crypto::sha256(&input))
}

// Frames and metadata travel as text and are parsed into jsonb only where a row keeps them (a
// new incident, a new commit location, an event awaiting its deployment): most events of a
// known incident never need them parsed.
const STORE_SQL: &str = r#"
with input as (
    -- The documents (stack trace $6, frames $7, metadata $17, payload $21: most of an event's
    -- bytes) are not in these rows, which every step below copies and sorts: the rows that keep
    -- them take them from their arrays by position.
    select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $8::text[], $9::int4[], $10::int4[], $11::text[], $12::text[], $13::text[], $14::text[],
                         $15::text[], $16::timestamptz[], $18::text[], $19::text[], $20::bytea[])
        with ordinality as t(key_id, project_id, fingerprint, error_type, error_message,
                             file_path, line_number, column_number, function, commit_sha, deployment_id, environment,
                             level, occurred_at, event_id, release, user_hash, ord)
),
keys as (
    select k.key_id, k.project_id from ingest_keys k join projects p on p.project_id = k.project_id
     where k.key_id = any($23) and k.revoked_at is null and p.deleted_at is null
),
looked as materialized (
    select i.*,
           (i.key_id, i.project_id) in (select key_id, project_id from keys) as live,
           (select e.incident_id from incident_events e
             where e.project_id = i.project_id and e.event_id = i.event_id) as dup_incident,
           k.incident_id as known_incident, k.status as known_status, k.last_commit_sha as known_commit,
           'inc_' || left(md5($22 || i.project_id || ':' || i.fingerprint), 20) as candidate
      from input i
      left join lateral (select x.incident_id, x.status, x.last_commit_sha from incidents x
                          where x.project_id = i.project_id and x.fingerprint = i.fingerprint) k on true
),
ev_in as (
    select l.*, coalesce(l.known_incident, l.candidate) as incident_id,
           l.live and l.dup_incident is null and row_number() over w = 1 as store,
           l.dup_incident is not null or row_number() over w > 1 as duplicate,
           first_value(coalesce(l.dup_incident, l.known_incident, l.candidate)) over w as answer
      from looked l
    window w as (partition by l.live, l.project_id, l.event_id order by l.ord)
),
created as (
    insert into incidents (incident_id, project_id, fingerprint, error_type, error_message,
                           file_path, line_number, column_number, function, commit_sha, first_commit_sha,
                           last_commit_sha, deployment_id, environment, level, occurred_at, first_seen_at,
                           last_seen_at)
    select distinct on (e.project_id, e.fingerprint)
           e.candidate, e.project_id, e.fingerprint, e.error_type, e.error_message, e.file_path,
           e.line_number, e.column_number, e.function, e.commit_sha, e.commit_sha, e.commit_sha,
           e.deployment_id, e.environment, e.level, e.occurred_at, now(), now()
      from ev_in e where e.store and e.known_incident is null
     order by e.project_id, e.fingerprint, e.ord
    -- A concurrent statement that created the same incident first: its row is returned (locked
    -- and left as it was), so the check below can tell whether it carries this statement's id.
    on conflict (project_id, fingerprint) do update set level = incidents.level
    returning incident_id = 'inc_' || left(md5($22 || project_id || ':' || fingerprint), 20) as ours
),
details as (
    -- The documents of a new incident, in their own row: folds rewrite the incident's row.
    insert into incident_details (incident_id, stack_trace, frames, metadata)
    select distinct on (e.project_id, e.fingerprint) e.candidate, ($6::text[])[e.ord], (($7::text[])[e.ord])::jsonb,
           (($17::text[])[e.ord])::jsonb
      from ev_in e where e.store and e.known_incident is null
     order by e.project_id, e.fingerprint, e.ord
    on conflict do nothing
),
first_env as (
    -- A new incident's own environment gets its row here; folds then look up only the
    -- environments an incident was seen in besides its own.
    insert into incident_environments (incident_id, environment)
    select distinct on (e.project_id, e.fingerprint) e.candidate, e.environment
      from ev_in e where e.store and e.known_incident is null and e.environment is not null
     order by e.project_id, e.fingerprint, e.ord
    on conflict do nothing
),
ev as (
    insert into incident_events (project_id, incident_id, event_id, occurred_at, commit_sha, deployment_id,
                                 environment, release, user_hash, payload, pending_location)
    select e.project_id, e.incident_id, e.event_id, e.occurred_at, e.commit_sha, e.deployment_id, e.environment,
           e.release, e.user_hash, (($21::text[])[e.ord])::jsonb,
           case when e.commit_sha is null and e.deployment_id is not null
                then jsonb_build_object('file_path', e.file_path, 'line_number', e.line_number,
                                        'column_number', e.column_number, 'function', e.function,
                                        'frames', (($7::text[])[e.ord])::jsonb) end
      from ev_in e where e.store
     order by e.project_id, e.event_id
),
new_loc as materialized (
    select distinct on (e.incident_id, e.commit_sha) e.incident_id, e.commit_sha, e.project_id, e.file_path, e.line_number,
           e.column_number, e.function, ($7::text[])[e.ord] as frames
      from ev_in e
     where e.store and e.commit_sha is not null
       -- An incident always has a row at its `last_commit_sha` (written by the statement that
       -- queued that commit's count): most events come from the commit last seen, and skip
       -- the probe of `incident_commits`, whose pages the folds keep from being all-visible.
       and e.known_commit is distinct from e.commit_sha
       and not exists (select 1 from incident_commits c where c.incident_id = e.incident_id and c.commit_sha = e.commit_sha)
     order by e.incident_id, e.commit_sha, e.ord
),
loc as (
    insert into incident_commits (incident_id, commit_sha, project_id, file_path, line_number, column_number, function,
                                  first_seen_at, last_seen_at)
    select l.incident_id, l.commit_sha, l.project_id, l.file_path, l.line_number, l.column_number, l.function, now(), now()
      from new_loc l
    on conflict (incident_id, commit_sha) do nothing
),
loc_frames as (
    -- The location's frames, in their own row (as the incident's documents).
    insert into incident_commit_frames (incident_id, commit_sha, frames)
    select l.incident_id, l.commit_sha, l.frames::jsonb from new_loc l
    on conflict (incident_id, commit_sha) do nothing
),
pend as (
    insert into incident_counts_batches (seen_at, incident_ids, commit_shas, environments, key_ids, counts,
                                         user_incidents, user_hashes)
    select now(), g.ids, g.commits, g.envs, g.keys, g.ns, coalesce(u.ids, '{}'), coalesce(u.hashes, '{}')
      from (select array_agg(c.incident_id) as ids, array_agg(c.commit_sha) as commits,
                   array_agg(c.environment) as envs, array_agg(c.key_id) as keys, array_agg(c.n) as ns
              from (select e.incident_id, e.commit_sha, e.environment, e.key_id, count(*)::int as n
                      from ev_in e where e.store group by 1, 2, 3, 4) c) g,
           (select array_agg(d.incident_id) as ids, array_agg(d.user_hash) as hashes
              from (select distinct e.incident_id, e.user_hash from ev_in e
                     where e.store and e.user_hash is not null) d) u
     where g.ids is not null
),
reopen as (
    update incidents set status = 'open', resolved_at = null
     where incident_id in (select e.known_incident from ev_in e where e.store and e.known_status = 'resolved')
       and status = 'resolved'
    returning incident_id, project_id
),
audit as (
    insert into audit_log (project_id, action, target)
    select project_id, 'incident.regressed', incident_id from reopen
)
select e.ord, e.live, e.answer, e.duplicate,
       case when e.ord = 1 and exists (select 1 from created where not ours)
            then cairn_ingest_raced() end as raced
  from ev_in e order by e.ord
"#;

/// Stores `rows` in one statement; one outcome per row, in order. A `40001` error means a
/// concurrent statement raced this one and nothing was written: retry.
pub async fn store(
    conn: &mut PgConnection,
    rows: &[Row<'_>],
    id_salt: &str,
) -> Result<Vec<Outcome>, sqlx::Error> {
    let n = rows.len();
    let mut key_id = Vec::with_capacity(n);
    let mut project_id = Vec::with_capacity(n);
    let mut fingerprint = Vec::with_capacity(n);
    let mut error_type = Vec::with_capacity(n);
    let mut error_message = Vec::with_capacity(n);
    let mut stack_trace = Vec::with_capacity(n);
    let mut frames: Vec<String> = Vec::with_capacity(n);
    let mut file_path = Vec::with_capacity(n);
    let mut line = Vec::with_capacity(n);
    let mut column = Vec::with_capacity(n);
    let mut function = Vec::with_capacity(n);
    let mut commit = Vec::with_capacity(n);
    let mut deployment = Vec::with_capacity(n);
    let mut environment = Vec::with_capacity(n);
    let mut level = Vec::with_capacity(n);
    let mut occurred_at: Vec<DateTime<Utc>> = Vec::with_capacity(n);
    let mut metadata = Vec::with_capacity(n);
    let mut event_id = Vec::with_capacity(n);
    let mut release = Vec::with_capacity(n);
    let mut user_hash = Vec::with_capacity(n);
    let mut payload = Vec::with_capacity(n);
    for r in rows {
        let p = r.event;
        let top = p.top.as_ref();
        key_id.push(r.key_id);
        project_id.push(r.project_id);
        fingerprint.push(p.fingerprint.as_str());
        error_type.push(p.error_type.as_deref());
        error_message.push(p.error_message.as_str());
        stack_trace.push(p.stack_trace.as_deref());
        frames.push(serde_json::to_string(&p.frames).unwrap_or_else(|_| "[]".to_owned()));
        file_path.push(top.and_then(|t| t.file_path.as_deref()));
        line.push(top.and_then(|t| t.line_number).map(|v| v as i32));
        column.push(top.and_then(|t| t.column_number).map(|v| v as i32));
        function.push(top.and_then(|t| t.function.as_deref()));
        commit.push(p.commit_sha.as_deref());
        deployment.push(p.deployment_id.as_deref());
        environment.push(p.environment.as_deref());
        level.push(p.level.as_str());
        occurred_at.push(p.occurred_at);
        metadata.push(p.metadata.get());
        event_id.push(p.event_id.as_str());
        release.push(p.release.as_deref());
        user_hash.push(p.user_hash.as_deref());
        payload.push(p.payload.as_str());
    }
    // The statement's distinct keys (a handful), matched against `ingest_keys` once each: with
    // the per-event array instead, every key row was compared with all of a group's events.
    let mut keys: Vec<&str> = key_id.clone();
    keys.sort_unstable();
    keys.dedup();
    type Out = (i64, bool, String, bool, Option<bool>);
    let out: Vec<Out> = sqlx::query_as(STORE_SQL)
        .bind(key_id)
        .bind(project_id)
        .bind(fingerprint)
        .bind(error_type)
        .bind(error_message)
        .bind(stack_trace)
        .bind(frames)
        .bind(file_path)
        .bind(line)
        .bind(column)
        .bind(function)
        .bind(commit)
        .bind(deployment)
        .bind(environment)
        .bind(level)
        .bind(occurred_at)
        .bind(metadata)
        .bind(event_id)
        .bind(release)
        .bind(user_hash)
        .bind(payload)
        .bind(id_salt)
        .bind(keys)
        .fetch_all(&mut *conn)
        .await?;
    Ok(out
        .into_iter()
        .zip(rows)
        .map(|((_, live, incident_id, duplicate, _), r)| {
            if live {
                Outcome::Stored(Stored {
                    event_id: r.event.event_id.clone(),
                    incident_id,
                    duplicate,
                })
            } else {
                Outcome::Refused
            }
        })
        .collect())
}

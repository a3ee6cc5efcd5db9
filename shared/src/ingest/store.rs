//! Storing prepared events. One event is one statement (one round trip, atomic on its own):
//! skip it if its `event_id` is already stored, find or create the incident, insert the event,
//! the incident's location at this commit and a pending count row, and reopen the incident if it
//! was resolved (a regression, audited). A request with several events runs those statements in
//! one transaction. No statement updates a row shared by every event of a spike. An event whose
//! commit awaits its deployment keeps its location on the event (`pending_location`) for
//! `backfill`.

use sqlx::PgConnection;

use super::prepare::Prepared;
use crate::crypto;

/// The incident an event landed in, and whether it was a retry of one already stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub event_id: String,
    pub incident_id: String,
    pub duplicate: bool,
}

const STORE_SQL: &str = r#"
with dup as (
    select incident_id from incident_events where project_id = $2 and event_id = $18
),
ins as (
    insert into incidents (incident_id, project_id, fingerprint, error_type, error_message, stack_trace, frames,
                           file_path, line_number, column_number, function, commit_sha, first_commit_sha,
                           last_commit_sha, deployment_id, environment, level, occurred_at, first_seen_at,
                           last_seen_at, metadata)
    select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12, $13, $14, $15, $16, now(), now(), $17
     where not exists (select 1 from dup)
    on conflict (project_id, fingerprint) do nothing
    returning incident_id, status
),
inc as (
    select incident_id, status from ins
    union all
    select incident_id, status from incidents
     where project_id = $2 and fingerprint = $3 and not exists (select 1 from ins) and not exists (select 1 from dup)
),
ev as (
    insert into incident_events (project_id, incident_id, event_id, occurred_at, commit_sha, deployment_id,
                                 environment, release, user_hash, payload, pending_location)
    select $2, inc.incident_id, $18, $16, $12, $13, $14, $19, $20, $21,
           case when $12::text is null and $13::text is not null
                then jsonb_build_object('file_path', $8::text, 'line_number', $9::int, 'column_number', $10::int,
                                        'function', $11::text, 'frames', $7::jsonb) end
      from inc
    on conflict (project_id, event_id) do nothing
    returning incident_id
),
loc as (
    insert into incident_commits (incident_id, commit_sha, file_path, line_number, column_number, function, frames,
                                  first_seen_at, last_seen_at)
    select ev.incident_id, $12, $8, $9, $10, $11, $7, now(), now() from ev where $12::text is not null
    on conflict (incident_id, commit_sha) do nothing
),
pend as (
    insert into incident_counts_pending (incident_id, project_id, commit_sha, environment, key_id, seen_at, user_hash)
    select ev.incident_id, $2, $12, $14, $22, now(), $20 from ev
),
reopen as (
    update incidents set status = 'open', resolved_at = null
     where incident_id = (select incident_id from inc where status = 'resolved')
       and status = 'resolved' and exists (select 1 from ev)
    returning incident_id
),
audit as (
    insert into audit_log (project_id, action, target) select $2, 'incident.regressed', incident_id from reopen
)
select (select incident_id from dup) as dup_incident,
       (select incident_id from ev) as new_incident
"#;

/// Stores one prepared event; `None` when a concurrent request raced this one (the caller
/// retries: the next attempt sees the other request's rows).
pub async fn store_one(
    conn: &mut PgConnection,
    project_id: &str,
    key_id: &str,
    p: &Prepared,
) -> Result<Option<Stored>, sqlx::Error> {
    let top = p.top.as_ref();
    let frames = serde_json::to_value(&p.frames).unwrap_or_else(|_| serde_json::json!([]));
    let (dup, new): (Option<String>, Option<String>) = sqlx::query_as(STORE_SQL)
        .bind(crypto::public_id("inc"))
        .bind(project_id)
        .bind(&p.fingerprint)
        .bind(&p.error_type)
        .bind(&p.error_message)
        .bind(&p.stack_trace)
        .bind(frames)
        .bind(top.and_then(|t| t.file_path.clone()))
        .bind(top.and_then(|t| t.line_number).map(|n| n as i32))
        .bind(top.and_then(|t| t.column_number).map(|n| n as i32))
        .bind(top.and_then(|t| t.function.clone()))
        .bind(&p.commit_sha)
        .bind(&p.deployment_id)
        .bind(&p.environment)
        .bind(&p.level)
        .bind(p.occurred_at)
        .bind(&p.metadata)
        .bind(&p.event_id)
        .bind(&p.release)
        .bind(&p.user_hash)
        .bind(&p.payload)
        .bind(key_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(match (dup, new) {
        (Some(incident_id), _) => Some(Stored {
            event_id: p.event_id.clone(),
            incident_id,
            duplicate: true,
        }),
        (None, Some(incident_id)) => {
            if incident_id.is_empty() {
                None
            } else {
                Some(Stored {
                    event_id: p.event_id.clone(),
                    incident_id,
                    duplicate: false,
                })
            }
        }
        // The incident was created, or the event stored, by a concurrent request after this
        // statement's snapshot was taken.
        (None, None) => None,
    })
}

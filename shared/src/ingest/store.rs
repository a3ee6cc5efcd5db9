//! Storing prepared events: one transaction per request. Per event: find or create the incident
//! (reopening a resolved one: a regression), then one statement that inserts the event (deduped
//! on `event_id`), the incident's location at this commit, and a pending count row.

use sqlx::{PgConnection, Row};

use super::prepare::Prepared;
use crate::crypto;

/// The incident an event landed in, and whether it was a retry of one already stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub event_id: String,
    pub incident_id: String,
    pub duplicate: bool,
}

/// Outcome of storing one event in the open transaction.
pub enum Outcome {
    Stored(Stored),
    /// Another request stored this `event_id` concurrently: roll back and retry the request.
    RaceDuplicate,
}

const INCIDENT_SQL: &str = r#"
with ins as (
    insert into incidents (incident_id, project_id, fingerprint, error_type, error_message, stack_trace, frames,
                           file_path, line_number, column_number, function, commit_sha, first_commit_sha,
                           last_commit_sha, deployment_id, environment, level, occurred_at, first_seen_at,
                           last_seen_at, metadata)
    values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12, $13, $14, $15, $16, now(), now(), $17)
    on conflict (project_id, fingerprint) do nothing
    returning incident_id, status
)
select incident_id, status from ins
union all
select incident_id, status from incidents
 where project_id = $2 and fingerprint = $3 and not exists (select 1 from ins)
"#;

const EVENT_SQL: &str = r#"
with ev as (
    insert into incident_events (project_id, incident_id, event_id, occurred_at, commit_sha, deployment_id,
                                 environment, release, user_hash, payload)
    values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    on conflict (project_id, event_id) do nothing
    returning id
),
loc as (
    insert into incident_commits (incident_id, commit_sha, file_path, line_number, column_number, function, frames,
                                  first_seen_at, last_seen_at)
    select $2, $5, $11, $12, $13, $14, $15, now(), now()
     where $5::text is not null and exists (select 1 from ev)
    on conflict (incident_id, commit_sha) do nothing
),
pend as (
    insert into incident_counts_pending (incident_id, project_id, commit_sha, environment, key_id, seen_at, user_hash)
    select $2, $1, $5, $7, $16, now(), $9 where exists (select 1 from ev)
)
select count(*) from ev
"#;

fn frames_json(p: &Prepared) -> serde_json::Value {
    serde_json::to_value(&p.frames).unwrap_or_else(|_| serde_json::json!([]))
}

/// Finds or creates the incident for `p`; reopens it when resolved. Retries the rare race
/// where a concurrent request created it after this statement's snapshot.
async fn incident(conn: &mut PgConnection, project_id: &str, p: &Prepared) -> Result<String, sqlx::Error> {
    let top = p.top.as_ref();
    for _ in 0..3 {
        let row = sqlx::query(INCIDENT_SQL)
            .bind(crypto::public_id("inc"))
            .bind(project_id)
            .bind(&p.fingerprint)
            .bind(&p.error_type)
            .bind(&p.error_message)
            .bind(&p.stack_trace)
            .bind(frames_json(p))
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
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(row) = row {
            let id: String = row.get("incident_id");
            if row.get::<&str, _>("status") == "resolved" {
                sqlx::query("update incidents set status = 'open', resolved_at = null where incident_id = $1 and status = 'resolved'")
                    .bind(&id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("insert into audit_log (project_id, action, target) values ($1, 'incident.regressed', $2)")
                    .bind(project_id)
                    .bind(&id)
                    .execute(&mut *conn)
                    .await?;
                tracing::info!(incident.id = %id, "resolved incident reopened by a new event");
            }
            return Ok(id);
        }
    }
    Err(sqlx::Error::RowNotFound)
}

/// Stores one prepared event inside the caller's transaction.
pub async fn store_one(conn: &mut PgConnection, project_id: &str, key_id: &str, p: &Prepared) -> Result<Outcome, sqlx::Error> {
    let incident_id = incident(conn, project_id, p).await?;
    let top = p.top.as_ref();
    let inserted: i64 = sqlx::query_scalar(EVENT_SQL)
        .bind(project_id)
        .bind(&incident_id)
        .bind(&p.event_id)
        .bind(p.occurred_at)
        .bind(&p.commit_sha)
        .bind(&p.deployment_id)
        .bind(&p.environment)
        .bind(&p.release)
        .bind(&p.user_hash)
        .bind(&p.payload)
        .bind(top.and_then(|t| t.file_path.clone()))
        .bind(top.and_then(|t| t.line_number).map(|n| n as i32))
        .bind(top.and_then(|t| t.column_number).map(|n| n as i32))
        .bind(top.and_then(|t| t.function.clone()))
        .bind(frames_json(p))
        .bind(key_id)
        .fetch_one(&mut *conn)
        .await?;
    if inserted == 0 {
        return Ok(Outcome::RaceDuplicate);
    }
    Ok(Outcome::Stored(Stored { event_id: p.event_id.clone(), incident_id, duplicate: false }))
}

/// Events of this project already stored under these ids: `(event_id, incident_id)`.
pub async fn existing(conn: &mut PgConnection, project_id: &str, ids: &[String]) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as("select event_id, incident_id from incident_events where project_id = $1 and event_id = any($2)")
        .bind(project_id)
        .bind(ids)
        .fetch_all(&mut *conn)
        .await
}

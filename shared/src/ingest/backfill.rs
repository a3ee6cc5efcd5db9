//! Commits for events accepted before their deployment was known. Such an event is stored with
//! `commit_sha` null (and, when it named no environment, `environment` null) and its location in
//! `pending_location`; its count is folded into the incident but into no commit. When the
//! deployment arrives (linked to the event's project, with a commit), [`fill_commits`] gives
//! those events the commit and the environment (`production` for target production, `preview`
//! otherwise), creates or adds to their `incident_commits` rows (counted here, from the events
//! themselves: their pending counts carry no commit, so nothing is counted twice), and sets the
//! incidents' commit and environment where still null.
//!
//! Both sides run it after their own commit — the webhook for its deployment, ingest for the
//! deployments its waiting events name — so whichever commits last sees the other's rows. It is
//! idempotent: an event is updated once (`commit_sha is null` is re-checked under the row lock).

use sqlx::{PgConnection, PgPool};

const FILL_SQL: &str = r#"
with d as (
    select deployment_id, project_id, commit_sha,
           case when target = 'production' then 'production' else 'preview' end as environment
      from deployments
     where deployment_id = $1 and project_id is not null and commit_sha is not null
),
ev as (
    update incident_events e
       set commit_sha = d.commit_sha,
           environment = coalesce(e.environment, d.environment)
      from d
     where e.deployment_id = d.deployment_id and e.project_id = d.project_id and e.commit_sha is null
    returning e.incident_id, e.commit_sha, e.environment, e.received_at, e.pending_location
),
per as (
    select incident_id, commit_sha, count(*) as n, min(received_at) as first_seen, max(received_at) as last_seen,
           (array_agg(pending_location order by received_at) filter (where pending_location is not null))[1] as loc,
           min(environment) as environment
      from ev group by incident_id, commit_sha
),
envs as (
    insert into incident_environments (incident_id, environment)
    select distinct incident_id, environment from ev where environment is not null
    on conflict do nothing
),
frames as (
    insert into incident_commit_frames (incident_id, commit_sha, frames)
    select p.incident_id, p.commit_sha,
           case when p.loc is null then coalesce(d.frames, '[]'::jsonb) else coalesce(p.loc->'frames', '[]'::jsonb) end
      from per p left join incident_details d on d.incident_id = p.incident_id
    on conflict (incident_id, commit_sha) do nothing
),
com as (
    insert into incident_commits (incident_id, commit_sha, project_id, file_path, line_number, column_number, function,
                                  first_seen_at, last_seen_at, occurrence_count)
    select p.incident_id, p.commit_sha, i.project_id,
           case when p.loc is null then i.file_path else p.loc->>'file_path' end,
           case when p.loc is null then i.line_number else (p.loc->>'line_number')::int end,
           case when p.loc is null then i.column_number else (p.loc->>'column_number')::int end,
           case when p.loc is null then i.function else p.loc->>'function' end,
           p.first_seen, p.last_seen, p.n
      from per p join incidents i on i.incident_id = p.incident_id
    on conflict (incident_id, commit_sha) do update
       set occurrence_count = incident_commits.occurrence_count + excluded.occurrence_count,
           first_seen_at = least(incident_commits.first_seen_at, excluded.first_seen_at),
           last_seen_at = greatest(incident_commits.last_seen_at, excluded.last_seen_at)
),
inc as (
    update incidents i
       set environment = coalesce(i.environment, p.environment),
           commit_sha = coalesce(i.commit_sha, p.commit_sha),
           first_commit_sha = coalesce(i.first_commit_sha, p.commit_sha),
           last_commit_sha = coalesce(i.last_commit_sha, p.commit_sha)
      from per p
     where i.incident_id = p.incident_id
)
select count(*) from ev
"#;

/// Gives the events waiting for `deployment_id` its commit, inside the caller's transaction.
/// Returns how many events were updated (0 when the deployment is unknown, unlinked or has no
/// commit, or nothing waits for it).
pub async fn fill_commits(
    conn: &mut PgConnection,
    deployment_id: &str,
) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(FILL_SQL)
        .bind(deployment_id)
        .fetch_one(&mut *conn)
        .await?;
    if n > 0 {
        sqlx::query("update incident_events set pending_location = null where deployment_id = $1 and commit_sha is not null and pending_location is not null")
            .bind(deployment_id)
            .execute(&mut *conn)
            .await?;
        tracing::info!(deployment.id = %deployment_id, events = n, "commits filled in from a deployment");
    }
    Ok(n as u64)
}

/// [`fill_commits`] in its own transaction.
pub async fn fill_commits_now(pool: &PgPool, deployment_id: &str) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let n = fill_commits(&mut tx, deployment_id).await?;
    tx.commit().await?;
    Ok(n)
}

/// After ingest committed events that still lack a commit: fills in those whose deployment
/// (linked to `project_id`) is known by now.
pub async fn after_ingest(
    pool: &PgPool,
    project_id: &str,
    deployment_ids: &[String],
) -> Result<u64, sqlx::Error> {
    let known: Vec<String> = sqlx::query_scalar(
        "select deployment_id from deployments
          where deployment_id = any($1) and project_id = $2 and commit_sha is not null",
    )
    .bind(deployment_ids)
    .bind(project_id)
    .fetch_all(pool)
    .await?;
    let mut n = 0;
    for d in known {
        n += fill_commits_now(pool, &d).await?;
    }
    Ok(n)
}

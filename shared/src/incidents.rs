//! The IDE's queries: a repo's incidents (optionally located as they were at a commit), one
//! incident with its recent events, and resolve/reopen. Reading needs read access on the repo,
//! resolving and reopening push (write) access.

mod error;
mod locate;
mod query;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::auth::{access, Auth, Caller};
use crate::domain::CommitSha;
use crate::domain::RepoFullName;
use crate::github::{Permission, RepoRef};
use crate::ingest::prepare::OutFrame;
use crate::linemap::LineState;
use crate::translate::{Locator, Relation, Translation};

pub use error::IncidentsError;
pub use query::ListQuery;

/// An incident as the IDE sees it: located at the commit asked for, else at its latest commit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Incident {
    pub incident_id: String,
    pub project_id: String,
    pub repo: String,
    pub status: String,
    pub level: String,
    pub error_type: Option<String>,
    pub error_message: String,
    pub file_path: Option<String>,
    pub line_number: Option<i32>,
    pub column_number: Option<i32>,
    pub function: Option<String>,
    pub frames: Vec<Frame>,
    pub commit_sha: Option<String>,
    pub environment: Option<String>,
    pub occurrence_count: i64,
    pub affected_users: i64,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub first_commit_sha: Option<String>,
    pub last_commit_sha: Option<String>,
    pub deployment_id: Option<String>,
    pub deployment_url: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// With `at`: the commit the location was recorded at (`file_path` … are translated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen_commit_sha: Option<String>,
    /// With `at`: the file as recorded, untranslated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen_file_path: Option<String>,
    /// With `at`: the line as recorded, untranslated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen_line_number: Option<i32>,
    /// With `at`: how `at` relates to `seen_commit_sha`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<Relation>,
    /// With `at`: how the incident's line fared between the two commits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_state: Option<LineState>,
}

/// A frame of an incident; with `at`, located there, with how its line fared.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Frame {
    #[serde(flatten)]
    pub frame: OutFrame,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_state: Option<LineState>,
}

/// One event of an incident.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecentEvent {
    pub event_id: String,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub commit_sha: Option<String>,
    pub deployment_id: Option<String>,
    pub environment: Option<String>,
    pub release: Option<String>,
}

/// A page of incidents.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page {
    pub incidents: Vec<Incident>,
    pub next_cursor: Option<String>,
    /// With `at`: how much of the page was translated, and why not all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation: Option<Translation>,
}

/// Columns of an incident, located at commit `c` (or at its latest commit), with counts that
/// include what is still pending fold-in.
const SELECT: &str = r#"
select i.incident_id, i.project_id, p.repo_owner, p.repo_name, i.status, i.level, i.error_type, i.error_message,
       coalesce(c.file_path, i.file_path) as file_path,
       case when c.incident_id is not null then c.line_number else i.line_number end as line_number,
       case when c.incident_id is not null then c.column_number else i.column_number end as column_number,
       coalesce(c.function, i.function) as function,
       -- The documents live beside the counted rows (migration 0011), read for this page only.
       coalesce(case when c.incident_id is not null
                     then (select f.frames from incident_commit_frames f
                            where f.incident_id = c.incident_id and f.commit_sha = c.commit_sha)
                     else (select d.frames from incident_details d where d.incident_id = i.incident_id) end,
                '[]'::jsonb) as frames,
       coalesce(c.commit_sha, i.last_commit_sha, i.commit_sha) as commit_sha,
       i.environment, i.first_seen_at, i.first_commit_sha, i.last_commit_sha, i.deployment_id, d.url as deployment_url,
       i.resolved_at, i.affected_users,
       i.occurrence_count + coalesce(pend.n, 0) as occurrence_count,
       greatest(i.last_seen_at, pend.last_seen) as last_seen_at,
       sort_ts
  from incidents i
  join projects p on p.project_id = i.project_id
"#;

const PENDING: &str = r#"
  left join (select e.incident_id, sum(e.n) as n, max(b.seen_at) as last_seen
               from incident_counts_batches b, unnest(b.incident_ids, b.counts) as e(incident_id, n)
              group by e.incident_id) pend on pend.incident_id = i.incident_id
  left join lateral (select url from deployments
                      where deployment_id = i.deployment_id and project_id = i.project_id
                      order by updated_at desc limit 1) d on true
"#;

/// The lists read folded counts only: adding what is pending would scan the whole queue on
/// every request. They fold first ([`crate::ingest::fold::fold_if_free`]), so they lag only by
/// a fold running elsewhere at that moment (a bound of about a second: folds are short, and
/// `cairn serve` folds every second).
const FOLDED: &str = r#"
  cross join lateral (select null::bigint as n, null::timestamptz as last_seen) pend
  left join lateral (select url from deployments
                      where deployment_id = i.deployment_id and project_id = i.project_id
                      order by updated_at desc limit 1) d on true
"#;

fn to_incident(r: &PgRow) -> Incident {
    let frames: serde_json::Value = r.get("frames");
    Incident {
        incident_id: r.get("incident_id"),
        project_id: r.get("project_id"),
        repo: format!(
            "{}/{}",
            r.get::<&str, _>("repo_owner"),
            r.get::<&str, _>("repo_name")
        ),
        status: r.get("status"),
        level: r.get("level"),
        error_type: r.get("error_type"),
        error_message: r.get("error_message"),
        file_path: r.get("file_path"),
        line_number: r.get("line_number"),
        column_number: r.get("column_number"),
        function: r.get("function"),
        frames: serde_json::from_value::<Vec<OutFrame>>(frames)
            .unwrap_or_default()
            .into_iter()
            .map(|frame| Frame {
                frame,
                line_state: None,
            })
            .collect(),
        commit_sha: r.get("commit_sha"),
        environment: r.get("environment"),
        occurrence_count: r.get("occurrence_count"),
        affected_users: r.get("affected_users"),
        first_seen_at: r.get("first_seen_at"),
        last_seen_at: r.get("last_seen_at"),
        first_commit_sha: r.get("first_commit_sha"),
        last_commit_sha: r.get("last_commit_sha"),
        deployment_id: r.get("deployment_id"),
        deployment_url: r.get::<Option<String>, _>("deployment_url").map(|u| {
            if u.starts_with("http") {
                u
            } else {
                format!("https://{u}")
            }
        }),
        resolved_at: r.get("resolved_at"),
        seen_commit_sha: None,
        seen_file_path: None,
        seen_line_number: None,
        relation: None,
        line_state: None,
    }
}

/// The join that picks the location an incident is shown at: its latest commit's, or with
/// `at=` (bound as `$n`) the one recorded at `at` itself when it was seen there.
fn seen_join(at: Option<&str>) -> String {
    match at {
        None => "left join incident_commits c on c.incident_id = i.incident_id and c.commit_sha = coalesce(i.last_commit_sha, i.commit_sha)".to_owned(),
        Some(n) => format!(
            "left join lateral (select c0.* from incident_commits c0
                                 where c0.incident_id = i.incident_id and c0.commit_sha in ({n}, coalesce(i.last_commit_sha, i.commit_sha))
                                 order by c0.commit_sha = {n} desc limit 1) c on true"
        ),
    }
}

/// The live project of the repo, if the caller may read it; the uniform 404 otherwise. GitHub is
/// asked first, so whether a repo has a project never changes the answer to a caller who may
/// not see it (nor to one whose token GitHub refuses). The project carries the repo's current
/// name, which may not be the one asked for (a renamed repo).
async fn readable_project(
    auth: &Auth,
    caller: &Caller,
    repo: &RepoFullName,
) -> Result<crate::projects::ProjectRow, IncidentsError> {
    let grant =
        access::require(auth, caller, RepoRef::Name(repo), Permission::Read, "repo").await?;
    let Some(project_id) = crate::projects::project_of(auth.pool(), repo, &grant).await? else {
        return Err(IncidentsError::RepoNotFound);
    };
    crate::projects::find(auth.pool(), &project_id)
        .await?
        .ok_or(IncidentsError::RepoNotFound)
}

/// `GET /v1/incidents`: newest activity first, keyset-paginated.
pub async fn list(
    auth: &Auth,
    locator: &Locator,
    caller: &Caller,
    q: &ListQuery,
) -> Result<Page, IncidentsError> {
    let project = readable_project(auth, caller, &q.repo).await?;
    let project_id = project.project_id;
    // Latest commits and activity come from folded counts: fold what is pending first (a no-op
    // when the queue is empty; skipped, never waited for, when another fold runs).
    crate::ingest::fold::fold_if_free(auth.pool()).await?;
    let (cursor_ts, cursor_id) = match &q.cursor {
        Some((ts, id)) => (Some(*ts), Some(id.clone())),
        None => (None, None),
    };
    // Keyset pagination follows an index (see migration 0004): the cursor condition is written
    // only when there is a cursor, so the first page's plan is a plain ordered index scan.
    let (sort, id) = match &q.commit {
        Some(_) => ("c.activity_at", "c.incident_id"),
        None => ("i.activity_at", "i.incident_id"),
    };
    let after = if q.cursor.is_some() {
        format!("({sort}, {id}) < ($5, $6)")
    } else {
        "$5::timestamptz is null and $6::text is null".to_owned()
    };
    let seen = seen_join(q.at.as_ref().map(|_| "$2"));
    let sql = match &q.commit {
        // At a commit: only incidents seen there, located as they were there. The project is
        // matched on `incident_commits` (migration 0005), so the page is one range of its index.
        Some(_) => format!(
            "{SELECT} join incident_commits c on c.incident_id = i.incident_id and c.commit_sha = $2
             cross join lateral (select c.activity_at as sort_ts) s {FOLDED}
             where c.project_id = $1 and i.status = $3
               and ($4::text is null or exists (select 1 from incident_environments e where e.incident_id = i.incident_id and e.environment = $4))
               and {after}
             order by {sort} desc, {id} desc limit $7"
        ),
        // With `at` (bound as $2), each incident is shown at `at` when it was seen there.
        None => format!(
            "{SELECT} {seen} cross join lateral (select i.activity_at as sort_ts) s {FOLDED}
             where i.project_id = $1 and ($2::text is null or true) and i.status = $3
               and ($4::text is null or exists (select 1 from incident_environments e where e.incident_id = i.incident_id and e.environment = $4))
               and {after}
             order by {sort} desc, {id} desc limit $7"
        ),
    };
    let rows = sqlx::query(&sql)
        .bind(&project_id)
        .bind(
            q.commit
                .as_ref()
                .or(q.at.as_ref())
                .map(|c| c.as_str().to_owned()),
        )
        .bind(&q.status)
        .bind(&q.environment)
        .bind(cursor_ts)
        .bind(cursor_id)
        .bind(q.limit + 1)
        .fetch_all(auth.pool())
        .await?;
    let more = rows.len() as i64 > q.limit;
    let rows = &rows[..rows.len().min(q.limit as usize)];
    let next_cursor = if more {
        rows.last()
            .map(|r| query::encode_cursor(r.get("sort_ts"), r.get::<&str, _>("incident_id")))
    } else {
        None
    };
    let mut incidents: Vec<Incident> = rows.iter().map(to_incident).collect();
    let translation = match &q.at {
        // The comparisons are asked for under the repo's current name: GitHub answers an old
        // one with a redirect.
        Some(at) => {
            Some(locate::at(auth, locator, caller, &project.repo, at, &mut incidents).await?)
        }
        None => None,
    };
    Ok(Page {
        incidents,
        next_cursor,
        translation,
    })
}

/// Loads one incident on whose repo the caller has `need` (the uniform 404 without any access).
async fn load(
    auth: &Auth,
    caller: &Caller,
    incident_id: &str,
    at: Option<&CommitSha>,
    need: Permission,
) -> Result<Incident, IncidentsError> {
    if incident_id.len() > 64 {
        return Err(IncidentsError::IncidentNotFound);
    }
    crate::ingest::fold::fold_if_free(auth.pool()).await?;
    let seen = seen_join(at.map(|_| "$2"));
    let sql = format!(
        "{SELECT} {seen} cross join lateral (select i.activity_at as sort_ts) s {PENDING}
         where i.incident_id = $1 and p.deleted_at is null and ($2::text is null or true)"
    );
    let row = sqlx::query(&sql)
        .bind(incident_id)
        .bind(at.map(|c| c.as_str().to_owned()))
        .fetch_optional(auth.pool())
        .await?
        .ok_or(IncidentsError::IncidentNotFound)?;
    let mut incident = to_incident(&row);
    let mut project = crate::projects::find(auth.pool(), &incident.project_id)
        .await?
        .ok_or(IncidentsError::IncidentNotFound)?;
    crate::projects::require(auth, caller, &mut project, need, "incident").await?;
    // The check may have learnt that the repo was renamed.
    incident.repo = project.repo.to_string();
    Ok(incident)
}

/// `GET /v1/incidents/{id}`: the incident and its latest events.
pub async fn get(
    auth: &Auth,
    locator: &Locator,
    caller: &Caller,
    incident_id: &str,
    at: Option<&CommitSha>,
) -> Result<(Incident, Vec<RecentEvent>, Option<Translation>), IncidentsError> {
    let mut incident = load(auth, caller, incident_id, at, Permission::Read).await?;
    let translation = match at {
        Some(at) => {
            let repo = RepoFullName::parse(&incident.repo).map_err(IncidentsError::StoredRepo)?;
            let located = std::slice::from_mut(&mut incident);
            Some(locate::at(auth, locator, caller, &repo, at, located).await?)
        }
        None => None,
    };
    let rows = sqlx::query(
        "select event_id, occurred_at, received_at, commit_sha, deployment_id, environment, release
           from incident_events where incident_id = $1 order by id desc limit 20",
    )
    .bind(incident_id)
    .fetch_all(auth.pool())
    .await?;
    let events = rows
        .iter()
        .map(|r| RecentEvent {
            event_id: r.get("event_id"),
            occurred_at: r.get("occurred_at"),
            received_at: r.get("received_at"),
            commit_sha: r.get("commit_sha"),
            deployment_id: r.get("deployment_id"),
            environment: r.get("environment"),
            release: r.get("release"),
        })
        .collect();
    Ok((incident, events, translation))
}

/// `PATCH /v1/incidents/{id}`: resolve or reopen (push access on the repo is needed).
pub async fn set_status(
    auth: &Auth,
    caller: &Caller,
    incident_id: &str,
    status: &str,
) -> Result<Incident, IncidentsError> {
    if !matches!(status, "open" | "resolved") {
        return Err(IncidentsError::InvalidStatus);
    }
    let incident = load(auth, caller, incident_id, None, Permission::Write).await?;
    if incident.status != status {
        let mut tx = auth.pool().begin().await?;
        sqlx::query(
            "update incidents set status = $2, resolved_at = case when $2 = 'resolved' then now() else null end
              where incident_id = $1",
        )
        .bind(incident_id)
        .bind(status)
        .execute(&mut *tx)
        .await?;
        let action = if status == "resolved" {
            "incident.resolved"
        } else {
            "incident.reopened"
        };
        crate::projects::audit(
            &mut tx,
            Some(&incident.project_id),
            Some(caller.user_id),
            action,
            Some(incident_id),
        )
        .await?;
        tx.commit().await?;
    }
    load(auth, caller, incident_id, None, Permission::Write).await
}

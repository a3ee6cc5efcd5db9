//! Group commit: requests that arrive while earlier ones are being written are stored together,
//! in one statement and one durable commit, and each is answered once that commit is done.
//!
//! There is no timer and no waiting for company: a request that finds a writer free is written
//! at once (alone, on a Lambda instance that serves one request at a time); requests that find
//! every writer busy queue, and the next free writer takes all of them (up to
//! [`MAX_GROUP_EVENTS`]). Under load, the cost of a statement and of a WAL flush is shared by
//! everything that queued behind the previous one. Nothing is acknowledged before its commit.
//!
//! A group is all or nothing, like each of its requests: a race with a concurrent statement
//! (`40001`) or a deadlock (`40P01`) retries the group; any other failure of a group of several
//! requests retries each request alone, so one bad request cannot fail the others.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::oneshot;

use super::error::{DbError, IngestError};
use super::prepare::Prepared;
use super::store::{self, Outcome, Row};

/// Most events written by one statement (a larger request is written alone).
pub const MAX_GROUP_EVENTS: usize = 500;
/// Attempts for a group that races concurrent statements.
const ATTEMPTS: u32 = 5;

/// One request's events, waiting to be written.
pub struct Job {
    pub key_id: String,
    pub project_id: String,
    pub events: Vec<Prepared>,
    /// One failed statement fails every job in it: the error is shared, not rebuilt.
    reply: oneshot::Sender<Result<Vec<Outcome>, DbError>>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Events in `queue`.
    queued: usize,
    writers: usize,
}

/// The group-commit queue of one instance.
pub struct GroupCommit {
    state: Arc<Mutex<State>>,
    max_writers: usize,
    id_salt: Arc<str>,
}

impl GroupCommit {
    /// A queue written by at most `max_writers` concurrent statements (each holds one pooled
    /// connection while it runs).
    /// `id_salt` is [`store::incident_id_salt`].
    pub fn new(max_writers: usize, id_salt: String) -> Self {
        Self {
            state: Arc::default(),
            max_writers: max_writers.max(1),
            id_salt: id_salt.into(),
        }
    }

    /// Writes `events` (all of key `key_id` of project `project_id`) and returns one outcome
    /// per event once they are committed.
    pub async fn write(
        &self,
        pool: &PgPool,
        key_id: &str,
        project_id: &str,
        events: Vec<Prepared>,
    ) -> Result<Vec<Outcome>, IngestError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            key_id: key_id.to_owned(),
            project_id: project_id.to_owned(),
            events,
            reply,
        };
        let start_writer = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.queued += job.events.len();
            st.queue.push_back(job);
            // One writer takes everything queued; another starts only when more is queued than
            // the running ones can take in one statement each. Fewer, larger statements share
            // their fixed cost and their commit among more events.
            let start = st.writers == 0
                || (st.writers < self.max_writers && st.queued > st.writers * MAX_GROUP_EVENTS);
            if start {
                st.writers += 1;
            }
            start
        };
        if start_writer {
            // A task of its own: a client hanging up must not cancel a write others wait on.
            tokio::spawn(writer(
                Arc::clone(&self.state),
                pool.clone(),
                Arc::clone(&self.id_salt),
            ));
        }
        match answer.await {
            Ok(written) => Ok(written?),
            Err(_) => Err(IngestError::WriterStopped),
        }
    }
}

/// Takes queued jobs until the queue is empty; the last act, under the lock, is to leave.
async fn writer(state: Arc<Mutex<State>>, pool: PgPool, salt: Arc<str>) {
    loop {
        let group = {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            let mut group = Vec::new();
            let mut events = 0;
            while let Some(n) = st.queue.front().map(|j| j.events.len()) {
                if !group.is_empty() && events + n > MAX_GROUP_EVENTS {
                    break;
                }
                events += n;
                st.queued -= n;
                group.extend(st.queue.pop_front());
            }
            if group.is_empty() {
                st.writers -= 1;
                return;
            }
            group
        };
        write_group(&pool, group, &salt).await;
    }
}

/// Writes a group and answers each of its jobs.
async fn write_group(pool: &PgPool, group: Vec<Job>, salt: &str) {
    let start = std::time::Instant::now();
    let result = attempt(pool, &group, salt).await;
    tracing::debug!(
        jobs = group.len(),
        events = group.iter().map(|j| j.events.len()).sum::<usize>(),
        micros = start.elapsed().as_micros() as u64,
        "ingest group written"
    );
    match result {
        Ok(mut per_job) => {
            for job in group.into_iter().rev() {
                let outcomes = per_job.pop().unwrap_or_default();
                let _ = job.reply.send(Ok(outcomes));
            }
        }
        Err(e) if group.len() > 1 && !crate::error::is_unavailable(&e) => {
            // Isolate the request that made the statement fail.
            for job in group {
                let one = [job];
                let result = attempt(pool, &one, salt).await;
                let [job] = one;
                let _ = job.reply.send(
                    result
                        .map(|mut v| v.pop().unwrap_or_default())
                        .map_err(DbError::from),
                );
            }
        }
        Err(e) => {
            let e = DbError::from(e);
            for job in group {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

/// Races (`40001`), deadlocks (`40P01`) and connections that died while idle are retried: a
/// retry is idempotent, as every event's id was fixed before the first attempt.
fn retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("40001" | "40P01"))
                // An event id stored by a concurrent statement (an SDK retry racing its
                // original): the retry's snapshot sees it, and answers it as a duplicate. And a
                // new incident created by a concurrent statement whose insert passed the
                // `(project_id, fingerprint)` check at the same moment as this one's: the
                // primary key (same derived id), not the `on conflict` target, caught it.
                || matches!(
                    db.constraint(),
                    Some("incident_events_project_id_event_id_key" | "incidents_pkey")
                )
        }
        sqlx::Error::Io(_) => true,
        _ => false,
    }
}

/// Runs the group's statement, retrying races; outcomes split per job.
async fn attempt(
    pool: &PgPool,
    group: &[Job],
    salt: &str,
) -> Result<Vec<Vec<Outcome>>, sqlx::Error> {
    let rows: Vec<Row<'_>> = group
        .iter()
        .flat_map(|j| {
            j.events.iter().map(|event| Row {
                key_id: &j.key_id,
                project_id: &j.project_id,
                event,
            })
        })
        .collect();
    let mut tries = 0;
    let outcomes = loop {
        let mut conn = pool.acquire().await?;
        match store::store(&mut conn, &rows, salt).await {
            Ok(o) => break o,
            Err(e) if retryable(&e) && tries + 1 < ATTEMPTS => {
                tries += 1;
                drop(conn);
                let jitter = u64::from(rand::random::<u8>() % 8);
                tokio::time::sleep(Duration::from_millis(u64::from(tries) * 2 + jitter)).await;
            }
            Err(e) => return Err(e),
        }
    };
    let mut it = outcomes.into_iter();
    Ok(group
        .iter()
        .map(|j| it.by_ref().take(j.events.len()).collect())
        .collect())
}

/// Concurrent ingest statements for a pool of `max_connections`: `configured` when set
/// (`CAIRN_INGEST_WRITERS`, a tuning knob for `cairn serve`), else half the pool, so reads,
/// folds and key lookups always find a connection.
pub fn writers(max_connections: u32, configured: usize) -> usize {
    if configured > 0 {
        return configured;
    }
    (max_connections as usize / 2).max(1)
}

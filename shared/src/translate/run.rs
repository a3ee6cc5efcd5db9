//! One translation: the subjects grouped by seen commit, the groups run a few at a time within
//! the deadline, and the outcome summed up in one [`Translation`].

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::cache::{self, Prefetched};
use super::pair::{self, Outcome};
use super::{Located, Position, Reason, Relation, Status, Subject, Translation, Translator};
use crate::domain::CommitSha;

/// Locates every subject at `t.at`. Only the database fails this (its error is returned);
/// whatever GitHub does is in the [`Translation`].
pub async fn locate(
    t: Arc<Translator>,
    subjects: &[Subject],
) -> Result<(Vec<Located>, Translation), sqlx::Error> {
    // The positions of each seen commit, in subject order.
    let mut groups: BTreeMap<&str, (&CommitSha, Vec<Position>)> = BTreeMap::new();
    for s in subjects {
        if let Some(seen) = &s.seen {
            let group = groups.entry(seen.as_str()).or_insert((seen, Vec::new()));
            group.1.extend(s.positions.iter().cloned());
        }
    }
    let seen: Vec<String> = groups.keys().map(|k| (*k).to_owned()).collect();
    let mut paths: Vec<String> = subjects
        .iter()
        .flat_map(|s| s.positions.iter().filter_map(|p| p.file_path.clone()))
        .collect();
    paths.sort_unstable();
    paths.dedup();
    let cached = if seen.is_empty() {
        Prefetched::default()
    } else {
        cache::prefetch(&t.pool, &t.repo, t.at.as_str(), &seen, paths).await?
    };
    let cached = Arc::new(cached);
    let mut outcomes = run(&t, &cached, groups).await?;
    let mut reasons: Vec<Reason> = Vec::new();
    let (mut translated, mut untranslated) = (0usize, 0usize);
    let mut located = Vec::with_capacity(subjects.len());
    for s in subjects {
        let Some(outcome) = s.seen.as_ref().and_then(|c| outcomes.get_mut(c.as_str())) else {
            untranslated += 1;
            reasons.push(Reason::NoSeenCommit);
            located.push(Located {
                relation: Relation::Unknown,
                positions: s.positions.iter().map(Position::unknown).collect(),
            });
            continue;
        };
        if outcome.relation == Relation::Unknown {
            untranslated += 1;
        } else {
            translated += 1;
        }
        let rest = outcome
            .placed
            .split_off(s.positions.len().min(outcome.placed.len()));
        let positions = std::mem::replace(&mut outcome.placed, rest);
        located.push(Located {
            relation: outcome.relation,
            positions,
        });
    }
    reasons.extend(
        outcomes
            .values()
            .filter_map(|o| o.failure.as_ref().map(|f| f.0)),
    );
    let reason = reasons.into_iter().min();
    let status = match (translated, untranslated, reason) {
        (_, 0, None) => Status::Complete,
        (0, n, _) if n > 0 => Status::None,
        _ => Status::Partial,
    };
    Ok((located, Translation { status, reason }))
}

/// Runs every group, at most `concurrency` at once; what the deadline cuts off comes back
/// untranslated with [`Reason::GithubTimeout`].
async fn run(
    t: &Arc<Translator>,
    cached: &Arc<Prefetched>,
    groups: BTreeMap<&str, (&CommitSha, Vec<Position>)>,
) -> Result<BTreeMap<String, Outcome>, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + t.limits.deadline;
    let permits = Arc::new(Semaphore::new(t.limits.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut waiting: BTreeMap<String, (CommitSha, Vec<Position>)> = BTreeMap::new();
    for (key, (seen, positions)) in groups {
        let (t, cached) = (Arc::clone(t), Arc::clone(cached));
        let (permits, seen) = (Arc::clone(&permits), seen.clone());
        waiting.insert(key.to_owned(), (seen.clone(), positions.clone()));
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = pair::locate(&t, &cached, &seen, &positions).await;
            (seen, outcome)
        });
    }
    let mut done = BTreeMap::new();
    while !waiting.is_empty() {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(Ok((seen, outcome)))) => {
                let outcome = outcome?;
                if let Some((reason, why)) = &outcome.failure {
                    log(t, &seen, *reason, why);
                }
                waiting.remove(seen.as_str());
                done.insert(seen.as_str().to_owned(), outcome);
            }
            // A task that panicked is left to the deadline's treatment below.
            Ok(Some(Err(_))) | Ok(None) | Err(_) => break,
        }
    }
    tasks.abort_all();
    for (key, (seen, positions)) in waiting {
        let why = format!("no answer within {:?}", t.limits.deadline);
        log(t, &seen, Reason::GithubTimeout, &why);
        done.insert(
            key,
            Outcome {
                relation: Relation::Unknown,
                placed: positions.iter().map(Position::unknown).collect(),
                failure: Some((Reason::GithubTimeout, why)),
            },
        );
    }
    Ok(done)
}

/// A translation that fell short is not an error of the request: one line, at warn for GitHub
/// trouble, at debug for what is expected (an unpushed commit).
fn log(t: &Translator, seen: &CommitSha, reason: Reason, why: &str) {
    let repo = t.repo.key();
    match reason {
        Reason::UnknownCommit | Reason::NoSeenCommit | Reason::TooManyFiles => {
            tracing::debug!(
                repo,
                seen = seen.as_str(),
                at = t.at.as_str(),
                ?reason,
                error = why,
                "line translation fell short"
            )
        }
        _ => {
            tracing::warn!(
                repo,
                seen = seen.as_str(),
                at = t.at.as_str(),
                ?reason,
                error = why,
                "line translation fell short"
            )
        }
    }
}

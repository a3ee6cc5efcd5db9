//! Locating the positions recorded at one seen commit at the IDE's commit: find how the two
//! commits relate (one or two comparisons, cached), then map each file's lines through them:
//! forward for `ahead`, backward for `behind`, backward to the merge base then forward for
//! `diverged`.

use std::collections::{HashMap, HashSet};

use super::cache::{self, FileRow, Prefetched, Side, Stored};
use super::github::{CommitsError, CompareStatus};
use super::{Placed, Position, Reason, Relation, Translator};
use crate::domain::CommitSha;
use crate::linemap::{FileChange, LineMapping, LineState};

/// What stopped a step: the database (fails the request) or GitHub (noted, never fatal).
pub(super) enum Failed {
    Db(sqlx::Error),
    GitHub(CommitsError),
}

impl From<sqlx::Error> for Failed {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl From<CommitsError> for Failed {
    fn from(e: CommitsError) -> Self {
        Self::GitHub(e)
    }
}

/// One comparison to map through, forward (merge base → head) or backward.
struct Half {
    comparison: Stored,
    backward: bool,
}

/// The positions of one seen commit, located at `at`, and what went wrong on the way.
pub(super) struct Outcome {
    pub relation: Relation,
    pub placed: Vec<Placed>,
    pub failure: Option<(Reason, String)>,
}

/// A position on its way through the halves.
struct Cursor {
    path: String,
    mapping: LineMapping,
}

/// Locates `positions` (recorded at `seen`) at the translator's commit; what `cached` holds is
/// not asked of the database again.
pub(super) async fn locate(
    t: &Translator,
    cached: &Prefetched,
    seen: &CommitSha,
    positions: &[Position],
) -> Result<Outcome, sqlx::Error> {
    let (relation, halves) = match route(t, cached, seen).await {
        Ok(route) => route,
        Err(Failed::Db(e)) => return Err(e),
        Err(Failed::GitHub(e)) => {
            return Ok(Outcome {
                relation: Relation::Unknown,
                placed: positions.iter().map(Position::unknown).collect(),
                failure: Some((Reason::from(&e), e.to_string())),
            })
        }
    };
    let mut cursors: Vec<Option<Cursor>> = positions.iter().map(Position::start).collect();
    let mut failure = None;
    let (mut fetches, mut capped) = (0usize, false);
    for half in &halves {
        // Each distinct path once per half; a file only needs fetching for in-app frames.
        let mut wanted: Vec<String> = Vec::new();
        let mut fetchable: HashSet<&str> = HashSet::new();
        for (cursor, position) in cursors.iter().zip(positions) {
            if let Some(c) = cursor.as_ref().filter(|c| c.mapping.line.is_some()) {
                if !wanted.contains(&c.path) {
                    wanted.push(c.path.clone());
                }
                if position.in_app {
                    fetchable.insert(c.path.as_str());
                }
            }
        }
        let fetchable: HashSet<String> = fetchable.into_iter().map(str::to_owned).collect();
        let budget = Budget {
            fetchable: &fetchable,
            fetches: &mut fetches,
            capped: &mut capped,
        };
        let changes = match changes(t, cached, half, &wanted, budget).await {
            Ok(c) => c,
            Err(Failed::Db(e)) => return Err(e),
            Err(Failed::GitHub(e)) => {
                failure = Some((Reason::from(&e), e.to_string()));
                HashMap::new()
            }
        };
        for cursor in cursors.iter_mut() {
            let Some(c) = cursor.as_mut().filter(|c| c.mapping.line.is_some()) else {
                continue;
            };
            match changes.get(&c.path) {
                Some(Some((path, change))) => {
                    c.mapping = c.mapping.then(change);
                    c.path.clone_from(path);
                }
                _ => *cursor = None,
            }
        }
    }
    if capped && failure.is_none() {
        let why = format!("more than {} files to fetch", t.limits.max_fetched_files);
        failure = Some((Reason::TooManyFiles, why));
    }
    let placed = cursors
        .into_iter()
        .zip(positions)
        .map(|(cursor, position)| match cursor {
            None => position.unknown(),
            Some(c) => position.place(c.path, c.mapping),
        })
        .collect();
    Ok(Outcome {
        relation,
        placed,
        failure,
    })
}

/// How `at` relates to `seen`, and the comparisons that lead from one to the other.
async fn route(
    t: &Translator,
    cached: &Prefetched,
    seen: &CommitSha,
) -> Result<(Relation, Vec<Half>), Failed> {
    if seen == &t.at {
        return Ok((Relation::Same, Vec::new()));
    }
    let there = comparison(t, cached, seen, &t.at).await?;
    let back = |c: Stored| Half {
        comparison: c,
        backward: true,
    };
    Ok(match there.status {
        CompareStatus::Identical => (Relation::Same, Vec::new()),
        CompareStatus::Ahead => (Relation::Ahead, vec![forward(there)]),
        CompareStatus::Behind => (
            Relation::Behind,
            vec![back(comparison(t, cached, &t.at, seen).await?)],
        ),
        CompareStatus::Diverged => {
            let first = back(comparison(t, cached, &t.at, seen).await?);
            (Relation::Diverged, vec![first, forward(there)])
        }
    })
}

fn forward(comparison: Stored) -> Half {
    Half {
        comparison,
        backward: false,
    }
}

/// `base...head`, from the cache or from GitHub (then cached).
async fn comparison(
    t: &Translator,
    cached: &Prefetched,
    base: &CommitSha,
    head: &CommitSha,
) -> Result<Stored, Failed> {
    let (b, h) = (base.as_str(), head.as_str());
    if let Some(stored) = cached.comparison(b, h) {
        return Ok(stored);
    }
    if let Some(stored) = cache::find(&t.pool, &t.repo, b, h).await? {
        return Ok(stored);
    }
    let fresh = t.commits.compare(&t.token, &t.repo, base, head).await?;
    Ok(cache::store(&t.pool, &t.repo, b, h, &fresh).await?)
}

/// Which files may be fetched, and how many were (per seen commit).
struct Budget<'a> {
    /// Paths of in-app positions: others are not worth two GitHub calls.
    fetchable: &'a HashSet<String>,
    fetches: &'a mut usize,
    /// Set when a fetchable file was skipped for the budget.
    capped: &'a mut bool,
}

/// For each wanted path (on the half's starting side), its path on the other side and the
/// change to map through, or `None` when it could not be had (not fetchable, or past the
/// fetch budget). A GitHub failure ends the half.
async fn changes(
    t: &Translator,
    cached: &Prefetched,
    half: &Half,
    wanted: &[String],
    budget: Budget<'_>,
) -> Result<HashMap<String, Option<(String, FileChange)>>, Failed> {
    let c = &half.comparison;
    let side = if half.backward { Side::New } else { Side::Old };
    let rows = match cached.files(c.id, wanted) {
        Some(rows) => rows,
        None => cache::files(&t.pool, c.id, side, wanted).await?,
    };
    let mut out = HashMap::new();
    for path in wanted {
        let key = |r: &&FileRow| match side {
            Side::Old => r.old_path.as_ref() == Some(path),
            Side::New => r.new_path.as_ref() == Some(path),
        };
        let row = match rows.iter().find(key) {
            Some(row) if row.change.is_some() => row.clone(),
            None if c.complete => FileRow {
                old_path: Some(path.clone()),
                new_path: Some(path.clone()),
                change: Some(FileChange::unchanged()),
            },
            listed => {
                let fetchable = budget.fetchable.contains(path);
                if !fetchable || *budget.fetches >= t.limits.max_fetched_files {
                    *budget.capped |= fetchable;
                    out.insert(path.clone(), None);
                    continue;
                }
                *budget.fetches += 1;
                let (old, new) = match listed {
                    Some(r) => (r.old_path.clone(), r.new_path.clone()),
                    None => (Some(path.clone()), Some(path.clone())),
                };
                match fetch(t, c, old, new).await? {
                    Some(row) => row,
                    None => {
                        out.insert(path.clone(), None);
                        continue;
                    }
                }
            }
        };
        out.insert(path.clone(), Some(across(&row, path, half.backward)));
    }
    Ok(out)
}

/// The path on the other side and the change in the direction of travel.
pub(super) fn across(row: &FileRow, path: &str, backward: bool) -> (String, FileChange) {
    let change = row.change.clone().unwrap_or_else(FileChange::unchanged);
    let (other, change) = if backward {
        (&row.old_path, change.inverse())
    } else {
        (&row.new_path, change)
    };
    (other.clone().unwrap_or_else(|| path.to_owned()), change)
}

/// Both versions of a file, diffed in-process and cached; `None` when it exists on neither
/// side (a path that is not the repo's).
async fn fetch(
    t: &Translator,
    c: &Stored,
    old_path: Option<String>,
    new_path: Option<String>,
) -> Result<Option<FileRow>, Failed> {
    let base = CommitSha::parse(&c.merge_base).map_err(|e| CommitsError::Unavailable(e.into()))?;
    let head = CommitSha::parse(&c.head).map_err(|e| CommitsError::Unavailable(e.into()))?;
    let old = match &old_path {
        Some(p) => t.commits.file_at(&t.token, &t.repo, &base, p).await?,
        None => None,
    };
    let new = match &new_path {
        Some(p) => t.commits.file_at(&t.token, &t.repo, &head, p).await?,
        None => None,
    };
    let change = match (&old, &new) {
        (Some(old), Some(new)) => FileChange::from_texts(old, new),
        (Some(_), None) => FileChange::Deleted,
        (None, Some(_)) => FileChange::Added,
        (None, None) => return Ok(None),
    };
    let row = FileRow {
        old_path: old_path.filter(|_| old.is_some()),
        new_path: new_path.filter(|_| new.is_some()),
        change: Some(change),
    };
    cache::learn(&t.pool, c.id, &row).await?;
    Ok(Some(row))
}

impl Position {
    /// The cursor a position starts as: `None` when it has no file or line to map.
    fn start(&self) -> Option<Cursor> {
        let (path, line) = (self.file_path.clone()?, self.line_number?);
        Some(Cursor {
            path,
            mapping: crate::linemap::map_through(&[], line),
        })
    }

    /// The position where it landed.
    fn place(&self, path: String, mapping: LineMapping) -> Placed {
        match mapping.state {
            LineState::Unknown => self.unknown(),
            LineState::FileDeleted => Placed {
                file_path: Some(path),
                line_number: None,
                column_number: None,
                line_state: LineState::FileDeleted,
            },
            _ => Placed {
                file_path: Some(path),
                line_number: mapping.line,
                column_number: mapping.column(self.column_number),
                line_state: mapping.state,
            },
        }
    }
}

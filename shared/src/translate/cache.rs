//! The PostgreSQL cache of comparisons (migration 0013): a comparison is stored once with
//! every file it lists, in one transaction, and files learned later by fetching their
//! contents are added to it. Nothing expires: commits are immutable.

use std::collections::{HashMap, HashSet};

use sqlx::{PgPool, Row};

use super::github::{CompareStatus, ComparedFile, Comparison};
use crate::domain::RepoFullName;
use crate::linemap::FileChange;

/// A stored comparison `base...head`: its files run from `merge_base` to `head`.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: i64,
    pub status: CompareStatus,
    pub merge_base: String,
    pub head: String,
    /// A file it does not list is unchanged (GitHub's file cap was not reached).
    pub complete: bool,
}

/// One file of a comparison: its path on each side (`None` where it does not exist) and how
/// its lines moved (`None`: GitHub gave no usable patch and the contents were not fetched yet).
#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    pub change: Option<FileChange>,
}

impl FileRow {
    /// What one entry of GitHub's `files` says. A patch that does not parse, or a file listed
    /// without one (binary, or past GitHub's diff limits), is left to be fetched.
    pub fn from_compared(file: &ComparedFile) -> Self {
        let name = Some(file.filename.clone());
        let patch = || {
            file.patch
                .as_deref()
                .and_then(|p| FileChange::from_patch(p).ok())
        };
        match file.status.as_str() {
            // A copy is a new file as far as its lines go; the original stays where it was.
            "added" | "copied" => Self::row(None, name, Some(FileChange::Added)),
            "removed" => Self::row(name, None, Some(FileChange::Deleted)),
            "unchanged" => Self::row(name.clone(), name, Some(FileChange::unchanged())),
            "renamed" => {
                let old = file.previous_filename.clone().or_else(|| name.clone());
                // A pure rename has no patch and nothing changed.
                let change = patch().or_else(|| (file.changes == 0).then(FileChange::unchanged));
                Self::row(old, name, change)
            }
            _ => Self::row(name.clone(), name, patch()),
        }
    }

    fn row(old: Option<String>, new: Option<String>, change: Option<FileChange>) -> Self {
        Self {
            old_path: old,
            new_path: new,
            change,
        }
    }
}

/// The comparison `base...head` of `repo`, if stored.
pub async fn find(
    pool: &PgPool,
    repo: &RepoFullName,
    base: &str,
    head: &str,
) -> Result<Option<Stored>, sqlx::Error> {
    let row = sqlx::query(
        "select comparison_id, status, merge_base_sha, complete from comparisons
          where repo_full_name = $1 and base_sha = $2 and head_sha = $3",
    )
    .bind(repo.key())
    .bind(base)
    .bind(head)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Stored {
        id: r.get("comparison_id"),
        status: CompareStatus::parse(r.get("status")).unwrap_or(CompareStatus::Diverged),
        merge_base: r.get("merge_base_sha"),
        head: head.to_owned(),
        complete: r.get("complete"),
    }))
}

/// Stores a comparison GitHub gave with all its files, in one transaction; when another
/// request stored the same pair first, that one is returned.
pub async fn store(
    pool: &PgPool,
    repo: &RepoFullName,
    base: &str,
    head: &str,
    comparison: &Comparison,
) -> Result<Stored, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "insert into comparisons (repo_full_name, base_sha, head_sha, status, merge_base_sha, complete)
         values ($1, $2, $3, $4, $5, $6) on conflict do nothing returning comparison_id",
    )
    .bind(repo.key())
    .bind(base)
    .bind(head)
    .bind(comparison.status.as_str())
    .bind(&comparison.merge_base_commit)
    .bind(comparison.complete())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        tx.rollback().await?;
        return find(pool, repo, base, head)
            .await?
            .ok_or(sqlx::Error::RowNotFound);
    };
    let rows: Vec<FileRow> = comparison
        .files
        .iter()
        .map(FileRow::from_compared)
        .collect();
    let (mut old, mut new, mut change, mut source) = (vec![], vec![], vec![], vec![]);
    for row in rows {
        source.push(if row.change.is_some() {
            "patch"
        } else {
            "pending"
        });
        change.push(row.change.map(sqlx::types::Json));
        old.push(row.old_path);
        new.push(row.new_path);
    }
    // GitHub lists each path once per side; a malformed list must not fail the listing.
    sqlx::query(
        "insert into comparison_files (comparison_id, old_path, new_path, change, source)
         select $1, * from unnest($2::text[], $3::text[], $4::jsonb[], $5::text[])
         on conflict do nothing",
    )
    .bind(id)
    .bind(old)
    .bind(new)
    .bind(change)
    .bind(source)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Stored {
        id,
        status: comparison.status,
        merge_base: comparison.merge_base_commit.clone(),
        head: head.to_owned(),
        complete: comparison.complete(),
    })
}

/// What one query found of a translation's comparisons: each stored comparison between `at`
/// and a seen commit (either way round), with its files on the paths the positions start at.
/// A cached listing then costs one round trip instead of two per seen commit.
#[derive(Debug, Default)]
pub struct Prefetched {
    comparisons: HashMap<(String, String), Stored>,
    /// Rows per comparison id; every prefetched comparison has an entry (maybe empty).
    files: HashMap<i64, Vec<FileRow>>,
    /// The paths rows were looked up for (on either side).
    paths: HashSet<String>,
}

impl Prefetched {
    /// The stored comparison `base...head`, if it was found.
    pub fn comparison(&self, base: &str, head: &str) -> Option<Stored> {
        self.comparisons
            .get(&(base.to_owned(), head.to_owned()))
            .cloned()
    }

    /// The rows of comparison `id` on `paths`, when the prefetch covered all of them.
    pub fn files(&self, id: i64, paths: &[String]) -> Option<Vec<FileRow>> {
        let rows = self.files.get(&id)?;
        paths.iter().all(|p| self.paths.contains(p)).then(|| {
            rows.iter()
                .filter(|r| {
                    [&r.old_path, &r.new_path]
                        .into_iter()
                        .flatten()
                        .any(|p| paths.contains(p))
                })
                .cloned()
                .collect()
        })
    }
}

/// Every stored comparison of `repo` between `at` and one of `seen` (`seen...at` and
/// `at...seen`), with their files whose path on either side is one of `paths`: one query.
pub async fn prefetch(
    pool: &PgPool,
    repo: &RepoFullName,
    at: &str,
    seen: &[String],
    paths: Vec<String>,
) -> Result<Prefetched, sqlx::Error> {
    let rows = sqlx::query(
        "select c.comparison_id, c.base_sha, c.head_sha, c.status, c.merge_base_sha, c.complete,
                f.old_path, f.new_path, f.change, f.comparison_id is not null as has_file
           from comparisons c
           left join comparison_files f on f.comparison_id = c.comparison_id
                and (f.old_path = any($4) or f.new_path = any($4))
          where c.repo_full_name = $1
            and ((c.head_sha = $2 and c.base_sha = any($3)) or (c.base_sha = $2 and c.head_sha = any($3)))",
    )
    .bind(repo.key())
    .bind(at)
    .bind(seen)
    .bind(&paths)
    .fetch_all(pool)
    .await?;
    let mut out = Prefetched {
        paths: paths.into_iter().collect(),
        ..Prefetched::default()
    };
    for r in rows {
        let id: i64 = r.get("comparison_id");
        let (base, head): (String, String) = (r.get("base_sha"), r.get("head_sha"));
        out.comparisons
            .entry((base, head.clone()))
            .or_insert(Stored {
                id,
                status: CompareStatus::parse(r.get("status")).unwrap_or(CompareStatus::Diverged),
                merge_base: r.get("merge_base_sha"),
                head,
                complete: r.get("complete"),
            });
        let files = out.files.entry(id).or_default();
        if r.get("has_file") {
            files.push(file_row(&r));
        }
    }
    Ok(out)
}

fn file_row(r: &sqlx::postgres::PgRow) -> FileRow {
    FileRow {
        old_path: r.get("old_path"),
        new_path: r.get("new_path"),
        change: r
            .get::<Option<sqlx::types::Json<FileChange>>, _>("change")
            .map(|c| c.0),
    }
}

/// Which side of a comparison paths are looked up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Paths at the merge base (mapping forward).
    Old,
    /// Paths at the head (mapping backward).
    New,
}

/// The stored files of comparison `id` whose path on `side` is one of `paths`.
pub async fn files(
    pool: &PgPool,
    id: i64,
    side: Side,
    paths: &[String],
) -> Result<Vec<FileRow>, sqlx::Error> {
    let column = match side {
        Side::Old => "old_path",
        Side::New => "new_path",
    };
    let rows = sqlx::query(&format!(
        "select old_path, new_path, change from comparison_files
          where comparison_id = $1 and {column} = any($2)"
    ))
    .bind(id)
    .bind(paths)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(file_row).collect())
}

/// Records what fetching a file's two versions showed: fills in a pending row, or adds a row
/// for a file the comparison could not list.
pub async fn learn(pool: &PgPool, id: i64, row: &FileRow) -> Result<(), sqlx::Error> {
    let change = row.change.clone().map(sqlx::types::Json);
    let updated = sqlx::query(
        "update comparison_files set change = $4, source = 'contents'
          where comparison_id = $1 and old_path is not distinct from $2
            and new_path is not distinct from $3 and change is null",
    )
    .bind(id)
    .bind(&row.old_path)
    .bind(&row.new_path)
    .bind(&change)
    .execute(pool)
    .await?;
    if updated.rows_affected() == 0 {
        sqlx::query(
            "insert into comparison_files (comparison_id, old_path, new_path, change, source)
             values ($1, $2, $3, $4, 'contents') on conflict do nothing",
        )
        .bind(id)
        .bind(&row.old_path)
        .bind(&row.new_path)
        .bind(&change)
        .execute(pool)
        .await?;
    }
    Ok(())
}

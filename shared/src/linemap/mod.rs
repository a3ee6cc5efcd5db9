//! Translating a line number from one commit to another through the diff between them (issue 20):
//! pure functions, no I/O.
//!
//! A file's diff is kept as a list of [`Hunk`]s *without context* (what `git diff -U0` prints):
//! each one says "these old lines became those new lines". Context lines carry nothing the
//! numbers don't, and without them inverting a diff is swapping sides and composing two diffs
//! is mapping through one and then the other, both exact. The hunks come from a patch as
//! GitHub's compare API returns it per file ([`parse_patch`]) or, when GitHub gives none, from
//! both versions of the file ([`diff_texts`]).
//!
//! The rules of [`map_line`], for a line `L` of the old file:
//! - outside every hunk: [`LineState::Unchanged`], `L` shifted by the lines the hunks above it
//!   added and removed; the new line holds the same text;
//! - inside a hunk that has new lines: [`LineState::Changed`], the new line at the same offset
//!   in the hunk (the last new line when the hunk lost lines);
//! - inside a hunk with no new lines: [`LineState::Deleted`], the surviving line just above the
//!   gap (line 1 when the deletion starts the file). Above rather than below because the line
//!   below may not exist (a deletion at the end of the file) and a `-U0` patch doesn't say.
//!
//! A column means something only on the very same text, so [`LineMapping::column`] keeps it
//! for unchanged lines alone. Renames are the caller's: a renamed file's hunks map its lines
//! and the caller reports the new path.

mod fallback;
mod patch;

use serde::{Deserialize, Serialize};

pub use fallback::diff_texts;
pub use patch::{parse_patch, PatchError};

/// How a line fared between two commits, from best to worst: composing two mappings keeps the
/// worse one (`max`). Serialised as `unchanged`, `changed`, `deleted`, `file_deleted`, `unknown`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LineState {
    /// Same text, maybe at another number.
    Unchanged,
    /// The line was edited; the number is the edited line's.
    Changed,
    /// The line is gone; the number is the nearest surviving line's (the one above the gap).
    Deleted,
    /// The whole file is gone; no number.
    FileDeleted,
    /// No diff could be had (or the line number was 0); no translation.
    Unknown,
}

impl LineState {
    /// The serialised name, for text columns and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Changed => "changed",
            Self::Deleted => "deleted",
            Self::FileDeleted => "file_deleted",
            Self::Unknown => "unknown",
        }
    }
}

/// Where a line landed: its 1-based number at the new commit (`None` for `file_deleted` and
/// `unknown`) and how it fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineMapping {
    pub line: Option<u32>,
    pub state: LineState,
}

impl LineMapping {
    /// Nothing known: the caller keeps the untranslated location.
    pub const UNKNOWN: Self = Self {
        line: None,
        state: LineState::Unknown,
    };
    /// The file does not exist at the new commit.
    pub const FILE_DELETED: Self = Self {
        line: None,
        state: LineState::FileDeleted,
    };

    fn at(line: i64, state: LineState) -> Self {
        // Well-formed hunks never go below line 1; clamp rather than wrap on a corrupt list.
        let line = u32::try_from(line.max(1)).unwrap_or(u32::MAX);
        Self {
            line: Some(line),
            state,
        }
    }

    /// The column to report with this line: kept only for an unchanged line, since on edited
    /// or surviving neighbour lines the old column points at unrelated text.
    pub fn column(&self, column: Option<u32>) -> Option<u32> {
        column.filter(|_| self.state == LineState::Unchanged)
    }

    /// Maps this result on through the next diff (composition): the worse state wins, and a
    /// result without a line (`file_deleted`, `unknown`) stays as it is.
    pub fn then(self, next: &FileChange) -> Self {
        let Some(line) = self.line else { return self };
        let mapped = next.map_line(line);
        Self {
            line: mapped.line,
            state: self.state.max(mapped.state),
        }
    }
}

/// A hunk without context lines: `old_len` lines of the old file starting at `old_start`
/// became `new_len` lines of the new file starting at `new_start`.
///
/// Numbers are 1-based. An empty side's start is the number of the line that *follows* the
/// gap, unlike git's header, which names the line before it: git's `@@ -5,0 +6,2 @@` (two
/// lines inserted after old line 5) is `Hunk { old_start: 6, old_len: 0, new_start: 6,
/// new_len: 2 }`. Lists of hunks are sorted and do not overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hunk {
    pub old_start: u32,
    pub old_len: u32,
    pub new_start: u32,
    pub new_len: u32,
}

impl Hunk {
    /// The same hunk seen from the new file.
    pub fn inverse(&self) -> Self {
        Self {
            old_start: self.new_start,
            old_len: self.new_len,
            new_start: self.old_start,
            new_len: self.old_len,
        }
    }
}

/// What happened to one file between two commits (the shape cached per file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FileChange {
    /// The file exists on both sides (maybe renamed); no hunks means no line moved.
    Modified { hunks: Vec<Hunk> },
    /// The file does not exist at the old commit.
    Added,
    /// The file does not exist at the new commit.
    Deleted,
}

impl FileChange {
    /// A file the diff doesn't list: every line stays where it is.
    pub fn unchanged() -> Self {
        Self::Modified { hunks: Vec::new() }
    }

    /// The change one GitHub patch describes (see [`parse_patch`]).
    pub fn from_patch(patch: &str) -> Result<Self, PatchError> {
        Ok(Self::Modified {
            hunks: parse_patch(patch)?,
        })
    }

    /// The change between two full versions of the file (see [`diff_texts`]).
    pub fn from_texts(old: &str, new: &str) -> Self {
        Self::Modified {
            hunks: diff_texts(old, new),
        }
    }

    /// Where old line `line` is in the new file. A line "of" an added file cannot exist, so it
    /// maps to `unknown`.
    pub fn map_line(&self, line: u32) -> LineMapping {
        match self {
            Self::Modified { hunks } => map_line(hunks, line),
            Self::Added => LineMapping::UNKNOWN,
            Self::Deleted => LineMapping::FILE_DELETED,
        }
    }

    /// The change from the new commit back to the old one (for a commit *behind*).
    pub fn inverse(&self) -> Self {
        match self {
            Self::Modified { hunks } => Self::Modified {
                hunks: invert(hunks),
            },
            Self::Added => Self::Deleted,
            Self::Deleted => Self::Added,
        }
    }
}

/// Where old line `line` (1-based) is in the new file, given the file's sorted hunks; line 0
/// maps to `unknown`. The rules are in the module's documentation.
pub fn map_line(hunks: &[Hunk], line: u32) -> LineMapping {
    if line == 0 {
        return LineMapping::UNKNOWN;
    }
    // Below the last hunk passed, old and new lines are offset by that hunk's end difference.
    let mut delta = 0i64;
    for hunk in hunks {
        if line < hunk.old_start {
            break;
        }
        let offset = line - hunk.old_start;
        if offset < hunk.old_len {
            let new_start = i64::from(hunk.new_start);
            return if hunk.new_len > 0 {
                let offset = offset.min(hunk.new_len - 1);
                LineMapping::at(new_start + i64::from(offset), LineState::Changed)
            } else {
                LineMapping::at(new_start - 1, LineState::Deleted)
            };
        }
        delta = i64::from(hunk.new_start) + i64::from(hunk.new_len)
            - i64::from(hunk.old_start)
            - i64::from(hunk.old_len);
    }
    LineMapping::at(i64::from(line) + delta, LineState::Unchanged)
}

/// The hunks from the new file back to the old one: each hunk with its sides swapped.
pub fn invert(hunks: &[Hunk]) -> Vec<Hunk> {
    hunks.iter().map(Hunk::inverse).collect()
}

/// Maps `line` through several diffs in turn, e.g. for diverged histories
/// `[from_base_to_merge_base, from_merge_base_to_head]` where the first is the inverse of
/// GitHub's `merge_base → base` patch. An empty list maps every line to itself.
pub fn map_through(changes: &[FileChange], line: u32) -> LineMapping {
    let start = if line == 0 {
        LineMapping::UNKNOWN
    } else {
        LineMapping::at(i64::from(line), LineState::Unchanged)
    };
    changes.iter().fold(start, LineMapping::then)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors_tests;

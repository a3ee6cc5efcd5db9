//! Incidents located at the IDE's commit (issue 20): each incident's location and frames,
//! recorded at the commit it was seen at, are carried to the commit `at` through the diffs
//! GitHub's compare API gives (cached forever in PostgreSQL), with [`crate::linemap`] doing
//! the line arithmetic.
//!
//! Incidents are grouped by seen commit, so one comparison serves every incident of a pair;
//! groups run concurrently (a few at a time) within one deadline. GitHub failing, slow,
//! rate-limiting or not knowing a commit never fails the caller: the affected incidents come
//! back untranslated (`relation` and `line_state` `unknown`) and [`Translation`] says why, once.

mod cache;
mod github;
mod octocrab;
mod pair;
mod run;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use sqlx::PgPool;

pub use github::{Commits, CommitsError, CompareStatus, ComparedFile, Comparison};
pub use octocrab::{CallLimits, OctocrabCommits};
pub use run::locate;

use crate::domain::{CommitSha, RepoFullName};
use crate::linemap::LineState;

/// How the IDE's commit relates to the commit an incident was seen at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The very commit.
    Same,
    /// `at` descends from the seen commit.
    Ahead,
    /// `at` is an ancestor of the seen commit.
    Behind,
    /// Neither descends from the other.
    Diverged,
    /// Not known (no seen commit, or GitHub gave no answer): nothing translated.
    Unknown,
}

/// Why some or all incidents were not translated, most pressing first (the response names one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// GitHub's rate limit for the caller's token is reached.
    RateLimited,
    /// GitHub refused the caller's token for this repo.
    GithubRefused,
    /// GitHub does not know `at` (or a seen commit): not pushed yet.
    UnknownCommit,
    /// GitHub did not answer within the time budget.
    GithubTimeout,
    /// GitHub failed (5xx, connection, unexpected answer).
    GithubUnavailable,
    /// An answer was larger than cairn reads.
    TooLarge,
    /// More files needed fetching than one request may fetch.
    TooManyFiles,
    /// Some incidents carry no commit to translate from.
    NoSeenCommit,
}

impl From<&CommitsError> for Reason {
    fn from(e: &CommitsError) -> Self {
        match e {
            CommitsError::RateLimited { .. } => Self::RateLimited,
            CommitsError::UnknownCommit => Self::UnknownCommit,
            CommitsError::Timeout(_) => Self::GithubTimeout,
            CommitsError::TooLarge(_) => Self::TooLarge,
            CommitsError::Refused(_) => Self::GithubRefused,
            CommitsError::Unavailable(_) => Self::GithubUnavailable,
        }
    }
}

/// How much of a response was translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Complete,
    Partial,
    None,
}

/// Said once beside the incidents: `{"status": "partial", "reason": "rate_limited"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Translation {
    pub status: Status,
    pub reason: Option<Reason>,
}

/// A location as recorded at the seen commit (an incident's, or one of its frames).
#[derive(Debug, Clone, Default)]
pub struct Position {
    pub file_path: Option<String>,
    pub line_number: Option<u32>,
    pub column_number: Option<u32>,
    /// Only in-app files are worth fetching when GitHub gives no diff for them.
    pub in_app: bool,
}

/// A location at `at`. For `unknown` it is the seen location, untouched; for `file_deleted`
/// the file's last path, without a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub file_path: Option<String>,
    pub line_number: Option<u32>,
    pub column_number: Option<u32>,
    pub line_state: LineState,
}

impl Position {
    /// This position, untranslated.
    fn unknown(&self) -> Placed {
        Placed {
            file_path: self.file_path.clone(),
            line_number: self.line_number,
            column_number: self.column_number,
            line_state: LineState::Unknown,
        }
    }
}

/// One incident to locate: the commit its positions were recorded at, and the positions.
#[derive(Debug, Clone)]
pub struct Subject {
    pub seen: Option<CommitSha>,
    pub positions: Vec<Position>,
}

/// A located incident: the relation of `at` to its seen commit, and its positions in order.
#[derive(Debug, Clone)]
pub struct Located {
    pub relation: Relation,
    pub positions: Vec<Placed>,
}

/// Bounds on one translation (on top of each call's [`CallLimits`]).
#[derive(Debug, Clone)]
pub struct Limits {
    /// After this, groups still waiting on GitHub come back untranslated.
    pub deadline: Duration,
    /// Seen commits translated at once.
    pub concurrency: usize,
    /// Files fetched (two calls each) per seen commit when GitHub gives no patch.
    pub max_fetched_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_millis(3000),
            concurrency: 4,
            max_fetched_files: 8,
        }
    }
}

/// What a function builds once to translate lines: the GitHub client and the bounds.
#[derive(Clone)]
pub struct Locator {
    pub commits: Arc<dyn Commits>,
    pub limits: Limits,
}

impl Locator {
    /// octocrab against `api_url` (`GITHUB_API_URL`), with the default bounds.
    pub fn new(api_url: &str) -> Self {
        Self {
            commits: Arc::new(OctocrabCommits::new(api_url, CallLimits::default())),
            limits: Limits::default(),
        }
    }

    /// One translation for the caller's token, in `repo`, to commit `at`.
    pub fn at(
        &self,
        pool: PgPool,
        token: SecretString,
        repo: RepoFullName,
        at: CommitSha,
    ) -> Arc<Translator> {
        Arc::new(Translator {
            commits: Arc::clone(&self.commits),
            pool,
            token,
            repo,
            at,
            limits: self.limits.clone(),
        })
    }
}

/// Everything one translation needs: the caller's token, the repo and the IDE's commit.
pub struct Translator {
    pub commits: Arc<dyn Commits>,
    pub pool: PgPool,
    pub token: SecretString,
    pub repo: RepoFullName,
    pub at: CommitSha,
    pub limits: Limits,
}

#[cfg(test)]
mod tests;

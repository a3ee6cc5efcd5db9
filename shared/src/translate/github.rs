//! What line translation asks of GitHub, behind a small trait: one comparison of two commits
//! and one file at a commit. The real implementation ([`super::OctocrabCommits`]) calls the REST
//! API with the caller's token; tests aim it at a fake on loopback.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::{CommitSha, RepoFullName};

/// How the head of a comparison relates to its base (GitHub's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareStatus {
    /// The base is an ancestor of the head.
    Ahead,
    /// The head is an ancestor of the base (the files list is then empty).
    Behind,
    /// Neither is an ancestor of the other; the files run from their merge base to the head.
    Diverged,
    /// The same commit.
    Identical,
}

impl CompareStatus {
    /// The serialised name, for the cache's text column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ahead => "ahead",
            Self::Behind => "behind",
            Self::Diverged => "diverged",
            Self::Identical => "identical",
        }
    }

    /// Reads [`Self::as_str`] back.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ahead" => Self::Ahead,
            "behind" => Self::Behind,
            "diverged" => Self::Diverged,
            "identical" => Self::Identical,
            _ => return None,
        })
    }
}

/// One entry of a comparison's `files`, reduced to what translation reads.
#[derive(Debug, Clone, Deserialize)]
pub struct ComparedFile {
    /// The path at the head.
    pub filename: String,
    /// The path at the merge base, for `renamed` and `copied` files.
    #[serde(default)]
    pub previous_filename: Option<String>,
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed` or `unchanged`.
    pub status: String,
    /// Lines added plus lines removed.
    #[serde(default)]
    pub changes: u64,
    /// The unified diff's hunks; absent for binary files and once GitHub's diff limits are hit.
    #[serde(default)]
    pub patch: Option<String>,
}

/// A three-dot comparison `base...head`: the files describe `merge_base → head`.
#[derive(Debug, Clone, Deserialize)]
pub struct Comparison {
    pub status: CompareStatus,
    #[serde(deserialize_with = "commit_sha")]
    pub merge_base_commit: String,
    #[serde(default)]
    pub files: Vec<ComparedFile>,
}

impl Comparison {
    /// GitHub lists at most this many files for a whole comparison, with no flag saying it
    /// stopped: a list this long may be missing files.
    pub const FILE_CAP: usize = 300;

    /// Whether a file missing from `files` is known to be unchanged.
    pub fn complete(&self) -> bool {
        self.files.len() < Self::FILE_CAP
    }
}

/// `merge_base_commit` is a whole commit object; only its `sha` is kept.
fn commit_sha<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    struct Commit {
        sha: String,
    }
    let commit = Commit::deserialize(d)?;
    CommitSha::parse(&commit.sha)
        .map(|c| c.as_str().to_owned())
        .map_err(serde::de::Error::custom)
}

/// Why GitHub gave no answer. None of these fails a listing: each becomes a
/// [`super::Reason`] beside the incidents.
#[derive(Debug, thiserror::Error)]
pub enum CommitsError {
    /// 403 or 429 with `x-ratelimit-remaining: 0` or a `retry-after`.
    #[error("github's rate limit is reached")]
    RateLimited { retry_after: Option<Duration> },
    /// 404 or 422 on a comparison: a commit GitHub does not have (an unpushed one).
    #[error("github does not know the commit")]
    UnknownCommit,
    /// No complete answer within the call's time budget.
    #[error("github did not answer within {0:?}")]
    Timeout(Duration),
    /// The answer is larger than cairn reads.
    #[error("github's answer is larger than {0} bytes")]
    TooLarge(usize),
    /// 401, or 403 without a rate limit: the token may not read this.
    #[error("github refused the token (status {0})")]
    Refused(u16),
    /// Anything else: a 5xx, a connection failure, an answer that is not what GitHub documents.
    #[error("github is unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// The GitHub calls line translation makes, with the caller's token.
#[async_trait]
pub trait Commits: Send + Sync {
    /// `GET /repos/{owner}/{repo}/compare/{base}...{head}`.
    async fn compare(
        &self,
        token: &SecretString,
        repo: &RepoFullName,
        base: &CommitSha,
        head: &CommitSha,
    ) -> Result<Comparison, CommitsError>;

    /// The text of `path` at `commit` (`None`: no such file there).
    async fn file_at(
        &self,
        token: &SecretString,
        repo: &RepoFullName,
        commit: &CommitSha,
        path: &str,
    ) -> Result<Option<String>, CommitsError>;
}

//! Real git repositories for tests: a temporary repository to write, commit and branch in,
//! and the line that holds a given text at a commit (what a translated line is checked against).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A git repository in a temporary directory.
pub struct GitRepo {
    pub dir: PathBuf,
}

impl GitRepo {
    /// An empty repository on branch `main`.
    pub fn init() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "cairn-git-{}",
            shared::crypto::random_alphanumeric(10)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let repo = Self { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "dev@example.com"]);
        repo.git(&["config", "user.name", "Dev"]);
        repo
    }

    /// Runs git in the repository; its standard output.
    pub fn git(&self, args: &[&str]) -> String {
        let out = git_in(&self.dir, args);
        assert!(out.0, "git {args:?} failed: {}", out.1);
        out.1
    }

    /// Writes a file of the work tree.
    pub fn write(&self, path: &str, text: &str) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// A file of the work tree.
    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.join(path)).unwrap()
    }

    /// Commits everything in the work tree; the new commit's SHA.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// Checks out `rev` (a branch, or a new branch `-b name` at `rev` when `new` is set).
    pub fn checkout(&self, rev: &str, new: Option<&str>) {
        match new {
            Some(name) => self.git(&["checkout", "-q", "-b", name, rev]),
            None => self.git(&["checkout", "-q", rev]),
        };
    }

    /// The 1-based number of the only line of `path` at `commit` that contains `needle`.
    pub fn line_of(&self, commit: &str, path: &str, needle: &str) -> u32 {
        let text = self.git(&["show", &format!("{commit}:{path}")]);
        let hits: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(needle))
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(hits.len(), 1, "{needle:?} in {path} at {commit}: {hits:?}");
        hits[0] as u32
    }
}

impl Drop for GitRepo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs git in `dir`: whether it succeeded, and its output (standard error on failure).
pub fn git_in(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    let text = if out.status.success() {
        out.stdout
    } else {
        out.stderr
    };
    (
        out.status.success(),
        String::from_utf8_lossy(&text).into_owned(),
    )
}

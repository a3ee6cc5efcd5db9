//! The checkout `cairn incidents` runs in, asked of `git` itself: its root, the GitHub repo of
//! its `origin` remote (https and ssh forms), and the commit a revision names.

use std::path::PathBuf;
use std::process::Command;

/// Why the checkout could not tell cairn what it needs.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    #[error("git is not installed (or not on PATH)")]
    NoGit,
    #[error("not a git checkout: run cairn incidents inside a clone of a GitHub repository, or pass --repo owner/name")]
    NotACheckout,
    #[error("this checkout has no origin remote: add one (git remote add origin …) or pass --repo owner/name")]
    NoOrigin,
    #[error("origin is not a GitHub repository ({0}): pass --repo owner/name")]
    NotGitHub(String),
    #[error("git cannot resolve {rev:?} to a commit{}", if *.no_commits { " (this checkout has no commits yet)" } else { "" })]
    UnknownRevision { rev: String, no_commits: bool },
}

/// Runs `git args…` in the working directory; its trimmed standard output, or `None` when it
/// failed.
fn git(args: &[&str]) -> Result<Option<String>, GitError> {
    let out = Command::new("git")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|_| GitError::NoGit)?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()))
}

/// The root folder of the checkout the working directory is in.
pub fn toplevel() -> Result<PathBuf, GitError> {
    git(&["rev-parse", "--show-toplevel"])?
        .filter(|t| !t.is_empty())
        .map(PathBuf::from)
        .ok_or(GitError::NotACheckout)
}

/// `owner/name` of the `origin` remote.
pub fn origin_repo() -> Result<String, GitError> {
    toplevel()?;
    let url = git(&["remote", "get-url", "origin"])?.ok_or(GitError::NoOrigin)?;
    github_repo(&url).ok_or_else(|| GitError::NotGitHub(redact(&url)))
}

/// The full SHA of the commit `rev` names (`HEAD` by default).
pub fn commit(rev: &str) -> Result<String, GitError> {
    toplevel()?;
    match git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])? {
        Some(sha) if !sha.is_empty() => Ok(sha),
        _ => Err(GitError::UnknownRevision {
            rev: rev.to_owned(),
            no_commits: git(&["rev-parse", "--verify", "--quiet", "HEAD"])?.is_none(),
        }),
    }
}

/// `owner/name` of a GitHub remote URL: `https://github.com/o/n(.git)`, `git@github.com:o/n`,
/// `ssh://git@github.com(:22)/o/n`, `git://github.com/o/n`; `None` for any other host.
pub fn github_repo(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = if let Some((scheme, rest)) = url.split_once("://") {
        if !matches!(
            scheme,
            "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git"
        ) {
            return None;
        }
        let (host, path) = rest.split_once('/')?;
        let host = host.rsplit('@').next()?;
        let host = host.split(':').next()?;
        is_github(host).then_some(path)?
    } else {
        // scp-like: [user@]host:path
        let (host, path) = url.split_once(':')?;
        let host = host.rsplit('@').next()?;
        (is_github(host) && !host.contains('/')).then_some(path)?
    };
    let path = rest.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, name) = path.split_once('/')?;
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    (valid(owner) && valid(name)).then(|| format!("{owner}/{name}"))
}

fn is_github(host: &str) -> bool {
    matches!(
        host.to_ascii_lowercase().as_str(),
        "github.com" | "www.github.com" | "ssh.github.com"
    )
}

/// A remote URL without the credentials an https URL may carry.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, path)) if authority.contains('@') => {
                let host = authority.rsplit('@').next().unwrap_or_default();
                format!("{scheme}://…@{host}/{path}")
            }
            _ => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_remotes_in_every_form_name_their_repo() {
        for url in [
            "https://github.com/acme/checkout-api.git",
            "https://github.com/acme/checkout-api",
            "https://github.com/acme/checkout-api/",
            "https://x-access-token:ghs_1@github.com/acme/checkout-api.git",
            "git@github.com:acme/checkout-api.git",
            "git@github.com:acme/checkout-api",
            "ssh://git@github.com/acme/checkout-api.git",
            "ssh://git@ssh.github.com:443/acme/checkout-api.git",
            "git://github.com/acme/checkout-api.git",
            "  https://GitHub.com/acme/checkout-api.git\n",
        ] {
            assert_eq!(
                github_repo(url).as_deref(),
                Some("acme/checkout-api"),
                "{url}"
            );
        }
    }

    #[test]
    fn other_hosts_and_shapes_are_not_github() {
        for url in [
            "https://gitlab.com/acme/checkout-api.git",
            "git@gitlab.com:acme/checkout-api.git",
            "https://github.com.evil.example/acme/api",
            "/srv/git/checkout-api.git",
            "../checkout-api",
            "https://github.com/acme",
            "https://github.com/acme/api/tree/main",
            "file:///github.com/acme/api",
        ] {
            assert_eq!(github_repo(url), None, "{url}");
        }
    }

    #[test]
    fn credentials_in_a_remote_url_are_not_shown() {
        assert_eq!(
            redact("https://user:tok@gitlab.com/a/b.git"),
            "https://…@gitlab.com/a/b.git"
        );
        assert_eq!(redact("git@gitlab.com:a/b"), "git@gitlab.com:a/b");
    }
}

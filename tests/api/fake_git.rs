//! Real git repositories the tests commit to, served by the fake GitHub as GitHub documents
//! its compare API (`GET /repos/{o}/{r}/compare/{base}...{head}`: status, merge base, counts,
//! commits, and up to 300 files with `git diff`'s own patches) and its contents API
//! (`GET /repos/{o}/{r}/contents/{path}?ref=`, raw or base64 JSON), with settable latency and
//! failures (rate limited, 5xx, unknown commit).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{json, Value};

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

fn git_in(dir: &Path, args: &[&str]) -> (bool, String) {
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

/// How the fake answers the git routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 403 with `x-ratelimit-remaining: 0` (the primary rate limit).
    RateLimited,
    /// 429 with `retry-after` (a secondary rate limit).
    SecondaryRateLimit,
    /// 502 from every git route.
    ServerError,
    /// Only the contents API fails (502): comparisons still work.
    ContentsError,
}

#[derive(Default)]
struct Inner {
    /// "owner/name" (lowercase) → repository directory
    repos: HashMap<String, PathBuf>,
    latency: Duration,
    failure: Option<Failure>,
    /// "compare" or "contents", per request answered
    calls: Vec<String>,
}

/// The git routes of the fake GitHub (a handle: clones share the settings).
#[derive(Clone, Default)]
pub struct Served(Arc<Mutex<Inner>>);

impl Served {
    /// Serves `repo` as `name` ("owner/name").
    pub fn serve(&self, name: &str, repo: &GitRepo) {
        let mut inner = self.0.lock().unwrap();
        inner
            .repos
            .insert(name.to_ascii_lowercase(), repo.dir.clone());
    }

    /// Every git route waits this long before answering.
    pub fn set_latency(&self, latency: Duration) {
        self.0.lock().unwrap().latency = latency;
    }

    /// Every git route fails this way from now on (`None`: answers again).
    pub fn fail(&self, failure: Option<Failure>) {
        self.0.lock().unwrap().failure = failure;
    }

    /// How many `compare` or `contents` requests were answered.
    pub fn calls(&self, kind: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| *c == kind)
            .count()
    }

    /// The answer to a git route of a served repository; `None` for any other request.
    pub async fn answer(
        &self,
        method: &str,
        uri: &hyper::Uri,
        headers: &hyper::HeaderMap,
    ) -> Option<hyper::Response<Full<Bytes>>> {
        let rest = uri.path().strip_prefix("/repos/")?;
        let mut parts = rest.splitn(4, '/');
        let (owner, name, kind, tail) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if method != "GET" || !matches!(kind, "compare" | "contents") {
            return None;
        }
        let (dir, latency, failure) = {
            let mut inner = self.0.lock().unwrap();
            let dir = inner
                .repos
                .get(&format!("{owner}/{name}").to_ascii_lowercase())?
                .clone();
            inner.calls.push(kind.to_owned());
            (dir, inner.latency, inner.failure)
        };
        tokio::time::sleep(latency).await;
        if !headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer ") || v.starts_with("token "))
        {
            return Some(reply(401, json!({"message": "Requires authentication"})));
        }
        match failure {
            Some(Failure::RateLimited) => return Some(rate_limited()),
            Some(Failure::SecondaryRateLimit) => {
                let body = json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."});
                let mut r = reply(429, body);
                r.headers_mut().insert("retry-after", "60".parse().unwrap());
                return Some(r);
            }
            Some(Failure::ServerError) => {
                return Some(reply(502, json!({"message": "Server Error"})))
            }
            Some(Failure::ContentsError) if kind == "contents" => {
                return Some(reply(502, json!({"message": "Server Error"})))
            }
            _ => {}
        }
        let query: HashMap<String, String> =
            url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        let repo_url = format!("https://api.github.com/repos/{owner}/{name}");
        let raw = headers
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("raw"));
        let (tail, is_compare) = (tail.to_owned(), kind == "compare");
        let answer = tokio::task::spawn_blocking(move || match is_compare {
            true => compare(&dir, &repo_url, &tail, &query),
            false => contents(&dir, &repo_url, &tail, &query, raw),
        });
        Some(answer.await.unwrap())
    }
}

fn reply(status: u16, body: Value) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn not_found() -> hyper::Response<Full<Bytes>> {
    reply(
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/commits/commits#compare-two-commits", "status": "404"}),
    )
}

fn rate_limited() -> hyper::Response<Full<Bytes>> {
    let mut r = reply(
        403,
        json!({"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}),
    );
    let reset = chrono::Utc::now().timestamp() + 600;
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", "5000".parse().unwrap());
    h.insert("x-ratelimit-remaining", "0".parse().unwrap());
    h.insert("x-ratelimit-used", "5000".parse().unwrap());
    h.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
    r
}

/// The full SHA of `rev` if it names a commit of the repository.
fn commit_of(dir: &Path, rev: &str) -> Option<String> {
    let valid = !rev.is_empty() && rev.bytes().all(|b| b.is_ascii_hexdigit());
    let (ok, out) = git_in(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    );
    (valid && ok).then(|| out.trim().to_owned())
}

fn commit_json(dir: &Path, repo_url: &str, sha: &str) -> Value {
    let (_, out) = git_in(
        dir,
        &["show", "-s", "--format=%P%x00%an%x00%ae%x00%aI%x00%s", sha],
    );
    let f: Vec<&str> = out.trim_end_matches('\n').split('\0').collect();
    let parents: Vec<Value> = f[0]
        .split_whitespace()
        .map(|p| json!({"sha": p, "url": format!("{repo_url}/commits/{p}")}))
        .collect();
    let person = json!({"name": f[1], "email": f[2], "date": f[3]});
    json!({
        "sha": sha, "node_id": format!("C_{sha}"), "url": format!("{repo_url}/commits/{sha}"),
        "html_url": format!("https://github.com/{}/commit/{sha}", repo_url.trim_start_matches("https://api.github.com/repos/")),
        "commit": {"author": person, "committer": person, "message": f[4], "comment_count": 0},
        "author": null, "committer": null, "parents": parents
    })
}

/// GitHub lists at most this many files per comparison.
const FILE_CAP: usize = 300;

/// `compare/{base}...{head}`: the three-dot comparison, built from git.
fn compare(
    dir: &Path,
    repo_url: &str,
    basehead: &str,
    query: &HashMap<String, String>,
) -> hyper::Response<Full<Bytes>> {
    let Some((base, head)) = basehead.split_once("...") else {
        return not_found();
    };
    let (Some(base), Some(head)) = (commit_of(dir, base), commit_of(dir, head)) else {
        return not_found();
    };
    let (ok, mb) = git_in(dir, &["merge-base", &base, &head]);
    if !ok {
        return not_found(); // no common ancestor
    }
    let mb = mb.trim().to_owned();
    let count = |range: String| -> u64 {
        git_in(dir, &["rev-list", "--count", &range])
            .1
            .trim()
            .parse()
            .unwrap()
    };
    let ahead_by = count(format!("{mb}..{head}"));
    let behind_by = count(format!("{mb}..{base}"));
    let status = match (ahead_by, behind_by) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(250);
    let (_, log) = git_in(dir, &["rev-list", "--reverse", &format!("{mb}..{head}")]);
    let commits: Vec<Value> = log
        .lines()
        .take(per_page)
        .map(|c| commit_json(dir, repo_url, c))
        .collect();
    let mut files = changed_files(dir, repo_url, &mb, &head);
    files.truncate(FILE_CAP);
    let base_url = repo_url.replace("api.github.com/repos", "github.com");
    reply(
        200,
        json!({
            "url": format!("{repo_url}/compare/{base}...{head}"),
            "html_url": format!("{base_url}/compare/{base}...{head}"),
            "permalink_url": format!("{base_url}/compare/{base}...{head}"),
            "diff_url": format!("{base_url}/compare/{base}...{head}.diff"),
            "patch_url": format!("{base_url}/compare/{base}...{head}.patch"),
            "base_commit": commit_json(dir, repo_url, &base),
            "merge_base_commit": commit_json(dir, repo_url, &mb),
            "status": status,
            "ahead_by": ahead_by,
            "behind_by": behind_by,
            "total_commits": ahead_by,
            "commits": commits,
            "files": files,
        }),
    )
}

/// The files of `git diff -M mb head`, as GitHub lists them: status, counts, and the patch
/// (the hunks of git's own output) unless the file is binary or a pure rename.
fn changed_files(dir: &Path, repo_url: &str, mb: &str, head: &str) -> Vec<Value> {
    let (_, names) = git_in(dir, &["diff", "-M", "--name-status", "-z", mb, head]);
    let (_, numstat) = git_in(dir, &["diff", "-M", "--numstat", "-z", mb, head]);
    let (_, diff) = git_in(
        dir,
        &["diff", "-M", "--no-color", "--no-ext-diff", mb, head],
    );
    // One chunk per file, in the same order as the name list.
    let mut chunks: Vec<String> = Vec::new();
    for line in diff.split_inclusive('\n') {
        if line.starts_with("diff --git ") {
            chunks.push(String::new());
        }
        if let Some(c) = chunks.last_mut() {
            c.push_str(line);
        }
    }
    let mut names = names.split('\0').filter(|s| !s.is_empty());
    let mut stats = numstat.split('\0').filter(|s| !s.is_empty());
    let mut files = Vec::new();
    for chunk in chunks {
        let code = names.next().unwrap();
        let (status, previous, filename) = match &code[..1] {
            "R" => ("renamed", names.next(), names.next().unwrap()),
            "C" => ("copied", names.next(), names.next().unwrap()),
            "A" => ("added", None, names.next().unwrap()),
            "D" => ("removed", None, names.next().unwrap()),
            _ => ("modified", None, names.next().unwrap()),
        };
        let stat = stats.next().unwrap();
        if previous.is_some() {
            // -z numstat puts a rename's two paths after the counts.
            stats.next();
            stats.next();
        }
        let counts: Vec<u64> = stat
            .split('\t')
            .take(2)
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        let (additions, deletions) = (counts[0], counts[1]);
        let patch = chunk
            .find("\n@@ ")
            .map(|at| chunk[at + 1..].trim_end_matches('\n').to_owned());
        let blob = git_in(dir, &["rev-parse", &format!("{head}:{filename}")]).1;
        let mut file = json!({
            "sha": if status == "removed" { "0000000000000000000000000000000000000000".to_owned() } else { blob.trim().to_owned() },
            "filename": filename,
            "status": status,
            "additions": additions,
            "deletions": deletions,
            "changes": additions + deletions,
            "blob_url": format!("https://github.com/blob/{head}/{filename}"),
            "raw_url": format!("https://github.com/raw/{head}/{filename}"),
            "contents_url": format!("{repo_url}/contents/{filename}?ref={head}"),
        });
        if let Some(p) = patch {
            file["patch"] = json!(p);
        }
        if let Some(p) = previous {
            file["previous_filename"] = json!(p);
        }
        files.push(file);
    }
    files
}

/// `contents/{path}?ref=`: the raw file (`application/vnd.github.raw+json`) or GitHub's JSON
/// with the content in base64.
fn contents(
    dir: &Path,
    repo_url: &str,
    path: &str,
    query: &HashMap<String, String>,
    raw: bool,
) -> hyper::Response<Full<Bytes>> {
    let path = percent_decode(path);
    let Some(commit) = query.get("ref").and_then(|r| commit_of(dir, r)) else {
        return not_found();
    };
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["show", &format!("{commit}:{path}")])
        .output()
        .unwrap();
    if !out.status.success() {
        return not_found();
    }
    if raw {
        return hyper::Response::builder()
            .status(200)
            .header("content-type", "application/vnd.github.raw; charset=utf-8")
            .body(Full::new(Bytes::from(out.stdout)))
            .unwrap();
    }
    let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
    reply(
        200,
        json!({
            "type": "file", "encoding": "base64", "size": out.stdout.len(), "name": name, "path": path,
            "content": base64::engine::general_purpose::STANDARD.encode(&out.stdout),
            "url": format!("{repo_url}/contents/{path}?ref={commit}"),
        }),
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) if hex.iter().all(u8::is_ascii_hexdigit) => {
                out.push(u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap());
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

//! GitHub's JSON for a git repository, built with git itself: the compare API's answer
//! (three-dot: status, merge base, counts, commits, up to 300 files with git's own patches) and
//! the contents API's (raw, or base64 in JSON). The fake GitHub (`fake_git`) serves them.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use base64::Engine;
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{json, Value};

use crate::fake_git::{not_found, reply};
use crate::git_repo::git_in;

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
pub fn compare(
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
    // Every blob at head from one `git ls-tree` (one git run per file is seconds for 300).
    let (_, tree) = git_in(dir, &["ls-tree", "-r", "-z", head]);
    let blobs: HashMap<&str, String> = tree
        .split('\0')
        .filter_map(|entry| {
            let (meta, path) = entry.split_once('\t')?;
            Some((path, meta.split(' ').nth(2)?.to_owned()))
        })
        .collect();
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
        let blob = blobs.get(filename).map(String::as_str).unwrap_or_default();
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
pub fn contents(
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

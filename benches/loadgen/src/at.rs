//! The `at` scenario (issue 20's measurement): incidents located at the IDE's checkout.
//!
//! A real git repository is built here (50 handler files; five commits production ran, each
//! putting lines above every handler's throwing line; the IDE's HEAD one commit later; and a
//! chain of later commits for uncached listings). A fake GitHub on 127.0.0.1 answers the
//! compare API from `git diff` output computed up front, after a settable latency, and counts
//! its calls. Project `bench/at` gets 50 incidents, ten seen last at each of the five commits,
//! each on the line that holds its `throw` there.
//!
//! Measured: `?at=HEAD` once its comparisons are cached, against the same listing without
//! `at=` in the same run; and uncached listings (a new `at` each), with the GitHub calls each
//! made (one per distinct seen commit is the design) and their latency.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use sqlx::PgPool;

/// Incidents in the world, and commits they were last seen at.
pub const INCIDENTS: usize = 50;
pub const SEEN_COMMITS: usize = 5;
/// GitHub's id of `bench/at`.
const REPO_ID: i64 = 4243;
/// Lines each seen commit puts above every handler's `throw`.
const SHIFT: usize = 2;

/// The git history and what GitHub answers about it.
pub struct World {
    dir: PathBuf,
    /// The commits production ran, oldest first.
    pub seen: Vec<String>,
    /// The IDE's checkout.
    pub head: String,
    /// Later checkouts, one per uncached listing.
    pub fresh: Vec<String>,
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .context("running git")?;
    ensure!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

fn handler(g: usize, shifted: usize) -> String {
    let mut text = String::new();
    for k in 0..shifted {
        text.push_str(&format!("// release note {k}\n"));
    }
    text.push_str(&format!("export function handler{g}(req) {{\n"));
    for k in 0..18 {
        text.push_str(&format!("  const v{k} = req.body.items[{k}];\n"));
    }
    text.push_str(&format!("  throw new Error('handler {g} failed');\n}}\n"));
    text
}

impl World {
    /// Builds the repository with `fresh` later commits.
    pub fn build(fresh: usize) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("cairn-bench-git-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src/handlers"))?;
        git(&dir, &["init", "-q", "-b", "main"])?;
        let server: String = (1..=120).map(|k| format!("// server line {k}\n")).collect();
        std::fs::write(dir.join("src/server.js"), server)?;
        let commit = |dir: &Path, msg: &str| -> anyhow::Result<String> {
            git(dir, &["add", "-A"])?;
            git(dir, &["commit", "-q", "-m", msg])?;
            Ok(git(dir, &["rev-parse", "HEAD"])?.trim().to_owned())
        };
        let mut seen = Vec::new();
        for c in 0..=SEEN_COMMITS {
            for g in 0..INCIDENTS {
                std::fs::write(
                    dir.join(format!("src/handlers/h{g}.js")),
                    handler(g, c * SHIFT),
                )?;
            }
            let sha = commit(&dir, &format!("release {c}"))?;
            seen.push(sha);
        }
        let head = seen.pop().context("no head")?;
        let mut later = Vec::new();
        for i in 0..fresh {
            let path = dir.join("src/server.js");
            let mut text = std::fs::read_to_string(&path)?;
            text.insert_str(0, &format!("// later {i}\n"));
            std::fs::write(&path, text)?;
            later.push(commit(&dir, &format!("later {i}"))?);
        }
        Ok(Self {
            dir,
            seen,
            head,
            fresh: later,
        })
    }

    /// The line of incident `g`'s `throw` at `commit`, from git.
    pub fn throw_line(&self, g: usize, commit: &str) -> anyhow::Result<u32> {
        let text = git(
            &self.dir,
            &["show", &format!("{commit}:src/handlers/h{g}.js")],
        )?;
        let at = text
            .lines()
            .position(|l| l.contains("throw new Error"))
            .context("no throw")?;
        Ok(at as u32 + 1)
    }

    /// GitHub's compare answer for `base...head` (the fields cairn reads), from git.
    fn compare(&self, base: &str, head: &str) -> anyhow::Result<Value> {
        let mb = git(&self.dir, &["merge-base", base, head])?
            .trim()
            .to_owned();
        let count = |range: &str| -> anyhow::Result<u64> {
            Ok(git(&self.dir, &["rev-list", "--count", range])?
                .trim()
                .parse()?)
        };
        let (ahead, behind) = (
            count(&format!("{mb}..{head}"))?,
            count(&format!("{mb}..{base}"))?,
        );
        let status = match (ahead, behind) {
            (0, 0) => "identical",
            (_, 0) => "ahead",
            (0, _) => "behind",
            _ => "diverged",
        };
        // One `git diff` for the pair, cut into its files (GitHub's `patch` is a file's hunks).
        let diff = git(&self.dir, &["diff", "--no-color", &mb, head])?;
        let mut files = Vec::new();
        for chunk in diff.split("diff --git ").skip(1) {
            let name = chunk
                .lines()
                .find_map(|l| l.strip_prefix("+++ b/"))
                .context("a diff without a new path")?;
            let patch = chunk
                .find("\n@@ ")
                .map(|at| chunk[at + 1..].trim_end().to_owned());
            files.push(json!({"filename": name, "status": "modified", "patch": patch}));
        }
        Ok(json!({
            "status": status, "ahead_by": ahead, "behind_by": behind,
            "merge_base_commit": {"sha": mb}, "base_commit": {"sha": base}, "files": files
        }))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fake GitHub answering `GET /repos/bench/at/compare/{base}...{head}` for the world's pairs
/// (and the repository itself, for an access check), each after `latency`.
pub struct FakeGitHub {
    pub url: String,
    calls: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeGitHub {
    pub async fn start(world: &World, latency: Duration) -> anyhow::Result<Self> {
        let mut answers: HashMap<String, Bytes> = HashMap::new();
        for seen in &world.seen {
            for head in std::iter::once(&world.head).chain(&world.fresh) {
                let body = world.compare(seen, head)?.to_string();
                answers.insert(
                    format!("/repos/bench/at/compare/{seen}...{head}"),
                    Bytes::from(body),
                );
            }
        }
        answers.insert(
            "/repos/bench/at".into(),
            Bytes::from(
                json!({"id": REPO_ID, "full_name": "bench/at", "name": "at", "owner": {"login": "bench"}, "private": true,
                       "permissions": {"admin": false, "maintain": false, "push": false, "triage": false, "pull": true}})
                .to_string(),
            ),
        );
        let answers = Arc::new(answers);
        let calls = Arc::new(AtomicU64::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let counter = Arc::clone(&calls);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (answers, calls) = (Arc::clone(&answers), Arc::clone(&counter));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (answers, calls) = (Arc::clone(&answers), Arc::clone(&calls));
                            async move {
                                let found = answers.get(req.uri().path()).cloned();
                                if req.uri().path().contains("/compare/") {
                                    calls.fetch_add(1, Ordering::Relaxed);
                                }
                                tokio::time::sleep(latency).await;
                                let (status, body) = match found {
                                    Some(b) => (200, b),
                                    None => {
                                        (404, Bytes::from_static(br#"{"message":"Not Found"}"#))
                                    }
                                };
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json; charset=utf-8")
                                    .body(Full::new(body))
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { url, calls, task })
    }

    /// Compare calls answered so far.
    pub fn compare_calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Project `proj_bench_at` (repo `bench/at`) with the world's incidents, readable by the
/// query world's reader.
pub async fn seed(pool: &PgPool, world: &World) -> anyhow::Result<()> {
    sqlx::query(
        "insert into projects (project_id, owner_id, repo_owner, repo_name, repo_full_name, github_repo_id)
         select 'proj_bench_at', id, 'bench', 'at', 'bench/at', $1 from users where github_id = 424242",
    )
    .bind(REPO_ID)
    .execute(pool)
    .await?;
    for g in 0..INCIDENTS {
        let commit = &world.seen[g % SEEN_COMMITS];
        let line = world.throw_line(g, commit)?;
        let path = format!("src/handlers/h{g}.js");
        let frames = json!([
            {"file_path": path, "line_number": line, "column_number": 9, "function": format!("handler{g}"), "in_app": true},
            {"file_path": "src/server.js", "line_number": 88, "column_number": 12, "function": "processRequest", "in_app": true},
        ]);
        sqlx::query(
            "with inc as (
                 insert into incidents (incident_id, project_id, fingerprint, error_type, error_message,
                                        file_path, line_number, column_number, function, commit_sha, first_commit_sha,
                                        last_commit_sha, environment, status, occurrence_count, occurred_at, first_seen_at, last_seen_at)
                 values ('inc_at' || $1, 'proj_bench_at', 'at' || $1, 'Error', 'handler ' || $1 || ' failed',
                         $2, $3, 9, 'handler' || $1, $4, $4, $4, 'production', 'open', 1,
                         now() - interval '1 day', now() - interval '1 day', now() - ($1 || ' seconds')::interval)
                 returning incident_id)
             insert into incident_details (incident_id, frames) select incident_id, $5::jsonb from inc",
        )
        .bind(g as i32)
        .bind(&path)
        .bind(line as i32)
        .bind(commit)
        .bind(frames.to_string())
        .execute(pool)
        .await?;
    }
    sqlx::query(
        "insert into incident_environments (incident_id, environment)
         select 'inc_at' || g, 'production' from generate_series(0, $1 - 1) g",
    )
    .bind(INCIDENTS as i32)
    .execute(pool)
    .await?;
    fresh_access(pool).await
}

/// Marks the reader's access to `bench/at` as just checked (every session of the reader).
pub async fn fresh_access(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "insert into repo_access (session_id, asked, github_repo_id, permission, checked_at)
         select s.id, 'bench/at', $1, 'read', now()
           from sessions s join users u on u.id = s.user_id where u.github_id = 424242
         on conflict (session_id, asked) do update set checked_at = now()",
    )
    .bind(REPO_ID)
    .execute(pool)
    .await?;
    Ok(())
}

/// One listing at `at`: how long it took, and the answer.
async fn listing(addr: &str, session: &str, at: &str) -> anyhow::Result<(Duration, Value)> {
    let t = Instant::now();
    let (status, body) = crate::load::get(
        addr,
        &format!("/v1/incidents?repo=bench/at&at={at}&limit=100"),
        &[("authorization", format!("Bearer {session}"))],
    )
    .await?;
    let took = t.elapsed();
    let v: Value = serde_json::from_slice(&body)?;
    ensure!(status == 200, "listing at {at}: {status} {v}");
    Ok((took, v))
}

/// A listing at `at`, checked: every incident translated, on the line that holds its `throw`
/// at `at` in the git repository.
fn verify(world: &World, at: &str, v: &Value) -> anyhow::Result<()> {
    ensure!(
        v["translation"]["status"] == "complete",
        "listing at {at} not fully translated: {}",
        v["translation"]
    );
    let incidents = v["incidents"].as_array().context("no incidents")?;
    ensure!(
        incidents.len() == INCIDENTS,
        "{} incidents at {at}",
        incidents.len()
    );
    for i in incidents {
        let g: usize = i["incident_id"]
            .as_str()
            .and_then(|s| s.strip_prefix("inc_at"))
            .context("incident id")?
            .parse()?;
        let want = world.throw_line(g, at)?;
        if i["line_number"] != want || i["line_state"] != "unchanged" {
            bail!(
                "incident {g} at {at}: line {} ({}), git says {want}",
                i["line_number"],
                i["line_state"]
            );
        }
    }
    Ok(())
}

/// The first listing at the IDE's HEAD (it fills the cache), checked against git.
pub async fn warm(addr: &str, session: &str, world: &World) -> anyhow::Result<()> {
    let (_, v) = listing(addr, session, &world.head).await?;
    verify(world, &world.head, &v)
}

/// Uncached listings: a new `at` each (so every seen commit's comparison is new), one after
/// another, each checked against git. Returns (latencies in ms, compare calls per listing).
pub async fn uncached(
    addr: &str,
    session: &str,
    world: &World,
    github: &FakeGitHub,
) -> anyhow::Result<(Vec<f64>, Vec<u64>)> {
    let (mut took, mut calls) = (Vec::new(), Vec::new());
    for at in &world.fresh {
        let before = github.compare_calls();
        let (t, v) = listing(addr, session, at).await?;
        calls.push(github.compare_calls() - before);
        took.push(t.as_secs_f64() * 1000.0);
        verify(world, at, &v)?;
    }
    Ok((took, calls))
}

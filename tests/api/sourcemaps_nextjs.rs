//! A real Next.js 16 app (`tests/sdk/nextjs`, pinned with `@sentry/nextjs` 11.5.0) whose
//! `next.config.ts` is wrapped in `withSentryConfig` with nothing but what the README tells a user
//! to set: the upload token, the repo's owner and name as `org` and `project`, and cairn's URL as
//! `sentryUrl`. `next build` (Turbopack) creates the release and uploads the server's and the
//! browser's maps to `cairn serve` through the JavaScript `sentry` CLI; `next start` serves the
//! app, a route handler (under a dynamic segment, `[cart]`) throws from a helper in another file,
//! and `@sentry/nextjs` reports it. Ingest resolves the bundled frames (`filename:
//! app:///_next/server/chunks/…`, sectioned index maps, percent-encoded sources) through the
//! uploaded maps: the incident is on the throw in the original file, and the route's call is the
//! next frame, as the test finds them in the source itself.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use shared::sourcemaps::tokens;

use crate::helpers::{sha, TestApp};
use crate::sentry::SentryProject;

const REPO: &str = "acme/checkout-web";

/// `next build` takes about 25 s on two idle cores (70 s beside a cargo build); the bound leaves
/// room for a loaded machine.
const BUILD_LIMIT: Duration = Duration::from_secs(300);

fn app_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sdk/nextjs")
}

/// The app's `node_modules`, installed by `scripts/sdk-deps`; missing fails the test and says so.
fn node_modules() -> PathBuf {
    let path = app_dir().join("node_modules");
    assert!(
        path.join("next/dist/bin/next").exists() && path.join("@sentry/nextjs").exists(),
        "next and @sentry/nextjs are not installed in {}: run scripts/sdk-deps",
        path.display()
    );
    path
}

/// A temporary `checkout-web/` holding the app's sources and a real `node_modules` directory
/// (Turbopack refuses a symlinked one): hard links to the installed files where the file system
/// allows, else a copy. Removed when dropped.
struct Checkout(PathBuf);

impl Checkout {
    fn new() -> Self {
        let root = std::env::temp_dir().join(format!(
            "cairn-nextjs-{}",
            shared::crypto::random_alphanumeric(10).to_ascii_lowercase()
        ));
        let checkout = Self(root);
        let repo = checkout.repo();
        copy_sources(&app_dir(), &repo);
        let modules = node_modules();
        let linked = std::process::Command::new("cp")
            .arg("-al")
            .arg(&modules)
            .arg(repo.join("node_modules"))
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !linked {
            let _ = std::fs::remove_dir_all(repo.join("node_modules"));
            let copied = std::process::Command::new("cp")
                .arg("-a")
                .arg(&modules)
                .arg(repo.join("node_modules"))
                .status()
                .unwrap();
            assert!(copied.success(), "copying node_modules");
        }
        checkout
    }

    fn repo(&self) -> PathBuf {
        self.0.join("checkout-web")
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The app's sources: everything but what installing and building write.
fn copy_sources(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("node_modules" | ".next" | "next-env.d.ts")
        ) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_sources(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `(line, column)`, 1-based, of `needle` in `file`.
fn position_of(file: &Path, needle: &str) -> (u32, u32) {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .enumerate()
        .find_map(|(i, line)| line.find(needle).map(|c| (i as u32 + 1, c as u32 + 1)))
        .unwrap_or_else(|| panic!("{needle:?} is not in {}", file.display()))
}

/// The installed `next` CLI run by Node in `repo`, with no Sentry or Next.js settings from the
/// environment and telemetry off (Next.js's, and the JavaScript `sentry` CLI's own; the plugin's
/// is `telemetry: false` in next.config.ts), in a process group of its own (see [`ProcessGroup`]).
fn next(repo: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg("node_modules/next/dist/bin/next")
        .args(args)
        .current_dir(repo)
        .env_remove("SENTRY_URL")
        .env_remove("SENTRY_ORG")
        .env_remove("SENTRY_PROJECT")
        .env_remove("SENTRY_AUTH_TOKEN")
        .env_remove("SENTRY_DSN")
        .env_remove("SENTRY_RELEASE")
        .env_remove("NODE_OPTIONS")
        .env("NEXT_TELEMETRY_DISABLED", "1")
        .env("SENTRY_CLI_NO_TELEMETRY", "1")
        .env("HOME", repo.parent().unwrap())
        .process_group(0)
        .kill_on_drop(true);
    cmd
}

/// Kills a child's whole process group when dropped (`next build` starts workers of its own),
/// unless disarmed once the child has exited.
struct ProcessGroup(Option<u32>);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A loopback port nothing listens on (as far as anyone can tell before binding it again).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GETs `url` once; `None` when nothing answers.
async fn get(url: &str) -> Option<u16> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<hyper::body::Bytes>>();
    let res = tokio::time::timeout(Duration::from_secs(20), client.get(url.parse().unwrap()))
        .await
        .ok()?
        .ok()?;
    Some(res.status().as_u16())
}

#[tokio::test]
async fn a_next_build_uploads_the_maps_that_put_a_route_handlers_throw_on_its_original_line() {
    let began = Instant::now();
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, REPO).await;
    let new = tokens::create(
        &app.pool,
        &project.project_id,
        None,
        Some("vercel"),
        &app.addr,
        "acme",
    )
    .await
    .unwrap();
    let checkout = Checkout::new();
    let repo = checkout.repo();
    let commit = sha("nextjs-build");

    // Build: Turbopack bundles; withSentryConfig's hook uploads the server and client maps.
    let started = Instant::now();
    let mut build = next(&repo, &["build"]);
    build
        .env("SENTRY_AUTH_TOKEN", new.token.expose())
        .env("SENTRY_RELEASE", &commit)
        .env("CAIRN_ORG", "acme")
        .env("CAIRN_PROJECT", "checkout-web")
        .env("CAIRN_URL", format!("{}/", app.addr));
    let child = build
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("next build did not start");
    let mut group = ProcessGroup(child.id());
    let out = tokio::time::timeout(BUILD_LIMIT, child.wait_with_output())
        .await
        .expect("next build took over five minutes")
        .expect("next build's output");
    group.0 = None;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "next build failed: {printed}");
    eprintln!("next build took {:?}", started.elapsed());

    // withSentryConfig created and finalized the release, then uploaded two bundles (the server
    // build and the browser chunks), each with its maps.
    let release: Option<(Option<String>, bool)> = sqlx::query_as(
        "select commit_sha, finalized_at is not null from releases
         where project_id = $1 and version = $2",
    )
    .bind(&project.project_id)
    .bind(&commit)
    .fetch_optional(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        release,
        Some((Some(commit.clone()), true)),
        "next build printed: {printed}"
    );
    let bundles: Vec<(Option<String>, i64)> = sqlx::query_as(
        "select b.release, count(a.*) filter (where a.kind = 'source_map')
         from artifact_bundles b left join artifacts a using (bundle_id)
         where b.project_id = $1 group by b.bundle_id, b.release",
    )
    .bind(&project.project_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        bundles.len(),
        2,
        "{bundles:?}; next build printed: {printed}"
    );
    for (release, maps) in &bundles {
        assert_eq!(release.as_deref(), Some(commit.as_str()), "{bundles:?}");
        assert!(*maps > 0, "{bundles:?}");
    }

    // Run: next start serves the build; the route handler throws and @sentry/nextjs reports it.
    let port = free_port();
    let mut start = next(
        &repo,
        &["start", "-H", "127.0.0.1", "-p", &port.to_string()],
    );
    let log_path = checkout.0.join("next-start.log");
    let log = std::fs::File::create(&log_path).unwrap();
    start
        .env("CAIRN_DSN", &project.dsn)
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    let server = start.spawn().expect("next start did not start");
    let _group = ProcessGroup(server.id());
    let server_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let url = format!("http://127.0.0.1:{port}/api/carts/summer/checkout");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = get(&url).await {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "next start did not answer: {}",
            server_log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(status, 500, "the route handler throws: {}", server_log());

    let Some(incident) = wait_for_incident(&app, &project.project_id).await else {
        panic!(
            "no incident within half a minute; next start printed: {}",
            server_log()
        );
    };

    // The event carries the release next build created, which withSentryConfig built in.
    let event_release: Option<String> =
        sqlx::query_scalar("select payload->>'release' from incident_events where project_id = $1")
            .bind(&project.project_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        event_release.as_deref(),
        Some(commit.as_str()),
        "the SDK's release"
    );

    // The incident is on the throw in lib/pricing.ts (V8 reports the `new Error(` expression),
    // found in the source as written. Its function stays unnamed: Turbopack's maps record no name
    // at the call site that cairn reads it from.
    let (line, column) = position_of(&repo.join("lib/pricing.ts"), "new Error(");
    assert_eq!(
        (incident.0.as_deref(), incident.1, incident.2),
        (
            Some("lib/pricing.ts"),
            Some(line as i32),
            Some(column as i32)
        ),
        "the incident's location"
    );

    // Its frames (newest call first) start with the throw, then the route handler's call, both on
    // their original files: the route's path decoded from the map's `%5Bcart%5D`.
    let frames: Value = sqlx::query_scalar(
        "select d.frames from incident_details d join incidents i using (incident_id)
         where i.project_id = $1",
    )
    .bind(&project.project_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let in_app: Vec<(&str, u64, u64)> = frames
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["in_app"] == true)
        .map(|f| {
            (
                f["file_path"].as_str().unwrap_or_default(),
                f["line_number"].as_u64().unwrap_or_default(),
                f["column_number"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let route = "app/api/carts/[cart]/checkout/route.ts";
    let (call_line, call_column) = position_of(&repo.join(route), "totalCents(lines)");
    assert_eq!(
        in_app.get(..2),
        Some(
            &[
                ("lib/pricing.ts", u64::from(line), u64::from(column)),
                (route, u64::from(call_line), u64::from(call_column)),
            ][..]
        ),
        "the in-app frames: {frames}"
    );
    eprintln!("the whole test took {:?}", began.elapsed());
}

/// The project's one incident's `(file_path, line_number, column_number)`, once the SDK's event
/// has been ingested (it sends in the background); `None` after half a minute without one.
async fn wait_for_incident(
    app: &TestApp,
    project_id: &str,
) -> Option<(Option<String>, Option<i32>, Option<i32>)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row = sqlx::query_as(
            "select file_path, line_number, column_number from incidents where project_id = $1",
        )
        .bind(project_id)
        .fetch_optional(&app.pool)
        .await
        .unwrap();
        if row.is_some() || Instant::now() >= deadline {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

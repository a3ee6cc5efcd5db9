//! The real `sentry-cli` (npm `@sentry/cli`, 2.58.6 and 3.8.0, pinned in `tests/sdk/node`)
//! injects debug ids into a bundle that esbuild minified, and uploads its maps to `cairn serve`
//! with nothing but an upload token; then the bundle runs under Node with `@sentry/node` and
//! throws. Ingest resolves the minified frame through the uploaded map: the incident is on the
//! original file, line and column, which the test finds in the source itself. The stored payload
//! keeps the frames as sent, and resolving them again with the core (`shared::sourcemaps::frames`)
//! gives the same position and the function name from the caller's call site.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use shared::sourcemaps::frames::{self, Image, MinifiedFrame};
use shared::sourcemaps::paths::source_path;
use shared::sourcemaps::resolve::MapCache;
use shared::sourcemaps::{tokens, DebugId, Limits};

use crate::helpers::{sha, TestApp};
use crate::sentry::SentryProject;

const REPO: &str = "acme/checkout-web";

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sdk/node")
}

/// `node_modules/<package>`, installed by `scripts/sdk-deps`; missing fails the test and says so.
fn installed(package: &str) -> PathBuf {
    let path = node_dir().join("node_modules").join(package);
    assert!(
        path.exists(),
        "{package} is not installed ({} is missing): run scripts/sdk-deps",
        path.display()
    );
    path
}

/// Runs `cmd` for at most a minute; its output, which must be a success.
async fn run(mut cmd: tokio::process::Command, what: &str) -> String {
    cmd.kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what} took over a minute"))
        .unwrap_or_else(|e| panic!("{what} did not start: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed: {text}");
    text
}

/// A temporary `checkout-web/` holding the app's sources, removed when dropped.
struct Checkout(PathBuf);

impl Checkout {
    fn new() -> Self {
        let root = std::env::temp_dir().join(format!(
            "cairn-maps-{}",
            shared::crypto::random_alphanumeric(10).to_ascii_lowercase()
        ));
        let src = root.join("checkout-web/src");
        std::fs::create_dir_all(&src).unwrap();
        for file in ["app.js", "math.js"] {
            std::fs::copy(node_dir().join("minified/src").join(file), src.join(file)).unwrap();
        }
        Self(root)
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

/// `(line, column)`, 1-based, of `needle` in `file`.
fn position_of(file: &Path, needle: &str) -> (u32, u32) {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .enumerate()
        .find_map(|(i, line)| line.find(needle).map(|c| (i as u32 + 1, c as u32 + 1)))
        .unwrap_or_else(|| panic!("{needle:?} is not in {}", file.display()))
}

/// A module of generated code (about 1.5 MB) whose strings do not compress much.
fn big_module() -> String {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = String::from("module.exports = [\n");
    for i in 0..12_000 {
        let mut word = String::new();
        for _ in 0..4 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            word.push_str(&format!("{:016x}", state));
        }
        out.push_str(&format!("  function f{i}() {{ return \"{word}\"; }},\n"));
    }
    out + "];\n"
}

/// A sentry-cli command of `@sentry/cli` `major` (its npm wrapper finds the platform binary),
/// with nothing of Sentry's environment but the token.
fn sentry_cli(major: u8, token: &str, dir: &Path) -> tokio::process::Command {
    let wrapper = installed(&format!("sentry-cli-{major}/bin/sentry-cli"));
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(wrapper)
        .current_dir(dir)
        .env_remove("SENTRY_URL")
        .env_remove("SENTRY_ORG")
        .env_remove("SENTRY_PROJECT")
        .env("SENTRY_AUTH_TOKEN", token)
        .env("SENTRY_LOAD_DOTENV", "0")
        .env("SENTRY_DISABLE_UPDATE_CHECK", "1")
        .env("HOME", dir);
    cmd
}

/// A new upload token for `project`, as its admin mints one.
async fn upload_token(app: &TestApp, project: &SentryProject) -> tokens::NewToken {
    tokens::create(
        &app.pool,
        &project.project_id,
        None,
        Some("ci"),
        &app.addr,
        "acme",
    )
    .await
    .unwrap()
}

async fn uploads_and_resolves(major: u8) {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, REPO).await;
    let new = upload_token(&app, &project).await;
    let checkout = Checkout::new();
    let repo = checkout.repo();

    // A second entry point of generated code that does not compress, so that the upload takes
    // several chunks.
    std::fs::write(repo.join("src/big.js"), big_module()).unwrap();

    // Build: esbuild minifies; sentry-cli injects debug ids and uploads the bundle's maps.
    let mut esbuild = tokio::process::Command::new(installed(".bin/esbuild"));
    esbuild
        .args([
            "src/app.js",
            "src/big.js",
            "--bundle",
            "--minify",
            "--sourcemap",
            "--platform=node",
        ])
        .args(["--external:@sentry/node", "--outdir=dist"])
        .current_dir(&repo);
    run(esbuild, "esbuild").await;
    let mut inject = sentry_cli(major, new.token.expose(), &repo);
    inject.args(["sourcemaps", "inject", "dist"]);
    run(inject, "sentry-cli sourcemaps inject").await;
    let mut upload = sentry_cli(major, new.token.expose(), &repo);
    upload.args(["sourcemaps", "upload", "--project", "checkout-web", "dist"]);
    let printed = run(upload, "sentry-cli sourcemaps upload").await;

    let bundle = std::fs::read_to_string(repo.join("dist/app.js")).unwrap();
    let debug_id = bundle
        .rsplit_once("//# debugId=")
        .and_then(|(_, id)| DebugId::parse(id.trim()))
        .expect("sentry-cli wrote a debug id into the bundle");
    let stored: Vec<(String, String, i32)> = sqlx::query_as(
        "select debug_id::text, kind, size from artifacts where project_id = $1 order by 1, 2",
    )
    .bind(&project.project_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let ours: Vec<&str> = stored
        .iter()
        .filter(|(id, ..)| *id == debug_id.as_str())
        .map(|(_, kind, _)| kind.as_str())
        .collect();
    assert_eq!(
        ours,
        ["minified_source", "source_map"],
        "sentry-cli {major} printed: {printed}"
    );
    assert_eq!(stored.len(), 4, "both entry points' files: {stored:?}");
    let total: i32 = stored.iter().map(|(.., size)| size).sum();
    assert!(
        total as usize > 3 * Limits::DEFAULT.chunk,
        "the upload took several chunks ({total} bytes)"
    );

    // Run: the minified bundle throws under Node and @sentry/node reports it to cairn.
    let commit = sha(&format!("maps-cli-{major}"));
    let mut node = tokio::process::Command::new("node");
    node.arg("dist/app.js")
        .current_dir(&repo)
        .env("CAIRN_DSN", &project.dsn)
        .env("COMMIT_SHA", &commit)
        .env(
            "NODE_PATH",
            installed("@sentry/node")
                .parent()
                .unwrap()
                .parent()
                .unwrap(),
        );
    run(node, "the minified app").await;
    let payload: Value =
        sqlx::query_scalar("select payload from incident_events where project_id = $1")
            .bind(&project.project_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let frames = payload["exception"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .unwrap();
    let top = frames.last().unwrap();
    // @sentry/node reports the path as `filename` (no `abs_path`), and names the image by it.
    let code_file = top["abs_path"]
        .as_str()
        .or(top["filename"].as_str())
        .unwrap();
    assert!(code_file.ends_with("dist/app.js"), "{top}");
    // The minified code's line (after the snippet sentry-cli injected above it).
    let (bundle_line, _) = position_of(&repo.join("dist/app.js"), "division by zero");
    assert_eq!(
        top["lineno"], bundle_line,
        "the frame is in the minified code: {top}"
    );

    // Resolve the frames as the SDK image names their file (`abs_path`, else `filename`).
    let images = [Image {
        code_file: code_file.to_owned(),
        debug_id,
    }];
    let minified: Vec<MinifiedFrame<'_>> = frames
        .iter()
        .map(|f| MinifiedFrame {
            abs_path: f["abs_path"].as_str(),
            filename: f["filename"].as_str(),
            line: f["lineno"].as_u64().map(|n| n as u32),
            column: f["colno"].as_u64().map(|n| n as u32),
        })
        .collect();
    let cache = MapCache::default();
    let resolved = frames::resolve(
        &app.pool,
        &cache,
        &project.project_id,
        &images,
        &minified,
        &Limits::DEFAULT,
    )
    .await
    .unwrap();
    let throw = resolved
        .frames
        .last()
        .unwrap()
        .clone()
        .expect("the top frame resolves");
    let (line, column) = position_of(&repo.join("src/math.js"), "new Error(");
    let path = source_path(&throw.original.source, REPO);
    assert_eq!(
        (
            path.path.as_str(),
            path.in_app,
            throw.original.line,
            throw.original.column
        ),
        ("src/math.js", true, line, column),
        "resolved {throw:?}"
    );
    assert_eq!(
        throw.function.as_deref(),
        Some("divide"),
        "from the caller's call site"
    );

    // Ingest resolved it before grouping: the incident is on the original line.
    let incident: (Option<String>, Option<i32>, Option<i32>, Option<String>) = sqlx::query_as(
        "select file_path, line_number, column_number, function from incidents where project_id = $1",
    )
    .bind(&project.project_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        incident,
        (
            Some("src/math.js".to_owned()),
            Some(line as i32),
            Some(column as i32),
            Some("divide".to_owned())
        ),
        "the incident's location"
    );
}

#[tokio::test]
async fn sentry_cli_2_uploads_the_maps_that_put_a_minified_frame_on_its_original_line() {
    uploads_and_resolves(2).await;
}

#[tokio::test]
async fn sentry_cli_3_uploads_the_maps_that_put_a_minified_frame_on_its_original_line() {
    uploads_and_resolves(3).await;
}

/// The incidents of the project as the editor lists them.
async fn listed(app: &TestApp, project: &SentryProject) -> Vec<Value> {
    let r = app
        .get(&format!("/v1/incidents?repo={REPO}"), &project.session)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["incidents"].as_array().unwrap().clone()
}

#[tokio::test]
async fn maps_uploaded_after_the_event_still_put_its_incident_on_the_original_line() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, REPO).await;
    let new = upload_token(&app, &project).await;
    let checkout = Checkout::new();
    let repo = checkout.repo();
    let mut esbuild = tokio::process::Command::new(installed(".bin/esbuild"));
    esbuild
        .args(["src/app.js", "--bundle", "--minify", "--sourcemap"])
        .args([
            "--platform=node",
            "--external:@sentry/node",
            "--outdir=dist",
        ])
        .current_dir(&repo);
    run(esbuild, "esbuild").await;
    let mut inject = sentry_cli(3, new.token.expose(), &repo);
    inject.args(["sourcemaps", "inject", "dist"]);
    run(inject, "sentry-cli sourcemaps inject").await;
    let commit = sha("maps-late");
    let throw_once = || {
        let mut node = tokio::process::Command::new("node");
        node.arg("dist/app.js")
            .current_dir(&repo)
            .env("CAIRN_DSN", &project.dsn)
            .env("COMMIT_SHA", &commit)
            .env(
                "NODE_PATH",
                installed("@sentry/node")
                    .parent()
                    .unwrap()
                    .parent()
                    .unwrap(),
            );
        run(node, "the minified app")
    };

    // The new build throws before its maps are uploaded: the event is stored as sent, on the
    // minified bundle's line, and its incident waits for the bundle's debug id.
    throw_once().await;
    let before = listed(&app, &project).await;
    assert_eq!(before.len(), 1, "{before:?}");
    let (bundle_line, _) = position_of(&repo.join("dist/app.js"), "division by zero");
    assert_eq!(
        (&before[0]["file_path"], &before[0]["line_number"]),
        (&Value::from("dist/app.js"), &Value::from(bundle_line)),
        "before the maps: {}",
        before[0]
    );
    let waiting: i64 = sqlx::query_scalar("select count(*) from sourcemap_waits")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(waiting, 1);

    // The maps come: the upload locates the incident, for the editor, at once.
    let mut upload = sentry_cli(3, new.token.expose(), &repo);
    upload.args(["sourcemaps", "upload", "--project", "checkout-web", "dist"]);
    run(upload, "sentry-cli sourcemaps upload").await;
    let after = listed(&app, &project).await;
    let (line, column) = position_of(&repo.join("src/math.js"), "new Error(");
    assert_eq!(after.len(), 1, "{after:?}");
    let i = &after[0];
    assert_eq!(i["incident_id"], before[0]["incident_id"]);
    assert_eq!(
        (
            &i["file_path"],
            &i["line_number"],
            &i["column_number"],
            &i["function"]
        ),
        (
            &Value::from("src/math.js"),
            &Value::from(line),
            &Value::from(column),
            &Value::from("divide")
        ),
        "after the maps: {i}"
    );
    let frames: Vec<&str> = i["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["in_app"] == true)
        .filter_map(|f| f["file_path"].as_str())
        .collect();
    assert_eq!(
        frames[..2],
        ["src/math.js", "src/math.js"],
        "divide, then average: {frames:?}"
    );
    assert!(frames.contains(&"src/app.js"), "{frames:?}");
    let at_commit = app
        .get(
            &format!("/v1/incidents?repo={REPO}&commit={commit}"),
            &project.session,
        )
        .await;
    assert_eq!(at_commit.body["incidents"][0]["line_number"], line);
    let waiting: i64 = sqlx::query_scalar("select count(*) from sourcemap_waits")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(waiting, 0);

    // The next event is resolved at ingest, grouped on the original code: the same incident.
    tokio::time::sleep(Duration::from_millis(1100)).await; // past ingest's memory of the miss
    throw_once().await;
    app.fold().await;
    let later = listed(&app, &project).await;
    assert_eq!(later.len(), 1, "one bug, one incident: {later:?}");
    assert_eq!(later[0]["incident_id"], before[0]["incident_id"]);
    assert_eq!(later[0]["occurrence_count"], 2);
    assert_eq!(later[0]["line_number"], line);
}

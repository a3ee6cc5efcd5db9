//! Source maps (issue 19), the storage and protocol core against a real PostgreSQL: upload tokens,
//! chunks, assembly into artifacts, and frames resolved through what was assembled. The HTTP
//! routes that put sentry-cli in front of this come with the uploads function.

use std::io::{Cursor, Write};

use serde_json::json;
use shared::sourcemaps::assemble::{assemble, AssembleError, AssembleRequest, AssembleState};
use shared::sourcemaps::chunks::{self, sha1_hex, Chunk};
use shared::sourcemaps::frames::{self, MinifiedFrame};
use shared::sourcemaps::resolve::MapCache;
use shared::sourcemaps::{late, store, tokens, Limits};

use crate::helpers::TestApp;

const ID: &str = "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a";
const CHUNK: usize = 512;

fn limits() -> Limits {
    Limits {
        chunk: CHUNK,
        ..Limits::DEFAULT
    }
}

/// A bundle as sentry-cli builds it: a minified file and its map (`../src/util.ts` line 3,
/// column 11 at minified 1:14), padded so it takes several chunks.
fn bundle_zip() -> Vec<u8> {
    let mut b = sourcemap::SourceMapBuilder::new(Some("app.js"));
    b.add(0, 13, 2, 10, Some("../src/util.ts"), None, false);
    b.add(0, 34, 5, 2, Some("../src/page.ts"), Some("divide"), false);
    let mut map = Vec::new();
    b.into_sourcemap().to_writer(&mut map).unwrap();
    let manifest = json!({"org": "acme", "release": "r1", "files": {
        "_/_/app.js": {"type": "minified_source", "url": "~/app.js", "headers": {"debug-id": ID}},
        "_/_/app.js.map": {"type": "source_map", "url": "~/app.js.map", "headers": {"debug-id": ID}},
    }});
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in [
        ("manifest.json", serde_json::to_vec(&manifest).unwrap()),
        (
            "_/_/app.js",
            format!(
                "function a(){{throw new Error(\"x\")}}function b(){{a()}}b();\n//{}",
                (0..600).map(|i| i.to_string()).collect::<String>()
            )
            .into_bytes(),
        ),
        ("_/_/app.js.map", map),
    ] {
        w.start_file(name, stored).unwrap();
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn chunked(bytes: &[u8]) -> Vec<Chunk> {
    bytes
        .chunks(CHUNK)
        .map(|c| Chunk {
            checksum: sha1_hex(c),
            data: c.to_vec(),
        })
        .collect()
}

fn request(bytes: &[u8], projects: &[&str]) -> AssembleRequest {
    AssembleRequest {
        checksum: sha1_hex(bytes),
        chunks: chunked(bytes).into_iter().map(|c| c.checksum).collect(),
        projects: projects.iter().map(|p| p.to_string()).collect(),
        version: Some("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678".into()),
        dist: None,
    }
}

async fn upload_project(app: &TestApp, repo: &str) -> tokens::TokenProject {
    let (_, project) = app.project(repo).await;
    upload_token_project(app, project["project_id"].as_str().unwrap()).await
}

#[tokio::test]
async fn upload_tokens_authenticate_their_project_until_revoked() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-web").await;
    let project_id = project["project_id"].as_str().unwrap();
    let new = tokens::create(
        &app.pool,
        project_id,
        None,
        Some("vercel"),
        "https://cairn.example",
        "acme",
    )
    .await
    .unwrap();

    let who = tokens::authenticate(&app.pool, new.token.expose())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (who.project_id.as_str(), who.repo_name.as_str()),
        (project_id, "checkout-web")
    );
    let listed = tokens::list(&app.pool, project_id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name.as_deref(), Some("vercel"));
    assert!(listed[0].last_used_at.is_some());
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from upload_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, new.token.hash(), "only the hash is stored");

    let other = tokens::UploadToken::generate("https://cairn.example", "acme", chrono::Utc::now());
    assert!(tokens::authenticate(&app.pool, other.expose())
        .await
        .unwrap()
        .is_none());
    assert!(tokens::authenticate(&app.pool, "cairn_ik_whatever")
        .await
        .unwrap()
        .is_none());

    assert!(tokens::revoke(&app.pool, project_id, &new.token_id)
        .await
        .unwrap());
    assert!(!tokens::revoke(&app.pool, project_id, &new.token_id)
        .await
        .unwrap());
    assert!(tokens::authenticate(&app.pool, new.token.expose())
        .await
        .unwrap()
        .is_none());
    assert!(tokens::list(&app.pool, project_id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_bundle_uploaded_in_chunks_is_assembled_once_and_resolves_minified_frames() {
    let app = TestApp::spawn().await;
    let project = upload_project(&app, "acme/checkout-web").await;
    let bytes = bundle_zip();
    let all = chunked(&bytes);
    assert!(all.len() > 3);

    // Asked first (sentry-cli 3.x): every chunk is missing.
    let first = assemble(
        &app.pool,
        &project,
        request(&bytes, &["checkout-web"]),
        &limits(),
    )
    .await
    .unwrap();
    assert_eq!(first.response.state, AssembleState::NotFound);
    assert_eq!(first.response.missing_chunks.len(), all.len());
    chunks::store(&app.pool, &project.project_id, &all[1..])
        .await
        .unwrap();
    let second = assemble(&app.pool, &project, request(&bytes, &[]), &limits())
        .await
        .unwrap();
    assert_eq!(
        second.response.missing_chunks,
        vec![all[0].checksum.clone()]
    );

    chunks::store(&app.pool, &project.project_id, &all[..1])
        .await
        .unwrap();
    let done = assemble(
        &app.pool,
        &project,
        request(&bytes, &[&project.project_id]),
        &limits(),
    )
    .await
    .unwrap();
    assert_eq!(
        done.response.state,
        AssembleState::Ok,
        "{:?}",
        done.response.detail
    );
    assert_eq!(
        done.stored
            .unwrap()
            .debug_ids
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>(),
        [ID]
    );
    let again = assemble(&app.pool, &project, request(&bytes, &[]), &limits())
        .await
        .unwrap();
    assert_eq!(
        (again.response.state, again.stored.is_none()),
        (AssembleState::Ok, true)
    );

    let (kinds, release): (i64, Option<String>) = sqlx::query_as(
        "select (select count(*) from artifacts), (select release from artifact_bundles)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (kinds, release.as_deref()),
        (2, Some("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"))
    );
    let left: i64 = sqlx::query_scalar("select count(*) from upload_chunks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "assembled chunks are deleted");

    // An event's frames, Sentry's order (b's call of a, then a's throw), through the map.
    let images = vec![frames::image("app:///app.js", ID).unwrap()];
    let frame = |column| MinifiedFrame {
        abs_path: None,
        filename: Some("app:///app.js"),
        line: Some(1),
        column: Some(column),
    };
    let cache = MapCache::default();
    let got = frames::resolve(
        &app.pool,
        &cache,
        &project.project_id,
        &images,
        &[frame(35), frame(14)],
        &limits(),
    )
    .await
    .unwrap();
    assert!(got.missing.is_empty());
    let throw = got.frames[1].clone().unwrap();
    assert_eq!(
        (
            throw.original.source.as_str(),
            throw.original.line,
            throw.original.column
        ),
        ("../src/util.ts", 3, 11)
    );
    assert_eq!(throw.function.as_deref(), Some("divide"));
    assert!(cache.used() > 0);

    // Another project's events never see these maps.
    let other = upload_project(&app, "acme/other-web").await;
    let none = frames::resolve(
        &app.pool,
        &cache,
        &other.project_id,
        &images,
        &[frame(14)],
        &limits(),
    )
    .await
    .unwrap();
    assert!(none.frames[0].is_none());
    assert_eq!(none.missing.len(), 1);
}

#[tokio::test]
async fn faulty_uploads_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let project = upload_project(&app, "acme/checkout-web").await;
    let bytes = bundle_zip();

    let err = assemble(
        &app.pool,
        &project,
        request(&bytes, &["other-web"]),
        &limits(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AssembleError::WrongProject(_)) && err.status() == 403);
    let mut bad = request(&bytes, &[]);
    bad.checksum = "nope".into();
    assert_eq!(
        assemble(&app.pool, &project, bad, &limits())
            .await
            .unwrap_err()
            .status(),
        400
    );

    // Chunks that are all there but do not make up the checksum.
    chunks::store(&app.pool, &project.project_id, &chunked(&bytes))
        .await
        .unwrap();
    let mut wrong = request(&bytes, &[]);
    wrong.checksum = sha1_hex(b"something else");
    let r = assemble(&app.pool, &project, wrong, &limits())
        .await
        .unwrap()
        .response;
    assert_eq!(r.state, AssembleState::Error);

    // A truncated zip, uploaded properly.
    let cut = &bytes[..bytes.len() - 100];
    chunks::store(&app.pool, &project.project_id, &chunked(cut))
        .await
        .unwrap();
    let r = assemble(&app.pool, &project, request(cut, &[]), &limits())
        .await
        .unwrap()
        .response;
    assert_eq!(r.state, AssembleState::Error);
    assert!(r.detail.unwrap().contains("zip"));

    let stored: i64 = sqlx::query_scalar("select count(*) from artifact_bundles")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let (bundles, _) = store::purge(&app.pool, 30).await.unwrap();
    assert_eq!(bundles, 0);
}

#[tokio::test]
async fn retention_deletes_bundles_unused_for_the_retention_period_and_stale_chunks() {
    let app = TestApp::spawn().await;
    let project = upload_project(&app, "acme/checkout-web").await;
    let bytes = bundle_zip();
    chunks::store(&app.pool, &project.project_id, &chunked(&bytes))
        .await
        .unwrap();
    let done = assemble(&app.pool, &project, request(&bytes, &[]), &limits())
        .await
        .unwrap();
    assert_eq!(done.response.state, AssembleState::Ok);
    let stale = Chunk {
        checksum: sha1_hex(b"never assembled"),
        data: b"never assembled".to_vec(),
    };
    chunks::store(&app.pool, &project.project_id, &[stale])
        .await
        .unwrap();
    let count = |table: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    // A bundle used lately and a fresh chunk stay.
    let kept = shared::retention::run(&app.pool, 90).await.unwrap();
    assert_eq!((kept.source_map_bundles, kept.upload_chunks), (0, 0));
    assert_eq!(
        (count("artifacts").await, count("upload_chunks").await),
        (2, 1)
    );

    // Unused for longer than the retention period: the bundle and its artifacts go.
    sqlx::query("update artifact_bundles set last_used_at = now() - interval '91 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update upload_chunks set created_at = now() - interval '2 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    let report = shared::retention::run(&app.pool, 90).await.unwrap();
    assert_eq!((report.source_map_bundles, report.upload_chunks), (1, 1));
    assert_eq!(
        (
            count("artifact_bundles").await,
            count("artifacts").await,
            count("upload_chunks").await
        ),
        (0, 0, 0)
    );
}

/// An incident's location and its event count.
type Location = (
    Option<String>,
    Option<i32>,
    Option<i32>,
    Option<String>,
    i64,
);

/// A Sentry event of minified JavaScript whose minified function name is `minified_name` (a
/// build's choice), thrown at 1:14 of `app:///app.js` from b's call at 1:35, naming `debug_id`.
fn minified_event(event_id: u32, minified_name: &str, debug_id: &str) -> serde_json::Value {
    let frame = |function: &str, column: u32| {
        json!({"filename": "app:///app.js", "function": function, "lineno": 1, "colno": column,
               "in_app": true})
    };
    json!({
        "event_id": format!("{event_id:032x}"),
        "platform": "javascript",
        "release": crate::helpers::sha("maps-ingest"),
        "exception": {"values": [{"type": "Error", "value": "x",
            "stacktrace": {"frames": [frame("b", 35), frame(minified_name, 14)]}}]},
        "debug_meta": {"images": [
            {"type": "sourcemap", "code_file": "app:///app.js", "debug_id": debug_id}]},
    })
}

#[tokio::test]
async fn ingest_groups_minified_events_on_the_original_line_their_uploaded_map_gives() {
    // Arrange: the bundle's maps uploaded for the project.
    let app = TestApp::spawn().await;
    let sentry = crate::sentry::SentryProject::create(&app, "acme/checkout-web").await;
    let project = upload_token_project(&app, &sentry.project_id).await;
    let bytes = bundle_zip();
    chunks::store(&app.pool, &project.project_id, &chunked(&bytes))
        .await
        .unwrap();
    let done = assemble(&app.pool, &project, request(&bytes, &[]), &limits())
        .await
        .unwrap();
    assert_eq!(done.response.state, AssembleState::Ok);
    let auth = sentry.auth_header();
    let post = |body: serde_json::Value| {
        let (app, path, auth) = (&app, sentry.store_path(), auth.clone());
        async move {
            app.send("POST", &path, &[("x-sentry-auth", &auth)], body.to_string())
                .await
        }
    };

    // Act: two builds' events (their minified names differ), and one naming a map never uploaded.
    for (i, name) in [(1, "a"), (2, "q")] {
        let r = post(minified_event(i, name, ID)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let unknown = "00000000-0000-4000-8000-000000000001";
    let r = post(minified_event(3, "a", unknown)).await;
    assert_eq!(
        r.status, 200,
        "an event without its map is still ingested: {:?}",
        r.body
    );

    // Assert: one incident on the original file, line and column, named by the call site; the
    // event without a map stays on the minified position.
    let incidents: Vec<Location> = sqlx::query_as(
        "select i.file_path, i.line_number, i.column_number, i.function,
                    (select count(*) from incident_events e where e.incident_id = i.incident_id)
               from incidents i where i.project_id = $1 order by i.file_path",
    )
    .bind(&sentry.project_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        incidents,
        [
            (
                Some("app.js".into()),
                Some(1),
                Some(14),
                Some("a".into()),
                1
            ),
            (
                Some("src/util.ts".into()),
                Some(3),
                Some(11),
                Some("divide".into()),
                2
            ),
        ]
    );
}

/// Where each incident of `project_id` is, by location then fingerprint, with its waits.
async fn located(app: &TestApp, project_id: &str) -> Vec<(Location, i64)> {
    sqlx::query_as::<
        _,
        (
            Option<String>,
            Option<i32>,
            Option<i32>,
            Option<String>,
            i64,
            i64,
        ),
    >(
        "select i.file_path, i.line_number, i.column_number, i.function,
                (select count(*) from incident_events e where e.incident_id = i.incident_id),
                (select count(*) from sourcemap_waits w where w.incident_id = i.incident_id)
           from incidents i where i.project_id = $1 order by i.file_path, i.fingerprint",
    )
    .bind(project_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(f, l, c, n, events, waits)| ((f, l, c, n, events), waits))
    .collect()
}

/// A project whose events of two builds (minified names `a` and `q`) came before the map of
/// their bundle; then the bundle is stored without the late pass an assemble call runs (as if
/// that pass had failed).
async fn events_before_their_map(
    app: &TestApp,
) -> (crate::sentry::SentryProject, tokens::TokenProject) {
    let sentry = crate::sentry::SentryProject::create(app, "acme/checkout-web").await;
    for (i, name) in [(1, "a"), (2, "q")] {
        let r = app
            .send(
                "POST",
                &sentry.store_path(),
                &[("x-sentry-auth", &sentry.auth_header())],
                minified_event(i, name, ID).to_string(),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let minified = |name: &str| {
        (
            (
                Some("app.js".to_owned()),
                Some(1),
                Some(14),
                Some(name.to_owned()),
                1,
            ),
            1,
        )
    };
    assert_eq!(
        located(app, &sentry.project_id).await,
        [minified("a"), minified("q")],
        "stored as sent, each waiting for the map"
    );
    let bytes = bundle_zip();
    let bundle = shared::sourcemaps::bundle::read(&bytes, &limits()).unwrap();
    store::save_bundle(
        &app.pool,
        &sentry.project_id,
        &sha1_hex(&bytes),
        &[],
        &bundle,
        None,
        None,
    )
    .await
    .unwrap();
    let project = upload_token_project(app, &sentry.project_id).await;
    (sentry, project)
}

/// The project of a new upload token for `project_id` (of owner `acme`), as the uploads routes
/// see it.
async fn upload_token_project(app: &TestApp, project_id: &str) -> tokens::TokenProject {
    let new = tokens::create(&app.pool, project_id, None, None, &app.addr, "acme")
        .await
        .unwrap();
    tokens::authenticate(&app.pool, new.token.expose())
        .await
        .unwrap()
        .unwrap()
}

fn original(events: i64) -> (Location, i64) {
    (
        (
            Some("src/util.ts".to_owned()),
            Some(3),
            Some(11),
            Some("divide".to_owned()),
            events,
        ),
        0,
    )
}

#[tokio::test]
async fn incidents_that_waited_for_a_map_are_located_when_ingest_finds_it_came() {
    let app = TestApp::spawn().await;
    let (sentry, project) = events_before_their_map(&app).await;

    // Ingest recorded a wait after the map came (its resolution ran before the bundle's commit):
    // it sees the map, and locates every incident waiting for it.
    let incident: String = sqlx::query_scalar("select incident_id from incidents limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let wait = late::Wait {
        incident_id: incident,
        image: frames::Image {
            code_file: "app:///app.js".into(),
            debug_id: shared::sourcemaps::DebugId::parse(ID).unwrap(),
        },
    };
    late::record_waits(
        &app.pool,
        &late::RecentWaits::default(),
        &project.project_id,
        &project.repo_name,
        vec![wait],
    )
    .await
    .unwrap();

    assert_eq!(
        located(&app, &project.project_id).await,
        [original(1), original(1)],
        "both builds' incidents are on the original line"
    );
    // One of them took the original code's fingerprint: the next event, resolved at ingest,
    // joins it rather than opening a third incident.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // past ingest's memory of the miss
    let r = app
        .send(
            "POST",
            &sentry.store_path(),
            &[("x-sentry-auth", &sentry.auth_header())],
            minified_event(3, "z", ID).to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut events: Vec<i64> = located(&app, &project.project_id)
        .await
        .into_iter()
        .map(|((path, _, _, _, events), _waits)| {
            assert_eq!(path.as_deref(), Some("src/util.ts"));
            events
        })
        .collect();
    events.sort();
    assert_eq!(events, [1, 2]);
}

#[tokio::test]
async fn the_retention_sweep_locates_incidents_a_failed_pass_left_waiting() {
    let app = TestApp::spawn().await;
    let (_, project) = events_before_their_map(&app).await;

    let report = shared::retention::run(&app.pool, 90).await.unwrap();

    assert_eq!(report.late_located_incidents, 2);
    assert_eq!(
        located(&app, &project.project_id).await,
        [original(1), original(1)]
    );
    let again = shared::retention::run(&app.pool, 90).await.unwrap();
    assert_eq!(again.late_located_incidents, 0, "nothing waits any more");
}

#[tokio::test]
async fn an_event_waiting_for_its_deployment_gets_the_location_its_late_map_gives() {
    let app = TestApp::spawn().await;
    let sentry = crate::sentry::SentryProject::create(&app, "acme/checkout-web").await;
    // A Vercel app's event names its deployment, which cairn has not heard of yet, and a
    // bundle whose map is not uploaded yet.
    let mut event = minified_event(1, "a", ID);
    event.as_object_mut().unwrap().remove("release");
    event["tags"] = json!({"vercel.deployment_id": "dpl_late"});
    let r = app
        .send(
            "POST",
            &sentry.store_path(),
            &[("x-sentry-auth", &sentry.auth_header())],
            event.to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let pending = || async {
        sqlx::query_scalar::<_, serde_json::Value>(
            "select pending_location from incident_events where commit_sha is null",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    assert_eq!(pending().await["file_path"], "app.js");

    // The map comes first: the location the deployment will give the event is the original's.
    let project = upload_token_project(&app, &sentry.project_id).await;
    let bytes = bundle_zip();
    chunks::store(&app.pool, &project.project_id, &chunked(&bytes))
        .await
        .unwrap();
    let done = assemble(&app.pool, &project, request(&bytes, &[]), &limits())
        .await
        .unwrap();
    assert_eq!(done.response.state, AssembleState::Ok);
    let location = pending().await;
    assert_eq!(
        (
            &location["file_path"],
            &location["line_number"],
            &location["function"]
        ),
        (&json!("src/util.ts"), &json!(3), &json!("divide")),
        "{location}"
    );

    // Then the deployment: the incident's row at its commit is on the original line.
    let commit = crate::helpers::sha("dpl-late");
    sqlx::query(
        "insert into deployments (deployment_id, project_id, commit_sha, target)
         values ('dpl_late', $1, $2, 'production')",
    )
    .bind(&sentry.project_id)
    .bind(&commit)
    .execute(&app.pool)
    .await
    .unwrap();
    shared::ingest::backfill::fill_commits_now(&app.pool, "dpl_late")
        .await
        .unwrap();
    let at_commit: (Option<String>, Option<i32>, Option<i32>) = sqlx::query_as(
        "select file_path, line_number, column_number from incident_commits where commit_sha = $1",
    )
    .bind(&commit)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(at_commit, (Some("src/util.ts".into()), Some(3), Some(11)));
}

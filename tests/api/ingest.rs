//! `POST /v1/events`: keys, parsing, grouping, dedupe, regressions, per-commit locations.

use serde_json::json;

use crate::helpers::{sha, TestApp};

fn node_error(commit: &str) -> serde_json::Value {
    json!({
        "error_message": "Cannot read properties of null (reading 'items')",
        "error_type": "TypeError",
        "stack_trace": "TypeError: Cannot read properties of null (reading 'items')\n    at priceOf (/var/task/src/handlers/checkout.js:2:15)\n    at handleCheckout (/var/task/src/handlers/checkout.js:5:17)\n    at Runtime.handler (/var/task/node_modules/lambda-api/index.js:10:3)",
        "commit_sha": commit,
        "environment": "production"
    })
}

#[tokio::test]
async fn ingest_groups_repeated_errors_into_one_incident() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let commit = sha("c1");

    let a = app.ingest(key, &node_error(&commit)).await;
    let b = app.ingest(key, &node_error(&commit)).await;

    assert_eq!(a.status, 202, "{:?}", a.body);
    assert_eq!(a.body["incident_id"], b.body["incident_id"]);
    assert!(a.body["incident_id"].as_str().unwrap().starts_with("inc_"));
    app.fold().await;
    let (count, file, line, col): (i64, String, i32, i32) = sqlx::query_as(
        "select occurrence_count, file_path, line_number, column_number from incidents",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (count, file.as_str(), line, col),
        (2, "src/handlers/checkout.js", 2, 15)
    );
}

#[tokio::test]
async fn ingest_counts_a_retried_event_once() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let mut ev = node_error(&sha("c1"));
    ev["event_id"] = json!("retry-me-1");

    let first = app.ingest(key, &ev).await;
    let again = app.ingest(key, &ev).await;

    assert_eq!(first.status, 202);
    assert_eq!(again.status, 202);
    assert_eq!(first.body, again.body);
    app.fold().await;
    let n: i64 = sqlx::query_scalar("select count(*) from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("select occurrence_count from incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((n, count), (1, 1));
}

#[tokio::test]
async fn ingest_accepts_an_array_and_answers_each_event() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let mut other = node_error(&sha("c1"));
    other["error_message"] = json!("something else entirely");
    other["error_type"] = json!("RangeError");

    let r = app
        .ingest(
            key,
            &json!([node_error(&sha("c1")), other, node_error(&sha("c2"))]),
        )
        .await;

    assert_eq!(r.status, 202, "{:?}", r.body);
    let events = r.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["incident_id"], events[2]["incident_id"]);
    assert_ne!(events[0]["incident_id"], events[1]["incident_id"]);
}

#[tokio::test]
async fn ingest_refuses_missing_unknown_and_revoked_keys() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let ev = node_error(&sha("c1"));

    let none = app
        .send(
            "POST",
            "/v1/events",
            &[("content-type", "application/json")],
            ev.to_string(),
        )
        .await;
    let unknown = app
        .ingest(&format!("cairn_ik_{}", "x".repeat(32)), &ev)
        .await;
    let malformed = app.ingest("not-a-key", &ev).await;
    let path = format!(
        "/v1/projects/{}/keys/{}",
        project["project_id"].as_str().unwrap(),
        project["key_id"].as_str().unwrap()
    );
    let revoke = app
        .send(
            "DELETE",
            &path,
            &[("authorization", &format!("Bearer {session}"))],
            "",
        )
        .await;
    let revoked = app.ingest(key, &ev).await;

    assert_eq!((none.status, none.code()), (401, "missing_ingest_key"));
    assert_eq!(
        (unknown.status, unknown.code()),
        (401, "invalid_ingest_key")
    );
    assert_eq!(
        (malformed.status, malformed.code()),
        (401, "invalid_ingest_key")
    );
    assert_eq!(revoke.status, 200, "{:?}", revoke.body);
    assert!(revoke.body["revoked_at"].is_string());
    assert_eq!(
        (revoked.status, revoked.code()),
        (401, "invalid_ingest_key")
    );
}

#[tokio::test]
async fn ingest_answers_bad_bodies_with_clear_4xx_codes() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let big = json!({"error_message": "x".repeat(1024 * 1024 + 10), "environment": "p", "commit_sha": sha("c")});
    let cases: Vec<(String, u16, &str)> = vec![
        ("{".into(), 400, "invalid_json"),
        ("".into(), 400, "empty_body"),
        (deep, 400, "json_too_deep"),
        (json!({"environment": "p", "commit_sha": sha("c")}).to_string(), 422, "missing_error_message"),
        (json!({"error_message": "x", "environment": "p"}).to_string(), 422, "missing_commit_sha"),
        (json!({"error_message": "x", "environment": "p", "commit_sha": "zz"}).to_string(), 422, "invalid_commit_sha"),
        (json!({"error_message": "x", "environment": "p", "commit_sha": sha("c"), "frames": "no"}).to_string(), 422, "invalid_event"),
        (json!([]).to_string(), 422, "empty_batch"),
        (big.to_string(), 413, "payload_too_large"),
    ];
    for (body, status, code) in cases {
        let r = app
            .send(
                "POST",
                "/v1/events",
                &[
                    ("authorization", &format!("Bearer {key}")),
                    ("content-type", "application/json"),
                ],
                body,
            )
            .await;
        assert_eq!((r.status, r.code()), (status, code), "{:?}", r.body);
    }
    let n: i64 = sqlx::query_scalar("select count(*) from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing is written for a refused request");
}

#[tokio::test]
async fn a_resolved_incident_that_recurs_is_reopened() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let first = app.ingest(key, &node_error(&sha("c1"))).await;
    let id = first.body["incident_id"].as_str().unwrap();
    let resolve = app
        .send(
            "PATCH",
            &format!("/v1/incidents/{id}"),
            &[("authorization", &format!("Bearer {session}"))],
            json!({"status": "resolved"}).to_string(),
        )
        .await;
    assert_eq!(resolve.body["status"], "resolved", "{:?}", resolve.body);

    let again = app.ingest(key, &node_error(&sha("c2"))).await;

    assert_eq!(again.body["incident_id"], id);
    let status: String = sqlx::query_scalar("select status from incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "open");
}

#[tokio::test]
async fn structured_frames_and_sdk_fingerprints_are_used() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let ev = |msg: &str| {
        json!({
            "error_message": msg, "error_type": "ValueError", "environment": "staging", "commit_sha": sha("c1"),
            "fingerprint": ["payments", "{{ default }}"],
            "frames": [
                {"file_path": "/srv/checkout-api/app/main.py", "line_number": 10, "function": "main"},
                {"file_path": "/srv/checkout-api/app/payments.py", "line_number": 2, "column_number": null, "function": "charge"}
            ]
        })
    };

    let a = app.ingest(key, &ev("bad amount 12")).await;
    let b = app.ingest(key, &ev("bad amount 13")).await;

    assert_eq!(a.status, 202, "{:?}", a.body);
    assert_eq!(
        a.body["incident_id"], b.body["incident_id"],
        "numbers do not split an incident"
    );
    let (file, line, func): (String, i32, String) =
        sqlx::query_as("select file_path, line_number, function from incidents")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (file.as_str(), line, func.as_str()),
        ("app/payments.py", 2, "charge")
    );
}

#[tokio::test]
async fn an_event_with_only_an_unknown_deployment_is_accepted_without_a_commit() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();

    let r = app
        .ingest(key, &json!({"error_message": "boom", "environment": "production", "deployment_id": "dpl_unknown"}))
        .await;

    assert_eq!(r.status, 202, "{:?}", r.body);
    let dep: Option<String> = sqlx::query_scalar("select deployment_id from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(dep.as_deref(), Some("dpl_unknown"));
}

#[tokio::test]
async fn a_deployment_id_with_a_nul_is_cleaned_not_a_server_error() {
    // Postgres text cannot hold a NUL: the deployment lookup used to fail with a 500.
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();

    let r = app
        .ingest(key, &json!({"error_message": "boom", "environment": "production", "deployment_id": "dpl_\u{0}nul"}))
        .await;

    assert_eq!(r.status, 202, "{:?}", r.body);
    let dep: Option<String> = sqlx::query_scalar("select deployment_id from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(dep.as_deref(), Some("dpl_nul"));
}

#[tokio::test]
async fn key_usage_is_counted_without_a_write_per_event() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    for _ in 0..3 {
        app.ingest(key, &node_error(&sha("c1"))).await;
    }

    let r = app
        .get(
            &format!("/v1/projects/{}", project["project_id"].as_str().unwrap()),
            &session,
        )
        .await;

    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["keys"][0]["usage_count"], 3);
    assert!(r.body["keys"][0]["last_used_at"].is_string());
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(crate::helpers::Options {
        rate_limit_per_minute: 3,
        ..Default::default()
    })
    .await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    // Keep the whole run inside one minute window.
    crate::helpers::within_one_minute(5).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.ingest(key, &node_error(&sha("c1"))).await);
    }
    assert_eq!(
        statuses.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![202, 202, 202, 429, 429]
    );
    let limited = &statuses[3];
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
}

#[tokio::test]
async fn health_reports_the_database_and_a_dead_database_is_a_503() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap().to_owned();
    assert_eq!(app.send("GET", "/healthz", &[], "").await.status, 200);

    // Break the database on purpose: close the pool the server uses.
    app.app.pool.close().await;
    let health = app.send("GET", "/healthz", &[], "").await;
    let ingest = app.ingest(&key, &node_error(&sha("c1"))).await;

    assert_eq!(health.status, 503);
    assert_eq!(
        (ingest.status, ingest.code()),
        (503, "database_unavailable")
    );
    assert!(ingest.headers.contains_key("retry-after"));
    let n: i64 = sqlx::query_scalar("select count(*) from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_concurrent_spike_of_one_new_error_makes_one_incident_with_an_exact_count() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (app, key) = (std::sync::Arc::clone(&app), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut ev = node_error(&sha("spike"));
            // Every fifth request is a retry of the one before it.
            ev["event_id"] = json!(format!("spike-{}", i - i % 5 / 4));
            app.ingest(&key, &ev).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 202);
    }

    app.fold().await;
    let incidents: i64 = sqlx::query_scalar("select count(*) from incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let events: i64 = sqlx::query_scalar("select count(*) from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("select occurrence_count from incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let at_commit: i64 = sqlx::query_scalar("select occurrence_count from incident_commits")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let distinct_ids = (0..40)
        .map(|i: i32| i - i % 5 / 4)
        .collect::<std::collections::HashSet<_>>()
        .len() as i64;
    assert_eq!(
        (incidents, events, count, at_commit),
        (1, distinct_ids, distinct_ids, distinct_ids)
    );
}

#[tokio::test]
async fn long_fields_are_truncated_and_frames_capped_at_1000() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let frames: Vec<_> = (0..3000)
        .map(|i| json!({"file_path": format!("/var/task/src/f{i}.js"), "line_number": i + 1, "function": if i == 2999 { "f".repeat(5000) } else { "g".into() }}))
        .collect();
    let ev = json!({"error_message": "é".repeat(20_000), "error_type": "T".repeat(1000), "environment": "production",
                    "commit_sha": sha("c"), "frames": frames, "metadata": {"nul": "a\u{0}b"}});

    let r = app.ingest(key, &ev).await;

    assert_eq!(r.status, 202, "{:?}", r.body);
    let list = app
        .get("/v1/incidents?repo=acme/checkout-api", &session)
        .await;
    let i = &list.body["incidents"][0];
    assert_eq!(i["frames"].as_array().unwrap().len(), 1000);
    assert_eq!(
        i["file_path"], "src/f2999.js",
        "the innermost frames are kept"
    );
    assert!(i["error_message"].as_str().unwrap().len() <= 8 * 1024);
    assert!(i["error_type"].as_str().unwrap().len() <= 256);
    assert!(i["function"].as_str().unwrap().len() <= 1024);
}

#[tokio::test]
async fn the_rate_limit_holds_across_instances_sharing_the_database() {
    let a = TestApp::spawn_with(crate::helpers::Options {
        rate_limit_per_minute: 20,
        ..Default::default()
    })
    .await;
    let url = {
        use secrecy::ExposeSecret;
        a.app.config.database_url.expose_secret().to_owned()
    };
    let b = TestApp::spawn_with(crate::helpers::Options {
        rate_limit_per_minute: 20,
        database_url: Some(url),
        ..Default::default()
    })
    .await;
    let (_, project) = a.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();

    // Keep the whole run inside one minute window.
    crate::helpers::within_one_minute(10).await;
    let mut accepted = 0;
    for i in 0..30 {
        let instance = if i % 2 == 0 { &a } else { &b };
        if instance.ingest(key, &node_error(&sha("c1"))).await.status == 202 {
            accepted += 1;
        }
    }

    assert!(
        (18..=20).contains(&accepted),
        "two instances admitted {accepted} of a limit of 20"
    );
    // The project's windows (the table also counts sign-ins per client address).
    let reserved: i64 = sqlx::query_scalar(
        "select sum(used)::bigint from rate_limit_windows where project_id = $1",
    )
    .bind(project["project_id"].as_str().unwrap())
    .fetch_one(&a.pool)
    .await
    .unwrap();
    assert!(
        reserved <= 20,
        "quota is reserved in chunks, never past the limit: {reserved}"
    );
}

/// cairn's own connections plan without JIT and without parallel workers: once the tables were
/// analysed large, PostgreSQL compiled each ingest statement of a few hundred events with LLVM,
/// seconds of CPU for a statement that runs in milliseconds (docs/PERFORMANCE.md, Design).
#[tokio::test]
async fn the_apps_connections_run_without_jit_or_parallel_workers() {
    let app = TestApp::spawn().await;
    let (jit, workers): (String, String) = sqlx::query_as(
        "select current_setting('jit'), current_setting('max_parallel_workers_per_gather')",
    )
    .fetch_one(&app.app.pool)
    .await
    .unwrap();
    assert_eq!((jit.as_str(), workers.as_str()), ("off", "0"));
    // A plain connection to the same server has PostgreSQL's default: the setting is cairn's.
    let default: String = sqlx::query_scalar("select current_setting('jit')")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(default, "on");
}

/// The stored fingerprint of `node_error` (the same in every project).
async fn node_error_fingerprint(app: &TestApp) -> String {
    let (_, other) = app.project("acme/fingerprint-probe").await;
    let r = app
        .ingest(
            other["ingest_key"].as_str().unwrap(),
            &node_error(&sha("c1")),
        )
        .await;
    sqlx::query_scalar("select fingerprint from incidents where incident_id = $1")
        .bind(r.body["incident_id"].as_str().unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_incident_created_concurrently_under_another_id_gets_the_event() {
    // An instance with another secret key (mid-rotation) derives another id for the same new
    // incident. There is no foreign key to catch an event written against an id that was never
    // created: the statement must notice, and its retry find the other instance's incident.
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let fingerprint = node_error_fingerprint(&app).await;
    let (_, project) = app.project("acme/checkout-api").await;
    let project_id = project["project_id"].as_str().unwrap().to_owned();
    let key = project["ingest_key"].as_str().unwrap().to_owned();

    let mut other = app.pool.begin().await.unwrap();
    sqlx::query(
        "insert into incidents (incident_id, project_id, fingerprint, error_message, occurred_at)
         values ('inc_other_instance', $1, $2, 'x', now())",
    )
    .bind(&project_id)
    .bind(&fingerprint)
    .execute(&mut *other)
    .await
    .unwrap();
    let ingest = {
        let (app, key) = (std::sync::Arc::clone(&app), key.clone());
        tokio::spawn(async move { app.ingest(&key, &node_error(&sha("c1"))).await })
    };
    // The ingest statement now waits on the uncommitted incident.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    other.commit().await.unwrap();
    let r = ingest.await.unwrap();

    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["incident_id"], "inc_other_instance");
    let orphans: i64 = sqlx::query_scalar(
        "select (select count(*) from incident_events e where not exists (select 1 from incidents i where i.incident_id = e.incident_id))
              + (select count(*) from incident_commits c where not exists (select 1 from incidents i where i.incident_id = c.incident_id))",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    app.fold().await;
    let count: i64 = sqlx::query_scalar(
        "select occurrence_count from incidents where incident_id = 'inc_other_instance'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn an_event_id_stored_concurrently_is_answered_as_that_duplicate() {
    // An SDK retry racing its original: the second statement's insert meets the first's
    // uncommitted event and fails on the unique (project, event id); retried, it sees the event.
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let (_, project) = app.project("acme/checkout-api").await;
    let project_id = project["project_id"].as_str().unwrap().to_owned();
    let key = project["ingest_key"].as_str().unwrap().to_owned();
    let mut original = node_error(&sha("c1"));
    original["error_type"] = json!("RangeError");
    let first = app.ingest(&key, &original).await;
    let first_incident = first.body["incident_id"].as_str().unwrap().to_owned();

    let mut other = app.pool.begin().await.unwrap();
    sqlx::query(
        "insert into incident_events (project_id, incident_id, event_id, occurred_at, payload)
         values ($1, $2, 'raced-1', now(), '{}')",
    )
    .bind(&project_id)
    .bind(&first_incident)
    .execute(&mut *other)
    .await
    .unwrap();
    let ingest = {
        let (app, key) = (std::sync::Arc::clone(&app), key.clone());
        tokio::spawn(async move {
            let mut ev = node_error(&sha("c1"));
            ev["event_id"] = json!("raced-1");
            app.ingest(&key, &ev).await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    other.commit().await.unwrap();
    let r = ingest.await.unwrap();

    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["incident_id"], first_incident.as_str());
    let stored: i64 =
        sqlx::query_scalar("select count(*) from incident_events where event_id = 'raced-1'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_keys_usage_includes_events_not_folded_yet_when_read_or_revoked() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let project_id = project["project_id"].as_str().unwrap();
    let key = project["ingest_key"].as_str().unwrap();
    // A fold that never ends: the advisory lock every fold tries first, held meanwhile.
    let mut folding = app.pool.acquire().await.unwrap();
    sqlx::query("select pg_advisory_lock(7463201)")
        .execute(&mut *folding)
        .await
        .unwrap();
    for _ in 0..3 {
        let r = app.ingest(key, &node_error(&sha("c1"))).await;
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
    let pending: i64 = sqlx::query_scalar("select count(*) from incident_counts_batches")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(pending > 0, "nothing was folded");

    let read = app
        .get(&format!("/v1/projects/{project_id}"), &session)
        .await;
    let key_id = read.body["keys"][0]["key_id"].as_str().unwrap().to_owned();
    let revoked = app
        .send(
            "DELETE",
            &format!("/v1/projects/{project_id}/keys/{key_id}"),
            &[("authorization", &format!("Bearer {session}"))],
            "",
        )
        .await;

    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(read.body["keys"][0]["usage_count"], 3);
    assert!(read.body["keys"][0]["last_used_at"].is_string());
    assert_eq!(revoked.status, 200, "{:?}", revoked.body);
    assert_eq!(revoked.body["usage_count"], 3, "{:?}", revoked.body);
    assert!(revoked.body["last_used_at"].is_string());
    sqlx::query("select pg_advisory_unlock(7463201)")
        .execute(&mut *folding)
        .await
        .unwrap();
}

//! The IDE's queries: `GET /v1/incidents`, `GET/PATCH /v1/incidents/{id}`.

use serde_json::json;

use crate::helpers::{sha, TestApp, TestResponse};

fn py_error(commit: &str, line: u32) -> serde_json::Value {
    json!({
        "error_message": "division by zero",
        "error_type": "ZeroDivisionError",
        "stack_trace": format!("Traceback (most recent call last):\n  File \"/srv/checkout-api/app/main.py\", line 9, in main\n    charge(0)\n  File \"/srv/checkout-api/app/payments.py\", line {line}, in charge\n    return 100 / amount\nZeroDivisionError: division by zero\n"),
        "commit_sha": commit,
        "environment": "production"
    })
}

#[tokio::test]
async fn the_ide_gets_each_incident_located_as_it_was_at_its_commit() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let (old, new) = (sha("old"), sha("new"));
    app.ingest(key, &py_error(&old, 2)).await;
    app.ingest(key, &py_error(&new, 7)).await;

    let at_old = app
        .get(
            &format!("/v1/incidents?repo=acme/checkout-api&commit={old}"),
            &session,
        )
        .await;
    let at_new = app
        .get(
            &format!("/v1/incidents?repo=acme/checkout-api&commit={new}"),
            &session,
        )
        .await;
    let latest = app
        .get("/v1/incidents?repo=acme/checkout-api", &session)
        .await;
    let elsewhere = app
        .get(
            &format!(
                "/v1/incidents?repo=acme/checkout-api&commit={}",
                sha("other")
            ),
            &session,
        )
        .await;

    assert_eq!(at_old.status, 200, "{:?}", at_old.body);
    let i = &at_old.body["incidents"][0];
    assert_eq!(i["file_path"], "app/payments.py");
    assert_eq!(i["line_number"], 2);
    assert_eq!(i["commit_sha"], old.as_str());
    assert_eq!(i["function"], "charge");
    assert_eq!(i["error_type"], "ZeroDivisionError");
    assert_eq!(i["occurrence_count"], 2);
    assert_eq!(i["frames"][0]["file_path"], "app/payments.py");
    assert_eq!(i["frames"][0]["in_app"], true);
    assert_eq!(at_new.body["incidents"][0]["line_number"], 7);
    assert_eq!(latest.body["incidents"][0]["line_number"], 7);
    // The frames are each commit's own, whichever row keeps them.
    let top_line = |r: &TestResponse| {
        let frames = r.body["incidents"][0]["frames"].as_array().unwrap().clone();
        let top = frames
            .iter()
            .find(|f| f["file_path"] == "app/payments.py")
            .unwrap_or_else(|| panic!("no app/payments.py frame in {frames:?}"));
        top["line_number"].as_i64()
    };
    assert_eq!(top_line(&at_old), Some(2));
    assert_eq!(top_line(&at_new), Some(7));
    assert_eq!(top_line(&latest), Some(7));
    assert_eq!(
        latest.body["incidents"][0]["first_commit_sha"],
        old.as_str()
    );
    assert_eq!(latest.body["incidents"][0]["last_commit_sha"], new.as_str());
    assert_eq!(elsewhere.body["incidents"].as_array().unwrap().len(), 0);
    assert!(latest.body["next_cursor"].is_null());
    for field in [
        "column_number",
        "deployment_url",
        "environment",
        "first_seen_at",
        "last_seen_at",
        "level",
        "status",
    ] {
        assert!(i.get(field).is_some(), "{field} is always present");
    }
}

#[tokio::test]
async fn every_commit_gets_its_location_whether_or_not_it_was_the_incidents_last() {
    // Ingest probes for a location only when an event's commit is not the incident's last one
    // (whose row always exists): moving back and forth between commits, folded or not, must
    // still locate the incident at each and count it there.
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let (old, new) = (sha("old"), sha("new"));
    app.ingest(key, &py_error(&old, 2)).await;
    app.fold().await; // last commit: old
    app.ingest(key, &py_error(&new, 7)).await; // a new commit: probed, inserted
    app.ingest(key, &py_error(&old, 2)).await; // not folded yet: last is still old, skipped
    app.fold().await; // last commit: old again (its event came after the new one)
    app.ingest(key, &py_error(&new, 7)).await;
    app.ingest(key, &py_error(&old, 2)).await;
    app.fold().await;

    let list = |commit: String| {
        let app = &app;
        let session = &session;
        async move {
            app.get(
                &format!("/v1/incidents?repo=acme/checkout-api&commit={commit}"),
                session,
            )
            .await
        }
    };
    let (at_old, at_new) = (list(old.clone()).await, list(new.clone()).await);
    assert_eq!(
        at_old.body["incidents"][0]["line_number"], 2,
        "{:?}",
        at_old.body
    );
    assert_eq!(at_old.body["incidents"][0]["commit_sha"], old.as_str());
    assert_eq!(
        at_new.body["incidents"][0]["line_number"], 7,
        "{:?}",
        at_new.body
    );
    assert_eq!(at_new.body["incidents"][0]["commit_sha"], new.as_str());
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select commit_sha, occurrence_count from incident_commits order by occurrence_count desc, commit_sha",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows, vec![(old.clone(), 3), (new.clone(), 2)]);
    // The invariant the skipped probe relies on.
    let orphans: i64 = sqlx::query_scalar(
        "select count(*) from incidents i where i.last_commit_sha is not null and not exists
           (select 1 from incident_commits c where c.incident_id = i.incident_id and c.commit_sha = i.last_commit_sha)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
}

#[tokio::test]
async fn a_commit_shared_by_two_repos_lists_each_repos_own_incidents() {
    // A fork shares its parent's commits: the list at a commit keeps to the asked repo.
    let app = TestApp::spawn().await;
    let (session, parent) = app.project("acme/checkout-api").await;
    let (fork_session, fork) = app.project("acme-fork/checkout-api").await;
    let commit = sha("shared");
    let mut parent_error = py_error(&commit, 2);
    parent_error["error_type"] = json!("ParentError");
    app.ingest(parent["ingest_key"].as_str().unwrap(), &parent_error)
        .await;
    let mut fork_error = py_error(&commit, 7);
    fork_error["error_type"] = json!("ForkError");
    app.ingest(fork["ingest_key"].as_str().unwrap(), &fork_error)
        .await;

    for (repo, token, expected, line) in [
        ("acme/checkout-api", &session, "ParentError", 2),
        ("acme-fork/checkout-api", &fork_session, "ForkError", 7),
    ] {
        let r = app
            .get(&format!("/v1/incidents?repo={repo}&commit={commit}"), token)
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let incidents = r.body["incidents"].as_array().unwrap();
        assert_eq!(incidents.len(), 1, "{repo}: {incidents:?}");
        assert_eq!(incidents[0]["error_type"], expected);
        assert_eq!(incidents[0]["repo"], repo);
        assert_eq!(incidents[0]["line_number"], line);
    }
}

#[tokio::test]
async fn incidents_page_with_a_cursor_newest_activity_first() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    for n in 0..5 {
        let mut ev = py_error(&sha("c"), 2);
        ev["error_type"] = json!(format!("Error{n}"));
        app.ingest(key, &ev).await;
    }

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(
                &format!("/v1/incidents?repo=acme/checkout-api&limit=2{cursor}"),
                &session,
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        for i in r.body["incidents"].as_array().unwrap() {
            seen.push(i["error_type"].as_str().unwrap().to_owned());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }

    assert_eq!(seen, vec!["Error4", "Error3", "Error2", "Error1", "Error0"]);
}

#[tokio::test]
async fn resolved_incidents_leave_the_open_list_and_filters_apply() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let r = app.ingest(key, &py_error(&sha("c"), 2)).await;
    let id = r.body["incident_id"].as_str().unwrap();

    let patch = app
        .send(
            "PATCH",
            &format!("/v1/incidents/{id}"),
            &[("authorization", &format!("Bearer {session}"))],
            json!({"status": "resolved"}).to_string(),
        )
        .await;
    let open = app
        .get("/v1/incidents?repo=acme/checkout-api", &session)
        .await;
    let resolved = app
        .get(
            "/v1/incidents?repo=acme/checkout-api&status=resolved",
            &session,
        )
        .await;
    let staging = app
        .get(
            "/v1/incidents?repo=acme/checkout-api&status=resolved&environment=staging",
            &session,
        )
        .await;
    let production = app
        .get(
            "/v1/incidents?repo=acme/checkout-api&status=resolved&environment=production",
            &session,
        )
        .await;

    assert_eq!(patch.status, 200);
    assert!(patch.body["resolved_at"].is_string());
    assert_eq!(open.body["incidents"].as_array().unwrap().len(), 0);
    assert_eq!(resolved.body["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(staging.body["incidents"].as_array().unwrap().len(), 0);
    assert_eq!(production.body["incidents"].as_array().unwrap().len(), 1);
    let audit: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'incident.resolved'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(audit, 1);
}

#[tokio::test]
async fn the_environment_filter_finds_an_incident_by_its_own_and_its_other_environments() {
    // The incident's own environment is written with it; folds add only the others.
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    app.ingest(key, &py_error(&sha("c"), 2)).await;
    let own: Vec<String> = sqlx::query_scalar("select environment from incident_environments")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        own,
        ["production"],
        "written with the incident, before any fold"
    );
    let mut staging = py_error(&sha("c"), 2);
    staging["environment"] = json!("staging");
    app.ingest(key, &staging).await;
    app.ingest(key, &py_error(&sha("c"), 2)).await;
    app.fold().await;

    let listed = |env: &'static str| {
        let (app, session) = (&app, &session);
        async move {
            app.get(
                &format!("/v1/incidents?repo=acme/checkout-api&environment={env}"),
                session,
            )
            .await
            .body["incidents"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(listed("production").await, 1);
    assert_eq!(listed("staging").await, 1);
    assert_eq!(listed("preview").await, 0);
    let rows: i64 = sqlx::query_scalar("select count(*) from incident_environments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn one_incident_comes_with_its_recent_events() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let r = app.ingest(key, &py_error(&sha("c"), 2)).await;
    app.ingest(key, &py_error(&sha("c"), 2)).await;
    let id = r.body["incident_id"].as_str().unwrap();

    let one = app.get(&format!("/v1/incidents/{id}"), &session).await;

    assert_eq!(one.status, 200);
    assert_eq!(one.body["incident_id"], id);
    assert_eq!(one.body["recent_events"].as_array().unwrap().len(), 2);
    assert_eq!(
        one.body["recent_events"][0]["commit_sha"],
        sha("c").as_str()
    );
}

#[tokio::test]
async fn a_user_without_access_sees_404s_exactly_as_for_missing_things() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    let r = app.ingest(key, &py_error(&sha("c"), 2)).await;
    let id = r.body["incident_id"].as_str().unwrap();
    let stranger = app.sign_in(77, "stranger").await;

    let list = app
        .get("/v1/incidents?repo=acme/checkout-api", &stranger)
        .await;
    let missing_repo = app
        .get("/v1/incidents?repo=acme/nothing-here", &stranger)
        .await;
    let one = app.get(&format!("/v1/incidents/{id}"), &stranger).await;
    let missing = app
        .get("/v1/incidents/inc_doesnotexist0000000", &stranger)
        .await;
    let patch = app
        .send(
            "PATCH",
            &format!("/v1/incidents/{id}"),
            &[("authorization", &format!("Bearer {stranger}"))],
            json!({"status": "resolved"}).to_string(),
        )
        .await;

    assert_eq!(
        (list.status, list.body.clone()),
        (missing_repo.status, missing_repo.body.clone())
    );
    assert_eq!(list.status, 404);
    assert_eq!(
        (one.status, one.body.clone()),
        (missing.status, missing.body.clone())
    );
    assert_eq!(one.status, 404);
    assert_eq!(patch.status, 404);
}

#[tokio::test]
async fn a_reader_of_the_repo_sees_its_incidents_and_access_is_cached() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    app.ingest(key, &py_error(&sha("c"), 2)).await;
    let reader = app.sign_in(78, "reader").await;
    app.github.grant("reader", "acme/checkout-api", "read");

    let a = app
        .get("/v1/incidents?repo=Acme/Checkout-API", &reader)
        .await;
    let b = app
        .get("/v1/incidents?repo=acme/checkout-api", &reader)
        .await;

    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(b.body["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.github.count("GET /repos/"),
        2,
        "admin once at creation, reader once"
    );
}

#[tokio::test]
async fn bad_query_parameters_are_422s_and_missing_sessions_401s() {
    let app = TestApp::spawn().await;
    let (session, _) = app.project("acme/checkout-api").await;
    let cases = [
        ("/v1/incidents", "missing_repo"),
        ("/v1/incidents?repo=nope", "invalid_repo"),
        (
            "/v1/incidents?repo=acme/checkout-api&commit=xyz",
            "invalid_commit_sha",
        ),
        (
            "/v1/incidents?repo=acme/checkout-api&status=maybe",
            "invalid_status",
        ),
        (
            "/v1/incidents?repo=acme/checkout-api&limit=0",
            "invalid_limit",
        ),
        (
            "/v1/incidents?repo=acme/checkout-api&cursor=!!",
            "invalid_cursor",
        ),
    ];
    for (path, code) in cases {
        let r = app.get(path, &session).await;
        assert_eq!((r.status, r.code()), (422, code), "{path}");
    }
    let none = app
        .send("GET", "/v1/incidents?repo=acme/checkout-api", &[], "")
        .await;
    let bogus = app
        .get("/v1/incidents?repo=acme/checkout-api", "cairn_s_bogus")
        .await;
    assert_eq!((none.status, none.code()), (401, "missing_session"));
    assert_eq!((bogus.status, bogus.code()), (401, "invalid_session"));
}

#[tokio::test]
async fn a_nul_byte_in_a_query_parameter_or_a_cursor_is_the_ordinary_422() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    use base64::Engine;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1700000000000000|inc_\0");
    let project_id = project["project_id"].as_str().unwrap();

    let env = app
        .get(
            "/v1/incidents?repo=acme/checkout-api&environment=%00",
            &session,
        )
        .await;
    let cursor = app
        .get(
            &format!("/v1/incidents?repo=acme/checkout-api&cursor={forged}"),
            &session,
        )
        .await;
    let audit = app
        .get(
            &format!("/v1/projects/{project_id}/audit?before=%00"),
            &session,
        )
        .await;
    let login = app
        .send(
            "GET",
            "/v1/auth/github/login?return_to=http%3A%2F%2Flocalhost%3A5173%2F%00",
            &[],
            "",
        )
        .await;

    assert_eq!((env.status, env.code()), (422, "invalid_query_parameter"));
    assert_eq!((cursor.status, cursor.code()), (422, "invalid_cursor"));
    assert_eq!(
        (audit.status, audit.code()),
        (422, "invalid_query_parameter")
    );
    assert_eq!(
        (login.status, login.code()),
        (422, "invalid_query_parameter")
    );
}

#[tokio::test]
async fn access_removed_on_github_hides_the_repo_once_the_cache_expires() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    app.ingest(key, &py_error(&sha("c"), 2)).await;
    let reader = app.sign_in(79, "leaver").await;
    app.github.grant("leaver", "acme/checkout-api", "read");
    assert_eq!(
        app.get("/v1/incidents?repo=acme/checkout-api", &reader)
            .await
            .status,
        200
    );

    app.github.revoke("leaver", "acme/checkout-api");
    let cached = app
        .get("/v1/incidents?repo=acme/checkout-api", &reader)
        .await;
    sqlx::query("update repo_access set checked_at = now() - interval '1 hour'")
        .execute(&app.pool)
        .await
        .unwrap();
    let expired = app
        .get("/v1/incidents?repo=acme/checkout-api", &reader)
        .await;

    assert_eq!(
        cached.status, 200,
        "within the cache window the answer stands"
    );
    assert_eq!(expired.status, 404);
}

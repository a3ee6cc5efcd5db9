//! `GET /v1/incidents?at=` and `GET /v1/incidents/{id}?at=` over the real server: incidents
//! created through the ingest API, located at the IDE's commit in the real git history
//! `translate::History` serves, each line checked against the code at `at`.

use crate::fake_git::Failure;
use crate::helpers::{sha, TestApp, TestResponse};
use crate::translate::{served, REPO};

/// A Python error whose top in-app frame is `path:line` (a Lambda path: `/var/task` is the
/// repo root), under `error_type` so several incidents can live side by side.
fn py_error(commit: &str, error_type: &str, path: &str, line: u32) -> serde_json::Value {
    serde_json::json!({
        "error_message": "division by zero",
        "error_type": error_type,
        "stack_trace": format!("Traceback (most recent call last):\n  File \"/var/task/app/main.py\", line 3, in <module>\n    charge(0)\n  File \"/var/task/{path}\", line {line}, in charge\n    ratio = 100 / amount\n{error_type}: division by zero\n"),
        "commit_sha": commit,
        "environment": "production"
    })
}

/// A project for the served repository, with one incident per `(error type, commit, path,
/// line)`; the reader's session.
async fn with_incidents(app: &TestApp, seen: &[(&str, &str, &str, u32)]) -> String {
    let (session, project) = app.project(REPO).await;
    let key = project["ingest_key"].as_str().unwrap();
    for (error_type, commit, path, line) in seen {
        let r = app
            .ingest(key, &py_error(commit, error_type, path, *line))
            .await;
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
    session
}

async fn list_at(app: &TestApp, session: &str, at: &str) -> TestResponse {
    let r = app
        .get(&format!("/v1/incidents?repo={REPO}&at={at}"), session)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r
}

/// The incident of `error_type` in a listing.
fn incident<'a>(r: &'a TestResponse, error_type: &str) -> &'a serde_json::Value {
    r.body["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["error_type"] == error_type)
        .unwrap_or_else(|| panic!("no {error_type} in {:?}", r.body))
}

/// The frame of an incident in `file`.
fn frame<'a>(i: &'a serde_json::Value, file: &str) -> &'a serde_json::Value {
    i["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_path"] == file)
        .unwrap_or_else(|| panic!("no frame in {file}: {:?}", i["frames"]))
}

#[tokio::test]
async fn the_ide_sees_each_incident_at_its_own_checkout() {
    let (app, h) = served().await;
    let initial = h.at("initial");
    let line = h.repo.line_of(&initial, "app/payments.py", "100 / amount");
    let session = with_incidents(
        &app,
        &[("ZeroDivisionError", &initial, "app/payments.py", line)],
    )
    .await;
    let cases = [
        (
            "initial",
            "same",
            "app/payments.py",
            Some("100 / amount"),
            "unchanged",
        ),
        (
            "insert_above",
            "ahead",
            "app/payments.py",
            Some("100 / amount"),
            "unchanged",
        ),
        (
            "edit",
            "ahead",
            "app/payments.py",
            Some("100 / max(amount, 1)"),
            "changed",
        ),
        (
            "rename",
            "ahead",
            "app/billing.py",
            Some("100 / max(amount, 1)"),
            "changed",
        ),
        (
            "delete_line",
            "ahead",
            "app/billing.py",
            Some("total = amount + fee"),
            "deleted",
        ),
        (
            "delete_file",
            "ahead",
            "app/payments.py",
            None,
            "file_deleted",
        ),
        (
            "feature",
            "ahead",
            "app/payments.py",
            Some("100 / amount"),
            "unchanged",
        ),
        (
            "big",
            "ahead",
            "app/payments.py",
            Some("100 / amount"),
            "unchanged",
        ),
    ];
    for (at, relation, path, holds, state) in cases {
        let r = list_at(&app, &session, &h.at(at)).await;

        let i = incident(&r, "ZeroDivisionError");
        let expected = holds.map(|needle| h.repo.line_of(&h.at(at), path, needle));
        assert_eq!(i["relation"], relation, "at {at}");
        assert_eq!(i["line_state"], state, "at {at}");
        assert_eq!(i["file_path"], path, "at {at}");
        assert_eq!(
            i["line_number"].as_u64().map(|l| l as u32),
            expected,
            "at {at}"
        );
        assert_eq!(i["seen_commit_sha"], initial.as_str());
        assert_eq!(i["seen_file_path"], "app/payments.py");
        assert_eq!(i["seen_line_number"], line);
        let top = frame(i, path);
        assert_eq!(top["line_state"], state, "the frame too, at {at}");
        assert_eq!(top["line_number"], i["line_number"], "at {at}");
        assert_eq!(frame(i, "app/main.py")["line_state"], "unchanged");
        assert_eq!(
            r.body["translation"],
            serde_json::json!({"status": "complete", "reason": null})
        );
    }
}

#[tokio::test]
async fn incidents_seen_ahead_or_on_another_branch_are_located_back() {
    let (app, h) = served().await;
    let (rename, edit) = (h.at("rename"), h.at("edit"));
    let renamed = h
        .repo
        .line_of(&rename, "app/billing.py", "100 / max(amount, 1)");
    let edited = h
        .repo
        .line_of(&edit, "app/payments.py", "100 / max(amount, 1)");
    let session = with_incidents(
        &app,
        &[
            ("ZeroDivisionError", &rename, "app/billing.py", renamed),
            ("ArithmeticError", &edit, "app/payments.py", edited),
        ],
    )
    .await;
    let (behind, feature) = (h.at("insert_above"), h.at("feature"));

    let at_behind = list_at(&app, &session, &behind).await;
    let on_feature = list_at(&app, &session, &feature).await;

    let i = incident(&at_behind, "ZeroDivisionError");
    assert_eq!(i["relation"], "behind");
    assert_eq!(
        i["file_path"], "app/payments.py",
        "the rename followed back"
    );
    assert_eq!(i["line_state"], "changed");
    assert_eq!(
        i["line_number"],
        h.repo.line_of(&behind, "app/payments.py", "100 / amount")
    );
    let i = incident(&on_feature, "ArithmeticError");
    assert_eq!(i["relation"], "diverged");
    assert_eq!(i["line_state"], "changed");
    assert_eq!(
        i["line_number"],
        h.repo.line_of(&feature, "app/payments.py", "100 / amount")
    );
    assert_eq!(on_feature.body["translation"]["status"], "complete");
}

#[tokio::test]
async fn one_incident_is_located_at_the_ides_commit_too() {
    let (app, h) = served().await;
    let initial = h.at("initial");
    let session = with_incidents(
        &app,
        &[("ZeroDivisionError", &initial, "app/payments.py", 10)],
    )
    .await;
    let list = app
        .get(&format!("/v1/incidents?repo={REPO}"), &session)
        .await;
    let id = list.body["incidents"][0]["incident_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = h.at("insert_above");

    let r = app
        .get(&format!("/v1/incidents/{id}?at={at}"), &session)
        .await;
    let plain = app.get(&format!("/v1/incidents/{id}"), &session).await;

    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["line_number"], 13);
    assert_eq!(r.body["relation"], "ahead");
    assert_eq!(r.body["translation"]["status"], "complete");
    assert!(r.body["recent_events"].is_array());
    assert_eq!(plain.body["line_number"], 10);
    assert!(
        plain.body.get("relation").is_none(),
        "no `at`, no translation"
    );
}

#[tokio::test]
async fn github_trouble_never_fails_the_listing() {
    let (app, h) = served().await;
    let initial = h.at("initial");
    let session = with_incidents(
        &app,
        &[("ZeroDivisionError", &initial, "app/payments.py", 10)],
    )
    .await;
    let unpushed = sha("a commit only on the laptop");
    let cases = [
        (Some(Failure::RateLimited), h.at("edit"), "rate_limited"),
        (
            Some(Failure::ServerError),
            h.at("edit"),
            "github_unavailable",
        ),
        (None, unpushed, "unknown_commit"),
    ];
    for (failure, at, reason) in cases {
        app.github.git.fail(failure);
        let r = list_at(&app, &session, &at).await;

        let i = incident(&r, "ZeroDivisionError");
        assert_eq!(
            r.body["translation"],
            serde_json::json!({"status": "none", "reason": reason})
        );
        assert_eq!(
            (&i["relation"], &i["line_state"]),
            (&"unknown".into(), &"unknown".into())
        );
        assert_eq!(i["line_number"], 10, "the seen line, untranslated");
        assert_eq!(frame(i, "app/payments.py")["line_state"], "unknown");
    }
    let r = app
        .get(&format!("/v1/incidents?repo={REPO}&at=main"), &session)
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_commit_sha"));
}

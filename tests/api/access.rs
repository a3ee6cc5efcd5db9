//! Repo access (issue 18): it follows the session's own GitHub token, GitHub's repository id,
//! and GitHub's definite answers only; writing needs push access, administering needs admin,
//! re-checked within a minute.

use serde_json::{json, Value};

use crate::fake_github::RepoFailure;
use crate::helpers::{sha, TestApp};

/// Trades a GitHub token the fake knows for a cairn session, as the VS Code extension does.
async fn session_from(app: &TestApp, github_token: &str) -> String {
    let r = app
        .send(
            "POST",
            "/v1/auth/token",
            &[("content-type", "application/json")],
            json!({"github_token": github_token}).to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "token exchange: {:?}", r.body);
    r.body["session_token"].as_str().unwrap().to_owned()
}

/// One event for the project of `key`; returns the incident id.
async fn an_incident(app: &TestApp, key: &str) -> String {
    let r = app
        .ingest(
            key,
            &json!({"error_message": "boom", "environment": "production", "commit_sha": sha("c1")}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    r.body["incident_id"].as_str().unwrap().to_owned()
}

async fn patch_status(
    app: &TestApp,
    session: &str,
    incident: &str,
    status: &str,
) -> crate::helpers::TestResponse {
    app.send(
        "PATCH",
        &format!("/v1/incidents/{incident}"),
        &[
            ("authorization", &format!("Bearer {session}")),
            ("content-type", "application/json"),
        ],
        json!({"status": status}).to_string(),
    )
    .await
}

/// How many answers of GitHub are cached.
async fn cached_answers(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from repo_access")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap()
}

#[tokio::test]
async fn a_session_made_from_a_scopeless_token_never_borrows_the_users_rights() {
    // The victim administers a private repo, with a project and an incident.
    let app = TestApp::spawn().await;
    let (victim, project) = app.project("acme/private").await;
    let pid = str_of(&project, "project_id").to_owned();
    an_incident(&app, str_of(&project, "ingest_key")).await;
    // Another OAuth app holds a token of the victim with no scope; it signs in to cairn with it.
    app.github.add_token(
        1000 + "acme/private".len() as i64,
        "admin-acme-private",
        "gho_no_scope",
        "",
    );
    let borrowed = session_from(&app, "gho_no_scope").await;
    // Then the victim's own IDE fills the permission cache.
    let victims_read = app.get("/v1/incidents?repo=acme/private", &victim).await;
    assert_eq!(victims_read.status, 200, "{:?}", victims_read.body);

    let read = app.get("/v1/incidents?repo=acme/private", &borrowed).await;
    let minted = app
        .post_json(&format!("/v1/projects/{pid}/keys"), &borrowed, &json!({}))
        .await;
    let shown = app.get(&format!("/v1/projects/{pid}"), &borrowed).await;
    let missing = app.get("/v1/incidents?repo=acme/ghost", &borrowed).await;

    // The scopeless session sees nothing of the private repo: the 404 of a repo that does not
    // exist.
    assert_eq!((read.status, read.code()), (404, "not_found"));
    assert_eq!(read.body, missing.body);
    assert_eq!((minted.status, minted.code()), (404, "not_found"));
    assert_eq!((shown.status, shown.code()), (404, "not_found"));
    let keys: i64 = sqlx::query_scalar("select count(*) from ingest_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(keys, 1, "no key was minted");
    // And its `none` does not lock the victim's own session out.
    let again = app.get("/v1/incidents?repo=acme/private", &victim).await;
    let victims_key = app
        .post_json(&format!("/v1/projects/{pid}/keys"), &victim, &json!({}))
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(victims_key.status, 201, "{:?}", victims_key.body);
}

#[tokio::test]
async fn a_token_without_repo_scopes_only_reads_a_public_repo() {
    let app = TestApp::spawn().await;
    app.github.create_repo("acme/public", false);
    let (admin, project) = app.project("acme/public").await;
    let pid = str_of(&project, "project_id").to_owned();
    let incident = an_incident(&app, str_of(&project, "ingest_key")).await;
    app.github.add_token(
        1000 + "acme/public".len() as i64,
        "admin-acme-public",
        "gho_no_scope",
        "read:user",
    );
    let scopeless = session_from(&app, "gho_no_scope").await;

    let read = app.get("/v1/incidents?repo=acme/public", &scopeless).await;
    let minted = app
        .post_json(&format!("/v1/projects/{pid}/keys"), &scopeless, &json!({}))
        .await;
    let resolved = patch_status(&app, &scopeless, &incident, "resolved").await;
    let by_the_admin = app
        .post_json(&format!("/v1/projects/{pid}/keys"), &admin, &json!({}))
        .await;

    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(read.body["incidents"].as_array().unwrap().len(), 1);
    assert_eq!((minted.status, minted.code()), (403, "not_repo_admin"));
    assert_eq!((resolved.status, resolved.code()), (403, "not_repo_writer"));
    assert_eq!(
        by_the_admin.status, 201,
        "the user's own token keeps its rights"
    );
}

#[tokio::test]
async fn resolving_and_reopening_need_push_access() {
    let app = TestApp::spawn().await;
    app.github.create_repo("acme/web", false);
    let (_, project) = app.project("acme/web").await;
    let pid = str_of(&project, "project_id").to_owned();
    let incident = an_incident(&app, str_of(&project, "ingest_key")).await;
    let reader = app.sign_in(71, "reader").await;
    app.github.grant("reader", "acme/web", "read");
    let stranger = app.sign_in(72, "stranger").await;
    let writer = app.sign_in(73, "writer").await;
    app.github.grant("writer", "acme/web", "write");

    let seen = app.get(&format!("/v1/incidents/{incident}"), &reader).await;
    let by_reader = patch_status(&app, &reader, &incident, "resolved").await;
    let by_stranger = patch_status(&app, &stranger, &incident, "resolved").await;
    let still: String = sqlx::query_scalar("select status from incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let by_writer = patch_status(&app, &writer, &incident, "resolved").await;
    let reopened = patch_status(&app, &writer, &incident, "open").await;
    let key_by_writer = app
        .post_json(&format!("/v1/projects/{pid}/keys"), &writer, &json!({}))
        .await;

    assert_eq!(seen.status, 200, "reading follows read access");
    assert_eq!(
        (by_reader.status, by_reader.code()),
        (403, "not_repo_writer")
    );
    assert_eq!(
        (by_stranger.status, by_stranger.code()),
        (403, "not_repo_writer"),
        "anyone may read a public repo, not write to it"
    );
    assert_eq!(still, "open");
    assert_eq!(by_writer.status, 200, "{:?}", by_writer.body);
    assert_eq!(by_writer.body["status"], "resolved");
    assert_eq!(reopened.body["status"], "open");
    assert_eq!(
        (key_by_writer.status, key_by_writer.code()),
        (403, "not_repo_admin")
    );
}

#[tokio::test]
async fn a_renamed_repo_keeps_its_project_under_its_new_name() {
    let app = TestApp::spawn().await;
    let (admin, project) = app.project("acme/old-name").await;
    let pid = str_of(&project, "project_id").to_owned();
    an_incident(&app, str_of(&project, "ingest_key")).await;
    let repo_id = app.github.repo_id("acme/old-name");

    app.github.rename_repo("acme/old-name", "acme/new-name");
    sqlx::query("update repo_access set checked_at = now() - interval '1 hour'")
        .execute(&app.pool)
        .await
        .unwrap();
    let by_new_name = app.get("/v1/incidents?repo=acme/new-name", &admin).await;
    let by_old_name = app.get("/v1/incidents?repo=acme/old-name", &admin).await;
    let shown = app.get(&format!("/v1/projects/{pid}"), &admin).await;

    assert_eq!(by_new_name.status, 200, "{:?}", by_new_name.body);
    assert_eq!(by_new_name.body["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(by_new_name.body["incidents"][0]["project_id"], pid.as_str());
    assert_eq!(by_new_name.body["incidents"][0]["repo"], "acme/new-name");
    assert_eq!(
        by_old_name.status, 200,
        "GitHub redirects the old name to the repo"
    );
    assert_eq!(by_old_name.body["incidents"][0]["project_id"], pid.as_str());
    assert_eq!(shown.body["repo"], "acme/new-name");
    let stored: (i64, String) =
        sqlx::query_as("select github_repo_id, repo_full_name from projects where project_id = $1")
            .bind(&pid)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, (repo_id, "acme/new-name".to_owned()));
}

#[tokio::test]
async fn a_repo_created_again_under_an_old_name_is_another_repo() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/app").await;
    let old = str_of(&project, "project_id").to_owned();
    an_incident(&app, str_of(&project, "ingest_key")).await;
    // The repo is deleted, and someone else creates one with the same name.
    app.github.delete_repo("acme/app");
    let mallory = app.sign_in(66, "mallory").await;
    app.github.grant("mallory", "acme/app", "admin");

    let listed = app.get("/v1/incidents?repo=acme/app", &mallory).await;
    let old_project = app.get(&format!("/v1/projects/{old}"), &mallory).await;
    let old_keys = app
        .post_json(&format!("/v1/projects/{old}/keys"), &mallory, &json!({}))
        .await;
    let created = app
        .post_json("/v1/projects", &mallory, &json!({"repo": "acme/app"}))
        .await;
    let listed_again = app.get("/v1/incidents?repo=acme/app", &mallory).await;

    assert_eq!((listed.status, listed.code()), (404, "not_found"));
    assert_eq!((old_project.status, old_project.code()), (404, "not_found"));
    assert_eq!((old_keys.status, old_keys.code()), (404, "not_found"));
    assert_eq!(
        created.status, 201,
        "a new repo gets a new project: {:?}",
        created.body
    );
    assert_ne!(created.body["project_id"], old.as_str());
    assert_eq!(listed_again.status, 200);
    assert_eq!(
        listed_again.body["incidents"].as_array().unwrap().len(),
        0,
        "the old repo's incidents are not the new repo's"
    );
}

#[tokio::test]
async fn a_project_made_before_repository_ids_takes_its_id_at_its_first_check() {
    let app = TestApp::spawn().await;
    let (admin, project) = app.project("acme/legacy").await;
    let pid = str_of(&project, "project_id").to_owned();
    an_incident(&app, str_of(&project, "ingest_key")).await;
    // As migration 0014 left it: no id, and no cached answer.
    sqlx::query("update projects set github_repo_id = null")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("delete from repo_access")
        .execute(&app.pool)
        .await
        .unwrap();

    let shown = app.get(&format!("/v1/projects/{pid}"), &admin).await;
    let recorded: Option<i64> =
        sqlx::query_scalar("select github_repo_id from projects where project_id = $1")
            .bind(&pid)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    app.github.rename_repo("acme/legacy", "acme/renamed");
    sqlx::query("update repo_access set checked_at = now() - interval '1 hour'")
        .execute(&app.pool)
        .await
        .unwrap();
    let renamed = app.get("/v1/incidents?repo=acme/renamed", &admin).await;

    assert_eq!(shown.status, 200, "{:?}", shown.body);
    assert_eq!(recorded, Some(app.github.repo_id("acme/renamed")));
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(renamed.body["incidents"][0]["project_id"], pid.as_str());
}

#[tokio::test]
async fn a_project_made_before_repository_ids_is_not_given_to_a_repo_created_again_under_its_name()
{
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/app").await;
    let old = str_of(&project, "project_id").to_owned();
    sqlx::query("update projects set github_repo_id = null")
        .execute(&app.pool)
        .await
        .unwrap();
    // The repo was deleted and re-created, and the new repo already has a project of its own.
    app.github.delete_repo("acme/app");
    let mallory = app.sign_in(67, "mallory").await;
    app.github.grant("mallory", "acme/app", "admin");
    let id = app.github.repo_id("acme/app");
    sqlx::query(
        "insert into projects (project_id, owner_id, repo_owner, repo_name, repo_full_name, github_repo_id)
         select 'proj_mallorysownproject0', id, 'acme', 'app', 'acme/app', $1 from users where github_login = 'mallory'",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();

    let old_project = app.get(&format!("/v1/projects/{old}"), &mallory).await;

    assert_eq!((old_project.status, old_project.code()), (404, "not_found"));
}

#[tokio::test]
async fn rate_limits_and_sso_refusals_are_answered_and_never_cached() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/web").await;
    let pid = str_of(&project, "project_id").to_owned();
    let reader = app.sign_in(81, "reader").await;
    app.github.grant("reader", "acme/web", "read");

    let cached_before = cached_answers(&app).await;
    app.github.fail_repo_answers(Some(RepoFailure::RateLimited));
    let limited = app.get("/v1/incidents?repo=acme/web", &reader).await;
    let limited_project = app.get(&format!("/v1/projects/{pid}"), &reader).await;
    app.github.fail_repo_answers(Some(RepoFailure::SsoRequired));
    let sso = app.get("/v1/incidents?repo=acme/web", &reader).await;
    let cached_after = cached_answers(&app).await;
    app.github.fail_repo_answers(None);
    let after = app.get("/v1/incidents?repo=acme/web", &reader).await;
    let project_after = app.get(&format!("/v1/projects/{pid}"), &reader).await;

    assert_eq!(
        (limited.status, limited.code()),
        (503, "github_rate_limited")
    );
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(
        (limited_project.status, limited_project.code()),
        (503, "github_rate_limited")
    );
    assert_eq!((sso.status, sso.code()), (403, "github_sso_required"));
    assert_eq!(cached_after, cached_before, "no answer was cached");
    assert_eq!(
        after.status, 200,
        "the reader is not locked out: {:?}",
        after.body
    );
    assert_eq!(project_after.status, 200);
}

#[tokio::test]
async fn admin_actions_check_github_again_after_a_minute_while_reads_use_the_cache() {
    let app = TestApp::spawn().await;
    let (admin, project) = app.project("acme/web").await;
    let pid = str_of(&project, "project_id").to_owned();
    let login = "admin-acme-web";
    // The admin is demoted on GitHub a minute after cairn last asked.
    app.github.grant(login, "acme/web", "read");
    sqlx::query("update repo_access set checked_at = now() - interval '61 seconds'")
        .execute(&app.pool)
        .await
        .unwrap();
    // (`GET /repos` counts `GET /repositories/{id}` too.)
    let asked = app.github.count("GET /repos");

    let read = app.get(&format!("/v1/projects/{pid}"), &admin).await;
    let asked_for_read = app.github.count("GET /repos") - asked;
    let minted = app
        .post_json(&format!("/v1/projects/{pid}/keys"), &admin, &json!({}))
        .await;
    let audit = app.get(&format!("/v1/projects/{pid}/audit"), &admin).await;
    let revoked = app
        .send(
            "DELETE",
            &format!("/v1/projects/{pid}/keys/{}", str_of(&project, "key_id")),
            &[("authorization", &format!("Bearer {admin}"))],
            "",
        )
        .await;

    assert_eq!(read.status, 200, "reads may use the five-minute cache");
    assert_eq!(asked_for_read, 0);
    assert_eq!((minted.status, minted.code()), (403, "not_repo_admin"));
    assert_eq!((audit.status, audit.code()), (403, "not_repo_admin"));
    assert_eq!((revoked.status, revoked.code()), (403, "not_repo_admin"));
}

#[tokio::test]
async fn a_revoked_github_token_gets_one_answer_whether_or_not_the_repo_has_a_project() {
    let app = TestApp::spawn().await;
    app.project("acme/web").await;
    let reader = app.sign_in(91, "reader").await;
    app.github.grant("reader", "acme/web", "read");
    app.github.grant("reader", "acme/no-project", "read");

    app.github.revoke_token("gho_reader_91");
    let with_project = app.get("/v1/incidents?repo=acme/web", &reader).await;
    let without = app.get("/v1/incidents?repo=acme/no-project", &reader).await;
    let nowhere = app
        .get("/v1/incidents?repo=acme/nothing-here", &reader)
        .await;

    assert_eq!(
        (with_project.status, with_project.code()),
        (401, "invalid_github_token")
    );
    assert_eq!(
        (with_project.status, &with_project.body),
        (without.status, &without.body)
    );
    assert_eq!(
        (with_project.status, &with_project.body),
        (nowhere.status, &nowhere.body)
    );
}

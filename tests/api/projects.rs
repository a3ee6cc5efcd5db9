//! `/v1/projects…`: creation for repo admins, listing, keys.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn an_admin_creates_a_project_and_gets_a_key_and_dsn_once() {
    let app = TestApp::spawn().await;
    let session = app.sign_in(1, "octocat").await;
    app.github.grant("octocat", "acme/checkout-api", "admin");

    let r = app
        .post_json(
            "/v1/projects",
            &session,
            &json!({"repo": "acme/checkout-api"}),
        )
        .await;

    assert_eq!(r.status, 201, "{:?}", r.body);
    let key = r.body["ingest_key"].as_str().unwrap();
    assert!(key.starts_with("cairn_ik_") && key.len() == 41);
    assert!(r.body["project_id"].as_str().unwrap().starts_with("proj_"));
    let sentry_id = r.body["sentry_id"].as_i64().unwrap();
    let host = app.addr.trim_start_matches("http://");
    assert_eq!(r.body["dsn"], format!("http://{key}@{host}/{sentry_id}"));
    let stored: Vec<u8> = sqlx::query_scalar("select key_hash from ingest_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        stored,
        shared::crypto::sha256(key.as_bytes()),
        "only the hash is stored"
    );
    let list = app.get("/v1/projects", &session).await;
    assert_eq!(list.body["projects"][0]["repo"], "acme/checkout-api");
    assert!(
        !list.raw.windows(key.len()).any(|w| w == key.as_bytes()),
        "the key is never listed"
    );
    assert!(list.body["projects"][0]["keys"][0]["prefix"]
        .as_str()
        .unwrap()
        .starts_with("cairn_ik_"));
}

#[tokio::test]
async fn a_repo_with_a_project_is_a_409() {
    let app = TestApp::spawn().await;
    let (session, _) = app.project("acme/checkout-api").await;

    let again = app
        .post_json(
            "/v1/projects",
            &session,
            &json!({"repo": "ACME/checkout-api"}),
        )
        .await;

    assert_eq!((again.status, again.code()), (409, "project_exists"));
}

#[tokio::test]
async fn only_repo_admins_create_projects() {
    let app = TestApp::spawn().await;
    let writer = app.sign_in(2, "writer").await;
    app.github.grant("writer", "acme/checkout-api", "write");
    let stranger = app.sign_in(3, "stranger").await;

    let w = app
        .post_json(
            "/v1/projects",
            &writer,
            &json!({"repo": "acme/checkout-api"}),
        )
        .await;
    let s = app
        .post_json(
            "/v1/projects",
            &stranger,
            &json!({"repo": "acme/checkout-api"}),
        )
        .await;
    let bad = app
        .post_json("/v1/projects", &writer, &json!({"repo": "not a repo"}))
        .await;
    let shape = app
        .post_json("/v1/projects", &writer, &json!({"name": "x"}))
        .await;

    assert_eq!((w.status, w.code()), (403, "not_repo_admin"));
    assert_eq!((s.status, s.code()), (404, "not_found"));
    assert_eq!((bad.status, bad.code()), (422, "invalid_repo"));
    assert_eq!((shape.status, shape.code()), (422, "invalid_body"));
    let n: i64 = sqlx::query_scalar("select count(*) from projects")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn keys_rotate_without_downtime() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let pid = project["project_id"].as_str().unwrap();
    let old = project["ingest_key"].as_str().unwrap();

    let new = app
        .post_json(&format!("/v1/projects/{pid}/keys"), &session, &json!({}))
        .await;
    assert_eq!(new.status, 201, "{:?}", new.body);
    let new_key = new.body["ingest_key"].as_str().unwrap();
    let ev =
        json!({"error_message": "x", "environment": "p", "commit_sha": crate::helpers::sha("c")});
    assert_eq!(app.ingest(old, &ev).await.status, 202);
    assert_eq!(app.ingest(new_key, &ev).await.status, 202);
    let revoke = app
        .send(
            "DELETE",
            &format!(
                "/v1/projects/{pid}/keys/{}",
                project["key_id"].as_str().unwrap()
            ),
            &[("authorization", &format!("Bearer {session}"))],
            "",
        )
        .await;
    assert_eq!(revoke.status, 200);

    assert_eq!(app.ingest(old, &ev).await.status, 401);
    assert_eq!(app.ingest(new_key, &ev).await.status, 202);
    let listed = app.get(&format!("/v1/projects/{pid}"), &session).await;
    assert_eq!(listed.body["keys"].as_array().unwrap().len(), 2);
    let audit: Vec<String> = sqlx::query_scalar("select action from audit_log order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        audit,
        vec![
            "project.created",
            "key.created",
            "key.created",
            "key.revoked"
        ]
    );
}

#[tokio::test]
async fn another_tenant_cannot_see_or_manage_a_project() {
    let app = TestApp::spawn().await;
    let (_, project) = app.project("acme/checkout-api").await;
    let pid = project["project_id"].as_str().unwrap();
    let other = app.sign_in(9, "other").await;

    let get = app.get(&format!("/v1/projects/{pid}"), &other).await;
    let missing = app
        .get("/v1/projects/proj_doesnotexist000000", &other)
        .await;
    let key = app
        .post_json(&format!("/v1/projects/{pid}/keys"), &other, &json!({}))
        .await;
    let list = app.get("/v1/projects", &other).await;

    assert_eq!((get.status, &get.body), (missing.status, &missing.body));
    assert_eq!(get.status, 404);
    assert_eq!(key.status, 404);
    assert_eq!(list.body["projects"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn admins_read_the_audit_log_and_others_cannot() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let pid = project["project_id"].as_str().unwrap();
    let key = project["ingest_key"].as_str().unwrap();
    let r = app.ingest(key, &json!({"error_message": "x", "environment": "p", "commit_sha": crate::helpers::sha("c")})).await;
    let inc = r.body["incident_id"].as_str().unwrap();
    let auth = format!("Bearer {session}");
    app.send(
        "PATCH",
        &format!("/v1/incidents/{inc}"),
        &[("authorization", &auth)],
        json!({"status": "resolved"}).to_string(),
    )
    .await;
    app.send(
        "PATCH",
        &format!("/v1/incidents/{inc}"),
        &[("authorization", &auth)],
        json!({"status": "open"}).to_string(),
    )
    .await;
    app.post_json(&format!("/v1/projects/{pid}/keys"), &session, &json!({}))
        .await;
    let reader = app.sign_in(88, "reader").await;
    app.github.grant("reader", "acme/checkout-api", "read");

    let log = app
        .get(&format!("/v1/projects/{pid}/audit"), &session)
        .await;
    let page = app
        .get(&format!("/v1/projects/{pid}/audit?limit=2"), &session)
        .await;
    let as_reader = app.get(&format!("/v1/projects/{pid}/audit"), &reader).await;
    let bad = app
        .get(&format!("/v1/projects/{pid}/audit?limit=0"), &session)
        .await;

    assert_eq!(log.status, 200, "{:?}", log.body);
    let actions: Vec<&str> = log.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "key.created",
            "incident.reopened",
            "incident.resolved",
            "key.created",
            "project.created"
        ]
    );
    assert_eq!(log.body["entries"][0]["actor"], "admin-acme-checkout-api");
    assert_eq!(page.body["entries"].as_array().unwrap().len(), 2);
    let next = page.body["next_before"].as_i64().unwrap();
    let rest = app
        .get(&format!("/v1/projects/{pid}/audit?before={next}"), &session)
        .await;
    assert_eq!(rest.body["entries"].as_array().unwrap().len(), 3);
    assert_eq!(
        (as_reader.status, as_reader.code()),
        (403, "not_repo_admin")
    );
    assert_eq!((bad.status, bad.code()), (422, "invalid_parameter"));
}

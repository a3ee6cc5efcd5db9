//! Vercel hooks: connecting a team (`/v1/hooks…`), signed deliveries to
//! `POST /v1/hooks/vercel/{hook_id}` (shaped and signed as Vercel sends them), projects created
//! from deployments, and ingest resolving commits through deployments.

use hmac::{Hmac, Mac};
use hyper::body::Bytes;
use serde_json::{json, Value};
use sha1::Sha1;

use crate::helpers::{sha, TestApp, TestResponse};

/// The secret Vercel shows when a webhook is created.
const SECRET: &str = "wh_4mZ1pQx8sT2wK9vB7nY3cR6d";
/// Vercel project and team ids, as Vercel spells them.
const VERCEL_PROJECT: &str = "prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB";
const TEAM: &str = "team_1a2b3c4d5e6f7g8h9i0j1k2l";
/// `createdAt` of the first delivery in a test (ms); later ones add seconds.
const T0: i64 = 1_717_000_000_000;

/// A connected hook.
struct Hook {
    id: String,
    path: String,
}

/// Connects a hook for the signed-in `session`.
async fn connect(app: &TestApp, session: &str) -> Hook {
    let r = app
        .post_json("/v1/hooks", session, &json!({"secret": SECRET}))
        .await;
    assert_eq!(r.status, 201, "connect hook: {:?}", r.body);
    let id = r.body["hook_id"].as_str().unwrap().to_owned();
    Hook {
        path: format!("/v1/hooks/vercel/{id}"),
        id,
    }
}

/// `meta` of a deployment built from `repo` at `commit`, as Vercel's GitHub integration sets it.
fn github_meta(repo: &str, commit: &str) -> Value {
    let (org, name) = repo.split_once('/').unwrap();
    json!({
        "githubCommitSha": commit, "githubCommitRef": "main", "githubCommitOrg": org, "githubCommitRepo": name,
        "githubRepoId": "583421977", "githubOrg": org, "githubRepo": name,
        "githubCommitAuthorName": "Mona Lisa", "githubCommitMessage": "fix: round totals", "githubDeployment": "1"
    })
}

/// A deployment delivery: `{id, type, createdAt, region, payload}`; `at` is seconds after [`T0`].
fn delivery(
    id: &str,
    event_type: &str,
    deployment_id: &str,
    meta: Value,
    target: Value,
    at: i64,
) -> Value {
    let slug = deployment_id
        .trim_start_matches("dpl_")
        .to_ascii_lowercase();
    json!({
        "id": id,
        "type": event_type,
        "createdAt": T0 + at * 1000,
        "region": "iad1",
        "payload": {
            "deployment": {
                "id": deployment_id,
                "url": format!("web-{slug}-acme.vercel.app"),
                "name": "web",
                "meta": meta
            },
            "target": target,
            "project": {"id": VERCEL_PROJECT},
            "team": {"id": TEAM},
            "user": {"id": "Nb7Y4wXfK3bQdM"},
            "links": {
                "deployment": format!("https://vercel.com/acme/web/{slug}"),
                "project": "https://vercel.com/acme/web"
            },
            "plan": "pro",
            "regions": ["iad1"]
        }
    })
}

/// Lowercase hex HMAC-SHA1 of `body` under `secret` (written here from the spec, not shared's).
fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Posts raw bytes with an optional signature header.
async fn post_raw(app: &TestApp, path: &str, body: &[u8], signature: Option<&str>) -> TestResponse {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("user-agent", "Vercel/1.0"),
    ];
    if let Some(s) = signature {
        headers.push(("x-vercel-signature", s));
    }
    app.send("POST", path, &headers, Bytes::copy_from_slice(body))
        .await
}

/// Posts a delivery signed with the hook's secret, as Vercel does.
async fn deliver(app: &TestApp, hook: &Hook, body: &Value) -> TestResponse {
    let bytes = body.to_string().into_bytes();
    post_raw(app, &hook.path, &bytes, Some(&sign(SECRET, &bytes))).await
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn state_of(app: &TestApp, deployment_id: &str) -> String {
    sqlx::query_scalar("select state from deployments where deployment_id = $1")
        .bind(deployment_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A user who administers `repo` on GitHub, signed in, with a hook: `(session, hook)`.
async fn admin_with_hook(app: &TestApp, github_id: i64, login: &str, repo: &str) -> (String, Hook) {
    let session = app.sign_in(github_id, login).await;
    app.github.grant(login, repo, "admin");
    let hook = connect(app, &session).await;
    (session, hook)
}

#[tokio::test]
async fn a_signed_in_user_connects_a_hook_and_gets_its_url() {
    let app = TestApp::spawn().await;
    let session = app.sign_in(1, "octocat").await;

    let r = app
        .post_json("/v1/hooks", &session, &json!({"secret": SECRET}))
        .await;

    assert_eq!(r.status, 201, "{:?}", r.body);
    let hook_id = r.body["hook_id"].as_str().unwrap();
    assert!(hook_id.starts_with("hook_"));
    assert_eq!(
        r.body["url"],
        format!("{}/v1/hooks/vercel/{hook_id}", app.addr)
    );
    let sealed: Vec<u8> = sqlx::query_scalar("select secret_enc from vercel_hooks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !sealed.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the secret is stored sealed"
    );
    let list = app.get("/v1/hooks", &session).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["hooks"][0]["hook_id"], hook_id);
    assert_eq!(
        list.body["hooks"][0]["team_id"],
        Value::Null,
        "no delivery yet"
    );
    assert!(
        !String::from_utf8_lossy(&list.raw).contains(SECRET),
        "the secret is never listed"
    );
    let audit: Vec<(String, String)> = sqlx::query_as("select action, target from audit_log")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        audit,
        vec![("hook.connected".to_owned(), hook_id.to_owned())]
    );
}

#[tokio::test]
async fn connecting_a_hook_needs_a_session_and_a_real_secret() {
    let app = TestApp::spawn().await;
    let session = app.sign_in(1, "octocat").await;

    let anonymous = app
        .send(
            "POST",
            "/v1/hooks",
            &[],
            json!({"secret": SECRET}).to_string(),
        )
        .await;
    let empty = app
        .post_json("/v1/hooks", &session, &json!({"secret": ""}))
        .await;
    let spaced = app
        .post_json(
            "/v1/hooks",
            &session,
            &json!({"secret": "not a secret at all"}),
        )
        .await;
    let shape = app
        .post_json("/v1/hooks", &session, &json!({"token": SECRET}))
        .await;
    let garbage = app
        .send(
            "POST",
            "/v1/hooks",
            &[("authorization", &format!("Bearer {session}"))],
            "secret=abc",
        )
        .await;

    assert_eq!(
        (anonymous.status, anonymous.code()),
        (401, "missing_session")
    );
    assert_eq!((empty.status, empty.code()), (422, "invalid_secret"));
    assert_eq!((spaced.status, spaced.code()), (422, "invalid_secret"));
    assert_eq!((shape.status, shape.code()), (422, "invalid_body"));
    assert_eq!((garbage.status, garbage.code()), (400, "invalid_json"));
    assert_eq!(count(&app, "vercel_hooks").await, 0);
}

#[tokio::test]
async fn a_hook_is_removed_by_its_owner_only_and_then_refuses_deliveries() {
    let app = TestApp::spawn().await;
    let (session, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let other = app.sign_in(2, "mallory").await;
    let auth = |s: &str| format!("Bearer {s}");

    let by_other = app
        .send(
            "DELETE",
            &format!("/v1/hooks/{}", hook.id),
            &[("authorization", &auth(&other))],
            "",
        )
        .await;
    let by_owner = app
        .send(
            "DELETE",
            &format!("/v1/hooks/{}", hook.id),
            &[("authorization", &auth(&session))],
            "",
        )
        .await;
    let again = app
        .send(
            "DELETE",
            &format!("/v1/hooks/{}", hook.id),
            &[("authorization", &auth(&session))],
            "",
        )
        .await;
    let late = deliver(
        &app,
        &hook,
        &delivery(
            "evt_1",
            "deployment.created",
            "dpl_A1",
            github_meta("acme/web", &sha("c1")),
            json!(null),
            0,
        ),
    )
    .await;

    assert_eq!((by_other.status, by_other.code()), (404, "not_found"));
    assert_eq!(by_owner.status, 200, "{:?}", by_owner.body);
    assert_eq!(by_owner.body["hook_id"], hook.id.as_str());
    assert_eq!(again.status, 404);
    assert_eq!((late.status, late.code()), (404, "not_found"));
    assert_eq!(
        app.get("/v1/hooks", &session).await.body["hooks"],
        json!([])
    );
    let actions: Vec<String> = sqlx::query_scalar("select action from audit_log order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(actions, vec!["hook.connected", "hook.removed"]);
}

#[tokio::test]
async fn each_deployment_event_type_is_recorded_with_its_state() {
    let app = TestApp::spawn().await;
    let (session, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let meta = github_meta("acme/web", &sha("c1"));
    let steps = [
        ("evt_1", "deployment.created", "dpl_A1", "created"),
        ("evt_2", "deployment.succeeded", "dpl_A1", "succeeded"),
        ("evt_3", "deployment.promoted", "dpl_A1", "promoted"),
        ("evt_4", "deployment.created", "dpl_B2", "created"),
        ("evt_5", "deployment.error", "dpl_B2", "error"),
        ("evt_6", "deployment.created", "dpl_C3", "created"),
        ("evt_7", "deployment.canceled", "dpl_C3", "canceled"),
    ];

    for (i, (id, kind, dep, want)) in steps.iter().enumerate() {
        let target = if *kind == "deployment.promoted" {
            json!("production")
        } else {
            json!(null)
        };
        let r = deliver(
            &app,
            &hook,
            &delivery(id, kind, dep, meta.clone(), target, i as i64),
        )
        .await;
        assert_eq!(r.status, 200, "{kind}: {:?}", r.body);
        assert_eq!(
            (r.body["status"].as_str(), r.body["state"].as_str()),
            (Some("recorded"), Some(*want)),
            "{kind}"
        );
        assert_eq!(r.body["deployment_id"], *dep);
        assert_eq!(r.body["commit_sha"], sha("c1"));
    }

    assert_eq!(state_of(&app, "dpl_A1").await, "promoted");
    assert_eq!(state_of(&app, "dpl_B2").await, "error");
    assert_eq!(state_of(&app, "dpl_C3").await, "canceled");
    let (target, url, vercel_project): (Option<String>, String, String) = sqlx::query_as(
        "select target, url, vercel_project_id from deployments where deployment_id = 'dpl_A1'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        target.as_deref(),
        Some("production"),
        "promotion made it production"
    );
    assert_eq!(
        (url.as_str(), vercel_project.as_str()),
        ("web-a1-acme.vercel.app", VERCEL_PROJECT)
    );
    assert_eq!(count(&app, "webhook_deliveries").await, 7);
    let hooks = app.get("/v1/hooks", &session).await;
    assert_eq!(hooks.body["hooks"][0]["team_id"], TEAM);
    assert!(hooks.body["hooks"][0]["last_delivery_at"].is_string());
}

#[tokio::test]
async fn a_succeeded_deployment_creates_the_project_for_a_repo_admin_without_a_key() {
    let app = TestApp::spawn().await;
    let (session, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;

    let first = deliver(
        &app,
        &hook,
        &delivery(
            "evt_1",
            "deployment.succeeded",
            "dpl_A1",
            github_meta("Acme/web", &sha("c1")),
            json!("production"),
            0,
        ),
    )
    .await;
    let second = deliver(
        &app,
        &hook,
        &delivery(
            "evt_2",
            "deployment.created",
            "dpl_B2",
            github_meta("acme/web", &sha("c2")),
            json!(null),
            1,
        ),
    )
    .await;

    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["project_created"], true);
    assert_eq!(first.body["reason"], Value::Null);
    let project_id = first.body["project_id"].as_str().unwrap();
    assert!(project_id.starts_with("proj_"));
    assert_eq!(
        (
            second.body["project_id"].as_str(),
            &second.body["project_created"]
        ),
        (Some(project_id), &json!(false))
    );
    let projects = app.get("/v1/projects", &session).await;
    let p = &projects.body["projects"][0];
    assert_eq!(
        (p["project_id"].as_str(), p["repo"].as_str()),
        (Some(project_id), Some("Acme/web"))
    );
    assert_eq!(p["vercel_project_id"], VERCEL_PROJECT);
    assert_eq!(p["keys"], json!([]), "no key is minted automatically");
    let audit: Vec<(String, Option<i64>)> =
        sqlx::query_as("select action, user_id from audit_log where action = 'project.created'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(audit.len(), 1);
    let key = app
        .post_json(
            &format!("/v1/projects/{project_id}/keys"),
            &session,
            &json!({}),
        )
        .await;
    assert_eq!(
        key.status, 201,
        "the owner creates a key with the keys route: {:?}",
        key.body
    );
}

#[tokio::test]
async fn a_deployment_of_a_repo_the_hook_owner_cannot_administer_is_recorded_without_a_project() {
    let app = TestApp::spawn().await;
    let session = app.sign_in(1, "octocat").await;
    app.github.grant("octocat", "acme/web", "write");
    let hook = connect(&app, &session).await;

    let r = deliver(
        &app,
        &hook,
        &delivery(
            "evt_1",
            "deployment.succeeded",
            "dpl_A1",
            github_meta("acme/web", &sha("c1")),
            json!("production"),
            0,
        ),
    )
    .await;

    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["project_id"].as_str()),
        (Some("recorded"), None)
    );
    assert_eq!(r.body["reason"]["code"], "not_repo_admin");
    assert!(r.body["reason"]["message"]
        .as_str()
        .unwrap()
        .contains("acme/web"));
    assert_eq!(count(&app, "projects").await, 0);
    let (project, commit): (Option<String>, Option<String>) =
        sqlx::query_as("select project_id, commit_sha from deployments")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((project, commit), (None, Some(sha("c1"))));
}

#[tokio::test]
async fn a_hook_owner_without_a_session_gets_the_deployment_recorded_and_is_told_why() {
    let app = TestApp::spawn().await;
    let (session, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let out = app
        .send(
            "DELETE",
            "/v1/auth/session",
            &[("authorization", &format!("Bearer {session}"))],
            "",
        )
        .await;
    assert!(out.status < 300, "sign out: {:?}", out.body);

    let r = deliver(
        &app,
        &hook,
        &delivery(
            "evt_1",
            "deployment.succeeded",
            "dpl_A1",
            github_meta("acme/web", &sha("c1")),
            json!(null),
            0,
        ),
    )
    .await;

    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["project_id"], Value::Null);
    assert_eq!(r.body["reason"]["code"], "no_github_session");
    assert_eq!(count(&app, "deployments").await, 1);
    assert_eq!(count(&app, "projects").await, 0);
}

#[tokio::test]
async fn non_github_deployments_are_recorded_without_a_project() {
    let app = TestApp::spawn().await;
    let (_, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let cli_upload = json!({"deployedFrom": "cli"});

    let r = deliver(
        &app,
        &hook,
        &delivery(
            "evt_1",
            "deployment.created",
            "dpl_A1",
            cli_upload,
            json!(null),
            0,
        ),
    )
    .await;

    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["state"].as_str()),
        (Some("recorded"), Some("created"))
    );
    assert_eq!(
        (&r.body["project_id"], &r.body["commit_sha"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(r.body["reason"]["code"], "not_github");
    assert_eq!(count(&app, "deployments").await, 1);
    assert_eq!(app.github.count("GET /repos/"), 0, "GitHub is not asked");
}

#[tokio::test]
async fn wrong_and_missing_signatures_are_a_401_and_record_nothing() {
    let app = TestApp::spawn().await;
    let (_, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let body = delivery(
        "evt_1",
        "deployment.created",
        "dpl_A1",
        github_meta("acme/web", &sha("c1")),
        json!(null),
        0,
    )
    .to_string()
    .into_bytes();

    let wrong = post_raw(
        &app,
        &hook.path,
        &body,
        Some(&sign("another-secret-entirely", &body)),
    )
    .await;
    let missing = post_raw(&app, &hook.path, &body, None).await;
    let garbage = post_raw(&app, &hook.path, &body, Some("sha1=not-hex")).await;
    let sha256 = post_raw(
        &app,
        &hook.path,
        &body,
        Some(&hex::encode(shared::crypto::sha256(&body))),
    )
    .await;

    assert_eq!((wrong.status, wrong.code()), (401, "invalid_signature"));
    assert_eq!((missing.status, missing.code()), (401, "missing_signature"));
    assert_eq!((garbage.status, garbage.code()), (401, "invalid_signature"));
    assert_eq!((sha256.status, sha256.code()), (401, "invalid_signature"));
    assert_eq!(count(&app, "deployments").await, 0);
    assert_eq!(count(&app, "webhook_deliveries").await, 0);
}

#[tokio::test]
async fn a_body_altered_after_signing_is_a_401() {
    let app = TestApp::spawn().await;
    let (_, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let body = delivery(
        "evt_1",
        "deployment.succeeded",
        "dpl_A1",
        github_meta("acme/web", &sha("c1")),
        json!(null),
        0,
    )
    .to_string();
    let signature = sign(SECRET, body.as_bytes());
    let tampered = body.replace(&sha("c1"), &sha("evil"));
    assert_ne!(tampered, body);

    let r = post_raw(&app, &hook.path, tampered.as_bytes(), Some(&signature)).await;
    let reformatted = post_raw(
        &app,
        &hook.path,
        format!("{body}\n").as_bytes(),
        Some(&signature),
    )
    .await;

    assert_eq!((r.status, r.code()), (401, "invalid_signature"));
    assert_eq!(
        (reformatted.status, reformatted.code()),
        (401, "invalid_signature")
    );
    assert_eq!(count(&app, "deployments").await, 0);
}

#[tokio::test]
async fn an_unknown_hook_is_a_404_and_an_oversized_body_a_413() {
    let app = TestApp::spawn().await;
    let (_, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let body = b"{}";
    let signature = sign(SECRET, body);

    let unknown = post_raw(
        &app,
        "/v1/hooks/vercel/hook_00000000000000000000",
        body,
        Some(&signature),
    )
    .await;
    let malformed = post_raw(&app, "/v1/hooks/vercel/not-a-hook", body, Some(&signature)).await;
    let huge = vec![b' '; 1024 * 1024 + 1];
    let too_large = post_raw(&app, &hook.path, &huge, Some(&sign(SECRET, &huge))).await;

    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    assert_eq!((malformed.status, malformed.code()), (404, "not_found"));
    assert_eq!(
        (too_large.status, too_large.code()),
        (413, "payload_too_large")
    );
}

#[tokio::test]
async fn a_redelivery_is_a_no_op() {
    let app = TestApp::spawn().await;
    let (_, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let meta = github_meta("acme/web", &sha("c1"));
    let created = delivery(
        "evt_1",
        "deployment.created",
        "dpl_A1",
        meta.clone(),
        json!(null),
        0,
    );
    deliver(&app, &hook, &created).await;
    deliver(
        &app,
        &hook,
        &delivery(
            "evt_2",
            "deployment.succeeded",
            "dpl_A1",
            meta,
            json!(null),
            1,
        ),
    )
    .await;

    let again = deliver(&app, &hook, &created).await;

    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(
        (
            again.body["status"].as_str(),
            again.body["delivery_id"].as_str()
        ),
        (Some("duplicate"), Some("evt_1"))
    );
    assert_eq!(state_of(&app, "dpl_A1").await, "succeeded");
    assert_eq!(count(&app, "webhook_deliveries").await, 2);
    assert_eq!(count(&app, "projects").await, 1);
}

#[tokio::test]
async fn a_later_state_never_goes_back_whatever_the_arrival_order() {
    let app = TestApp::spawn().await;
    let (_, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let meta = github_meta("acme/web", &sha("c1"));
    let send = |id: &'static str, kind: &'static str, dep: &'static str, at: i64| {
        let body = delivery(id, kind, dep, meta.clone(), json!(null), at);
        let hook = &hook;
        let app = &app;
        async move { deliver(app, hook, &body).await }
    };

    // succeeded (t=5) arrives before created (t=1)
    let succeeded = send("evt_1", "deployment.succeeded", "dpl_A1", 5).await;
    let created = send("evt_2", "deployment.created", "dpl_A1", 1).await;
    // promoted before succeeded
    send("evt_3", "deployment.promoted", "dpl_B2", 9).await;
    send("evt_4", "deployment.succeeded", "dpl_B2", 5).await;
    // between terminal states, the later createdAt wins whatever the arrival order
    send("evt_5", "deployment.canceled", "dpl_C3", 8).await;
    send("evt_6", "deployment.error", "dpl_C3", 7).await;

    assert_eq!(succeeded.body["state"], "succeeded");
    assert_eq!(created.status, 200);
    assert_eq!(
        created.body["state"], "succeeded",
        "the answer says the state kept"
    );
    assert_eq!(state_of(&app, "dpl_A1").await, "succeeded");
    assert_eq!(state_of(&app, "dpl_B2").await, "promoted");
    assert_eq!(state_of(&app, "dpl_C3").await, "canceled");
}

#[tokio::test]
async fn unknown_and_legacy_event_types_are_acknowledged_and_ignored() {
    let app = TestApp::spawn().await;
    let (_, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let meta = github_meta("acme/web", &sha("c1"));

    let mut answers = Vec::new();
    for (i, kind) in [
        "deployment-ready",
        "deployment-prepared",
        "deployment.check-rerequested",
        "project.created",
    ]
    .iter()
    .enumerate()
    {
        answers.push(
            deliver(
                &app,
                &hook,
                &delivery(
                    &format!("evt_{i}"),
                    kind,
                    "dpl_A1",
                    meta.clone(),
                    json!(null),
                    0,
                ),
            )
            .await,
        );
    }
    let domain = json!({"id": "evt_d", "type": "domain.created", "createdAt": T0, "payload": {"domain": {"name": "acme.dev"}, "team": {"id": TEAM}}});
    answers.push(deliver(&app, &hook, &domain).await);

    for a in &answers {
        assert_eq!(
            (a.status, a.body["status"].as_str()),
            (200, Some("ignored")),
            "{:?}",
            a.body
        );
    }
    assert_eq!(answers[0].body["type"], "deployment-ready");
    assert_eq!(count(&app, "deployments").await, 0);
    assert_eq!(count(&app, "projects").await, 0);
    assert_eq!(
        count(&app, "webhook_deliveries").await,
        5,
        "recorded, so a redelivery is a duplicate"
    );
}

#[tokio::test]
async fn an_event_with_only_a_deployment_id_gets_the_deployments_commit_and_environment() {
    // The new user's path: connect a hook, Vercel delivers, the project appears, a key, an event.
    let app = TestApp::spawn().await;
    let (session, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let commit = sha("c1");
    let d = deliver(
        &app,
        &hook,
        &delivery(
            "evt_1",
            "deployment.succeeded",
            "dpl_Prod1",
            github_meta("acme/web", &commit),
            json!("production"),
            0,
        ),
    )
    .await;
    deliver(
        &app,
        &hook,
        &delivery(
            "evt_2",
            "deployment.succeeded",
            "dpl_Prev2",
            github_meta("acme/web", &sha("c2")),
            json!(null),
            1,
        ),
    )
    .await;
    let project_id = d.body["project_id"].as_str().unwrap().to_owned();
    let listed = app.get("/v1/projects", &session).await;
    assert_eq!(
        listed.body["projects"][0]["project_id"],
        project_id.as_str()
    );
    let key = app
        .post_json(
            &format!("/v1/projects/{project_id}/keys"),
            &session,
            &json!({}),
        )
        .await;
    let key = key.body["ingest_key"].as_str().unwrap().to_owned();
    let event = |dep: &str| {
        json!({
            "error_message": "Cannot read properties of undefined (reading 'total')",
            "stack_trace": "TypeError: Cannot read properties of undefined (reading 'total')\n    at sum (/var/task/app/cart.js:12:9)\n    at handler (/var/task/app/api.js:4:3)",
            "deployment_id": dep
        })
    };

    let prod = app.ingest(&key, &event("dpl_Prod1")).await;
    let preview = app.ingest(&key, &event("dpl_Prev2")).await;

    assert_eq!(prod.status, 202, "{:?}", prod.body);
    assert_eq!(preview.status, 202, "{:?}", preview.body);
    let envs: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("select commit_sha, environment from incident_events order by id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        envs[0],
        (Some(commit.clone()), Some("production".to_owned()))
    );
    assert_eq!(envs[1], (Some(sha("c2")), Some("preview".to_owned())));
    let ide = app
        .get(
            &format!("/v1/incidents?repo=acme/web&commit={commit}"),
            &session,
        )
        .await;
    assert_eq!(ide.status, 200, "{:?}", ide.body);
    let incident = &ide.body["incidents"][0];
    assert_eq!(
        (
            incident["file_path"].as_str(),
            incident["line_number"].as_i64()
        ),
        (Some("app/cart.js"), Some(12))
    );
    assert_eq!(incident["commit_sha"], commit.as_str());
    assert_eq!(
        incident["deployment_url"],
        "https://web-prod1-acme.vercel.app"
    );
}

#[tokio::test]
async fn an_event_accepted_before_its_deployment_gets_its_commit_when_the_deployment_arrives() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/web").await;
    let key = project["ingest_key"].as_str().unwrap();
    let hook = connect(&app, &session).await;
    let commit = sha("late");
    let event = json!({
        "error_message": "division by zero",
        "stack_trace": "Traceback (most recent call last):\n  File \"/var/task/app/payments.py\", line 7, in charge\nZeroDivisionError: division by zero",
        "deployment_id": "dpl_Late1"
    });
    let accepted = app.ingest(key, &event).await;
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    let before = app
        .get(
            &format!("/v1/incidents?repo=acme/web&commit={commit}"),
            &session,
        )
        .await;
    assert_eq!(before.body["incidents"], json!([]));
    // Without a commit yet, the incident's frames are its own (from its first event).
    let commitless = app.get("/v1/incidents?repo=acme/web", &session).await;
    assert_eq!(
        commitless.body["incidents"][0]["frames"][0]["line_number"], 7,
        "{:?}",
        commitless.body
    );

    let d = deliver(
        &app,
        &hook,
        &delivery(
            "evt_1",
            "deployment.created",
            "dpl_Late1",
            github_meta("acme/web", &commit),
            json!(null),
            0,
        ),
    )
    .await;

    assert_eq!(d.status, 200, "{:?}", d.body);
    assert_eq!(
        (
            d.body["project_id"].as_str(),
            d.body["events_updated"].as_u64()
        ),
        (project["project_id"].as_str(), Some(1))
    );
    let after = app
        .get(
            &format!("/v1/incidents?repo=acme/web&commit={commit}"),
            &session,
        )
        .await;
    let incident = &after.body["incidents"][0];
    assert_eq!(incident["incident_id"], accepted.body["incident_id"]);
    assert_eq!(
        (
            incident["file_path"].as_str(),
            incident["line_number"].as_i64()
        ),
        (Some("app/payments.py"), Some(7))
    );
    // The frames at the commit come with it (kept beside the commit's counted row).
    assert_eq!(incident["frames"][0]["file_path"], "app/payments.py");
    assert_eq!(incident["frames"][0]["line_number"], 7);
    assert_eq!(incident["commit_sha"], commit.as_str());
    assert_eq!(
        (
            incident["first_commit_sha"].as_str(),
            incident["last_commit_sha"].as_str()
        ),
        (Some(commit.as_str()), Some(commit.as_str()))
    );
    assert_eq!(incident["occurrence_count"], 1);
    assert_eq!(incident["environment"], "preview");
    assert_eq!(
        incident["deployment_url"],
        "https://web-late1-acme.vercel.app"
    );
    let by_env = app
        .get("/v1/incidents?repo=acme/web&environment=preview", &session)
        .await;
    assert_eq!(by_env.body["incidents"].as_array().unwrap().len(), 1);
    app.fold().await;
    let (n, pending): (i64, Option<Value>) = sqlx::query_as(
        "select c.occurrence_count, e.pending_location from incident_commits c, incident_events e",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (n, pending),
        (1, None),
        "counted once at the commit; the kept location is cleared"
    );
    let redelivered = deliver(
        &app,
        &hook,
        &delivery(
            "evt_2",
            "deployment.succeeded",
            "dpl_Late1",
            github_meta("acme/web", &commit),
            json!(null),
            1,
        ),
    )
    .await;
    assert_eq!(
        redelivered.body["events_updated"], 0,
        "each event is filled in once"
    );
}

#[tokio::test]
async fn another_tenants_hook_cannot_name_the_commit_of_my_deployments() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/web").await;
    let key = project["ingest_key"].as_str().unwrap();
    let mallory = app.sign_in(66, "mallory").await;
    let evil = connect(&app, &mallory).await;

    let r = deliver(
        &app,
        &evil,
        &delivery(
            "evt_1",
            "deployment.succeeded",
            "dpl_Victim1",
            github_meta("acme/web", &sha("evil")),
            json!("production"),
            0,
        ),
    )
    .await;
    let ev = app.ingest(key, &json!({"error_message": "boom", "deployment_id": "dpl_Victim1", "environment": "production"})).await;

    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (
            r.body["project_id"].as_str(),
            r.body["reason"]["code"].as_str()
        ),
        (None, Some("not_repo_admin"))
    );
    assert_eq!(ev.status, 202);
    let commit: Option<String> = sqlx::query_scalar("select commit_sha from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(commit, None, "an unlinked deployment names no commit");
    let ide = app
        .get(
            &format!("/v1/incidents?repo=acme/web&commit={}", sha("evil")),
            &session,
        )
        .await;
    assert_eq!(ide.body["incidents"], json!([]));
}

#[tokio::test]
async fn another_tenants_claim_on_a_deployment_id_neither_blocks_nor_reveals_mine() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/web").await;
    let project_id = project["project_id"].as_str().unwrap();
    let key = project["ingest_key"].as_str().unwrap();
    let victim = connect(&app, &session).await;
    let mallory = app.sign_in(66, "mallory").await;
    let evil = connect(&app, &mallory).await;
    let claim = |event: &str, at: i64| {
        delivery(
            event,
            "deployment.succeeded",
            "dpl_Victim1",
            github_meta("acme/web", &sha("evil")),
            json!("production"),
            at,
        )
    };

    // Mallory's hook names the victim's deployment id first, then again after the real one.
    let first_claim = deliver(&app, &evil, &claim("evt_evil_1", 0)).await;
    let real = deliver(
        &app,
        &victim,
        &delivery(
            "evt_real_1",
            "deployment.succeeded",
            "dpl_Victim1",
            github_meta("acme/web", &sha("real")),
            json!("production"),
            1,
        ),
    )
    .await;
    let second_claim = deliver(&app, &evil, &claim("evt_evil_2", 2)).await;
    let ev = app
        .ingest(
            key,
            &json!({"error_message": "boom", "deployment_id": "dpl_Victim1"}),
        )
        .await;

    assert_eq!(real.status, 200, "{:?}", real.body);
    assert_eq!(
        (
            real.body["status"].as_str(),
            first_claim.body["status"].as_str()
        ),
        (Some("recorded"), Some("recorded"))
    );
    assert_eq!(real.body["project_id"], project_id, "{:?}", real.body);
    assert_eq!(real.body["commit_sha"], sha("real"));
    // Mallory learns nothing of the victim's row: her answers are those of an unknown id.
    for r in [&first_claim, &second_claim] {
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["project_id"], Value::Null, "{:?}", r.body);
        assert_eq!(r.body["commit_sha"], sha("evil"));
        assert_eq!(r.body["reason"]["code"], "not_repo_admin");
    }
    assert_eq!(ev.status, 202);
    let commit: Option<String> = sqlx::query_scalar("select commit_sha from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        commit,
        Some(sha("real")),
        "the event runs the victim's commit"
    );
}

#[tokio::test]
async fn a_delivery_that_fails_midway_writes_nothing_and_is_processed_when_redelivered() {
    let app = TestApp::spawn().await;
    let (session, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    // Break the database on purpose: the deployment write fails after the project was inserted.
    sqlx::query("create function refuse() returns trigger language plpgsql as $$ begin raise exception 'disk on fire'; end $$")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "create trigger refuse before insert on deployments for each row execute function refuse()",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let body = delivery(
        "evt_1",
        "deployment.succeeded",
        "dpl_A1",
        github_meta("acme/web", &sha("c1")),
        json!(null),
        0,
    );

    let failed = deliver(&app, &hook, &body).await;

    assert_eq!((failed.status, failed.code()), (500, "internal_error"));
    assert!(
        !String::from_utf8_lossy(&failed.raw).contains("disk on fire"),
        "the cause is logged, not sent"
    );
    assert_eq!(count(&app, "projects").await, 0);
    assert_eq!(count(&app, "webhook_deliveries").await, 0);
    assert_eq!(
        count(&app, "audit_log where action = 'project.created'").await,
        0
    );
    sqlx::query("drop trigger refuse on deployments")
        .execute(&app.pool)
        .await
        .unwrap();
    let retried = deliver(&app, &hook, &body).await;
    assert_eq!(
        (retried.status, retried.body["status"].as_str()),
        (200, Some("recorded")),
        "{:?}",
        retried.body
    );
    assert_eq!(
        app.get("/v1/projects", &session).await.body["projects"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn an_unlinked_deployment_is_linked_by_a_later_delivery_once_its_owner_administers_the_repo()
{
    let app = TestApp::spawn().await;
    let session = app.sign_in(1, "octocat").await;
    app.github.grant("octocat", "acme/web", "write");
    let hook = connect(&app, &session).await;
    let meta = github_meta("acme/web", &sha("c1"));
    let first = deliver(
        &app,
        &hook,
        &delivery(
            "evt_1",
            "deployment.created",
            "dpl_A1",
            meta.clone(),
            json!(null),
            0,
        ),
    )
    .await;
    assert_eq!(first.body["reason"]["code"], "not_repo_admin");

    app.github.grant("octocat", "acme/web", "admin");
    app.sign_in(1, "octocat").await; // a new sign-in forgets cached rights
    let later = deliver(
        &app,
        &hook,
        &delivery(
            "evt_2",
            "deployment.succeeded",
            "dpl_A1",
            meta,
            json!(null),
            1,
        ),
    )
    .await;

    assert_eq!(later.status, 200, "{:?}", later.body);
    assert_eq!(
        (
            later.body["project_created"].as_bool(),
            later.body["reason"].is_null()
        ),
        (Some(true), true)
    );
    let linked: Option<String> = sqlx::query_scalar("select project_id from deployments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(linked.as_deref(), later.body["project_id"].as_str());
}

#[tokio::test]
async fn hook_routes_refuse_bad_credentials_and_deliveries_keep_secrets_out_of_logs() {
    let logs = crate::logs::capture();
    let app = TestApp::spawn().await;
    let (session, hook) = admin_with_hook(&app, 1, "octocat", "acme/web").await;
    let unknown = format!("Bearer cairn_s_{}", "A".repeat(40));
    let routes = [
        ("GET", "/v1/hooks".to_owned(), String::new()),
        (
            "POST",
            "/v1/hooks".to_owned(),
            json!({"secret": SECRET}).to_string(),
        ),
        ("DELETE", format!("/v1/hooks/{}", hook.id), String::new()),
    ];
    for (method, path, body) in &routes {
        for auth in [None, Some(unknown.as_str()), Some("Basic x")] {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| vec![("authorization", a)]).unwrap_or_default();
            let r = app.send(method, path, &headers, body.clone()).await;
            assert_eq!(r.status, 401, "{method} {path} with {auth:?}: {:?}", r.body);
        }
    }
    assert_eq!(
        app.get("/v1/hooks", &session).await.body["hooks"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing changed"
    );

    let body = delivery(
        "evt_1",
        "deployment.succeeded",
        "dpl_A1",
        github_meta("acme/web", &sha("c1")),
        json!(null),
        0,
    )
    .to_string();
    let signature = sign(SECRET, body.as_bytes());
    assert_eq!(
        post_raw(&app, &hook.path, body.as_bytes(), Some(&signature))
            .await
            .status,
        200
    );
    let wrong = sign("wrong-secret-0123", body.as_bytes());
    assert_eq!(
        post_raw(&app, &hook.path, body.as_bytes(), Some(&wrong))
            .await
            .status,
        401
    );

    let text = logs.text();
    assert!(text.contains("vercel delivery"), "deliveries are logged");
    for secret in [
        SECRET,
        signature.as_str(),
        wrong.as_str(),
        "githubCommitMessage",
    ] {
        assert!(!text.contains(secret), "{secret} reached the logs");
    }
}

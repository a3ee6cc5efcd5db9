//! The uploads function over HTTP: project admins mint upload tokens (projects function), only an
//! upload token opens the upload routes, chunks are checked against their names, assemble refuses
//! another project's upload, and the release calls answer as Sentry's.
//! (The real sentry-cli runs against it in `sourcemaps_cli.rs`.)

use serde_json::json;
use sha1::{Digest, Sha1};
use shared::sourcemaps::tokens;

use crate::helpers::{TestApp, TestResponse};
use crate::sentry::SentryProject;

const ORG: &str = "/api/0/organizations/acme";

async fn upload_token(app: &TestApp, project_id: &str) -> (String, String) {
    let new = tokens::create(&app.pool, project_id, None, None, &app.addr, "acme")
        .await
        .unwrap();
    (new.token_id, new.token.expose().to_owned())
}

async fn post_chunk(app: &TestApp, token: &str, name: &str, data: &[u8]) -> TestResponse {
    let mut body = format!(
        "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\r\n--b--\r\n");
    let auth = format!("Bearer {token}");
    app.send(
        "POST",
        &format!("{ORG}/chunk-upload/"),
        &[
            ("authorization", &auth),
            ("content-type", "multipart/form-data; boundary=b"),
        ],
        body,
    )
    .await
}

#[tokio::test]
async fn only_a_live_upload_token_opens_the_upload_routes() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, "acme/checkout-web").await;
    let (token_id, token) = upload_token(&app, &project.project_id).await;
    let path = format!("{ORG}/chunk-upload/");

    for (credential, code) in [
        ("", "missing_upload_token"),
        (project.key.as_str(), "invalid_upload_token"),
        (project.session.as_str(), "invalid_upload_token"),
    ] {
        let r = if credential.is_empty() {
            app.send("GET", &path, &[], Vec::new()).await
        } else {
            app.get(&path, credential).await
        };
        assert_eq!((r.status, r.code()), (401, code), "{credential}");
    }
    let r = app.get(&path, &token).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["url"],
        json!(format!(
            "{}/api/0/organizations/acme/chunk-upload/",
            app.addr
        ))
    );
    assert_eq!(r.body["compression"], json!(["gzip"]));
    let r = app.get(&format!("{ORG}/"), &token).await;
    assert_eq!((r.status, &r.body["slug"]), (200, &json!("acme")));

    assert!(tokens::revoke(&app.pool, &project.project_id, &token_id)
        .await
        .unwrap());
    let r = app.get(&path, &token).await;
    assert_eq!((r.status, r.code()), (401, "invalid_upload_token"));
}

#[tokio::test]
async fn project_admins_mint_list_and_revoke_upload_tokens_shown_once() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-web").await;
    let pid = project["project_id"].as_str().unwrap();
    let tokens_path = format!("/v1/projects/{pid}/upload-tokens");
    let auth = format!("Bearer {session}");

    // Act: one token with no body at all, one with a name.
    let first = app
        .send("POST", &tokens_path, &[("authorization", &auth)], "")
        .await;
    let named = app
        .post_json(&tokens_path, &session, &json!({"name": "vercel"}))
        .await;

    // Assert: each is shown once, in Sentry's org-token format, and opens the upload routes.
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(named.status, 201, "{:?}", named.body);
    let token = first.body["token"].as_str().unwrap();
    assert!(token.starts_with("sntrys_"), "{token}");
    assert!(first.body["token_id"]
        .as_str()
        .unwrap()
        .starts_with("utok_"));
    assert!(first.body["created_at"].is_string());
    assert_eq!(named.body["name"], "vercel");
    let r = app.get(&format!("{ORG}/chunk-upload/"), token).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let listed = app.get(&tokens_path, &session).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let listed = listed.body["upload_tokens"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|t| t.get("token").is_none()),
        "never the token"
    );
    assert!(!listed.iter().any(|t| t.to_string().contains(token)));
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select token_hash from upload_tokens")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(
        stored.iter().all(|h| h.len() == 32),
        "only SHA-256 hashes are stored"
    );

    // Revoked: refused from the next upload on; a second revoke finds nothing.
    let revoke_path = format!("{tokens_path}/{}", first.body["token_id"].as_str().unwrap());
    let revoked = app
        .send("DELETE", &revoke_path, &[("authorization", &auth)], "")
        .await;
    assert_eq!(revoked.status, 204, "{:?}", revoked.body);
    let r = app.get(&format!("{ORG}/chunk-upload/"), token).await;
    assert_eq!((r.status, r.code()), (401, "invalid_upload_token"));
    let again = app
        .send("DELETE", &revoke_path, &[("authorization", &auth)], "")
        .await;
    assert_eq!((again.status, again.code()), (404, "not_found"));
    let left = app.get(&tokens_path, &session).await;
    assert_eq!(left.body["upload_tokens"].as_array().unwrap().len(), 1);

    let audit: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where action like 'upload_token.%' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        audit,
        [
            "upload_token.created",
            "upload_token.created",
            "upload_token.revoked"
        ]
    );
}

#[tokio::test]
async fn only_project_admins_manage_upload_tokens_and_bad_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-web").await;
    let pid = project["project_id"].as_str().unwrap();
    let tokens_path = format!("/v1/projects/{pid}/upload-tokens");
    let reader = app.sign_in(77, "reader").await;
    app.github.grant("reader", "acme/checkout-web", "read");
    let stranger = app.sign_in(78, "stranger").await;

    for (who, status, code) in [
        (reader.as_str(), 403, "not_repo_admin"),
        (stranger.as_str(), 404, "not_found"),
        ("cairn_s_nonsense", 401, "invalid_session"),
    ] {
        let minted = app.post_json(&tokens_path, who, &json!({})).await;
        assert_eq!((minted.status, minted.code()), (status, code), "{who}");
        let listed = app.get(&tokens_path, who).await;
        assert_eq!((listed.status, listed.code()), (status, code), "{who}");
    }
    let long = "x".repeat(101);
    for (body, status, code) in [
        ("{", 400, "invalid_json"),
        (r#"{"name": 5}"#, 422, "invalid_body"),
    ] {
        let r = app
            .send(
                "POST",
                &tokens_path,
                &[("authorization", &format!("Bearer {session}"))],
                body,
            )
            .await;
        assert_eq!((r.status, r.code()), (status, code), "{body}");
    }
    let r = app
        .post_json(&tokens_path, &session, &json!({"name": long}))
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_parameter"));
    let count: i64 = sqlx::query_scalar("select count(*) from upload_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing minted by a refused request");
}

#[tokio::test]
async fn chunks_must_match_their_names_and_assemble_only_the_tokens_project() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, "acme/checkout-web").await;
    let (_, token) = upload_token(&app, &project.project_id).await;
    let data = b"a chunk of a bundle";
    let name = hex::encode(Sha1::digest(data));

    let r = post_chunk(&app, &token, &"0".repeat(40), data).await;
    assert_eq!((r.status, r.code()), (400, "chunk_checksum_mismatch"));
    let r = post_chunk(&app, &token, "not-a-sha", data).await;
    assert_eq!((r.status, r.code()), (400, "invalid_chunk_name"));
    let r = post_chunk(&app, &token, &name, data).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let assemble = format!("{ORG}/artifactbundle/assemble/");
    let other = json!({"checksum": name, "chunks": [name], "projects": ["someone-elses"]});
    let r = app.post_json(&assemble, &token, &other).await;
    assert_eq!((r.status, r.code()), (403, "wrong_project"));
    let missing = "1".repeat(40);
    let r = app
        .post_json(
            &assemble,
            &token,
            &json!({"checksum": name, "chunks": [name, missing], "projects": ["checkout-web"]}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"state": "not_found", "missingChunks": [missing]})
    );
    // All chunks there, but they are not a zip: an error state with a detail, never a 5xx.
    let r = app
        .post_json(
            &assemble,
            &token,
            &json!({"checksum": name, "chunks": [name], "projects": ["checkout-web"]}),
        )
        .await;
    assert_eq!(
        (r.status, &r.body["state"]),
        (200, &json!("error")),
        "{:?}",
        r.body
    );
    assert!(r.body["detail"].as_str().unwrap().contains("zip"));
}

#[tokio::test]
async fn release_calls_are_answered_and_a_commit_named_release_is_recorded() {
    let app = TestApp::spawn().await;
    let project = SentryProject::create(&app, "acme/checkout-web").await;
    let (_, token) = upload_token(&app, &project.project_id).await;
    let sha = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

    let r = app
        .post_json(
            &format!("{ORG}/releases/"),
            &token,
            &json!({"version": sha, "projects": ["checkout-web"]}),
        )
        .await;
    assert_eq!(
        (r.status, &r.body["version"]),
        (201, &json!(sha)),
        "{:?}",
        r.body
    );
    let auth = format!("Bearer {token}");
    let r = app
        .send(
            "PUT",
            &format!("{ORG}/releases/{sha}/"),
            &[("authorization", &auth)],
            json!({"dateReleased": "2026-01-01T00:00:00Z"}).to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.get(&format!("{ORG}/releases/{sha}/"), &token).await;
    assert!(r.body["dateReleased"].is_string(), "{:?}", r.body);
    let r = app
        .post_json(
            &format!("{ORG}/releases/{sha}/deploys/"),
            &token,
            &json!({"environment": "vercel-production"}),
        )
        .await;
    assert_eq!(
        (r.status, &r.body["environment"]),
        (201, &json!("vercel-production"))
    );
    assert_eq!(
        app.get(&format!("{ORG}/repos/"), &token).await.body,
        json!([])
    );
    let r = app.get(&format!("{ORG}/releases/unknown/"), &token).await;
    assert_eq!(r.status, 404);

    let commit: Option<String> =
        sqlx::query_scalar("select commit_sha from releases where version = $1")
            .bind(sha)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(commit.as_deref(), Some(sha));
}

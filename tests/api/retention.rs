//! Retention deletes old events in batches; incidents and their counts stay.

use serde_json::json;

use crate::helpers::{sha, TestApp};

#[tokio::test]
async fn retention_deletes_old_events_and_keeps_incidents_and_counts() {
    let app = TestApp::spawn().await;
    let (session, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap();
    for i in 0..5 {
        app.ingest(key, &json!({"error_message": "old", "environment": "p", "commit_sha": sha("c"), "event_id": format!("e{i}")})).await;
    }
    app.fold().await;
    sqlx::query("update incident_events set received_at = now() - interval '100 days' where event_id in ('e0', 'e1', 'e2')")
        .execute(&app.pool)
        .await
        .unwrap();

    let report = shared::retention::run(&app.pool, 90).await.unwrap();

    assert_eq!(report.events, 3);
    let left: i64 = sqlx::query_scalar("select count(*) from incident_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 2);
    let list = app
        .get("/v1/incidents?repo=acme/checkout-api", &session)
        .await;
    assert_eq!(
        list.body["incidents"][0]["occurrence_count"], 5,
        "counts stay after their events go"
    );
}

#[tokio::test]
async fn the_cairn_binary_runs_retention_against_database_url() {
    let app = TestApp::spawn().await;
    let url = app.app.config.database_url.clone();
    use secrecy::ExposeSecret;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("retention")
        .env("DATABASE_URL", url.expose_secret())
        .env("CAIRN_RETENTION_DAYS", "30")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("retention deleted 0 events"));
}

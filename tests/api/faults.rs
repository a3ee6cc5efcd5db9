//! Faults: PostgreSQL stopped under load (503 + Retry-After, never 500, never a hang, recovery by
//! itself) and killed with SIGKILL (every acknowledged event is stored).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{sha, Options, OwnCluster, TestApp};

/// Posts events with unique ids from `workers` tasks until `stop`; records (event_id, status, took).
fn load(
    app: &Arc<TestApp>,
    key: &str,
    workers: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<(String, u16, Duration)>>> {
    (0..workers)
        .map(|w| {
            let (app, key, stop) = (Arc::clone(app), key.to_owned(), Arc::clone(stop));
            tokio::spawn(async move {
                let mut out = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let id = format!("w{w}-{n}");
                    let ev = json!({"event_id": id, "error_message": format!("boom {}", n % 3), "error_type": "Error",
                                    "environment": "production", "commit_sha": sha("load")});
                    let started = Instant::now();
                    let r = app.ingest(&key, &ev).await;
                    if r.status == 503 {
                        assert!(r.headers.contains_key("retry-after"), "503 carries Retry-After");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    out.push((id, r.status, started.elapsed()));
                }
                out
            })
        })
        .collect()
}

async fn collect(
    tasks: Vec<tokio::task::JoinHandle<Vec<(String, u16, Duration)>>>,
) -> Vec<(String, u16, Duration)> {
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

#[tokio::test]
async fn ingest_answers_503_while_postgres_is_down_and_recovers_by_itself() {
    let cluster = OwnCluster::start().await;
    let app = Arc::new(
        TestApp::spawn_with(Options {
            database_url: Some(cluster.url.clone()),
            acquire_timeout: Duration::from_secs(2),
            ..Default::default()
        })
        .await,
    );
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap().to_owned();
    let stop = Arc::new(AtomicBool::new(false));

    let tasks = load(&app, &key, 8, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pg = Arc::new(Mutex::new(cluster.pg));
    let p = Arc::clone(&pg);
    tokio::task::spawn_blocking(move || p.lock().unwrap().stop(false).unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = Arc::clone(&pg);
    tokio::task::spawn_blocking(move || p.lock().unwrap().restart().unwrap())
        .await
        .unwrap();
    // Recovery: within a few seconds requests succeed again without any intervention.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut recovered = false;
    while Instant::now() < deadline {
        let ev = json!({"error_message": "after", "environment": "production", "commit_sha": sha("load")});
        if app.ingest(&key, &ev).await.status == 202 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let results = collect(tasks).await;

    assert!(recovered, "ingest recovers when the database returns");
    let statuses: std::collections::BTreeMap<u16, usize> =
        results.iter().fold(Default::default(), |mut m, (_, s, _)| {
            *m.entry(*s).or_default() += 1;
            m
        });
    assert!(
        statuses.get(&503).copied().unwrap_or(0) > 0,
        "the outage was seen: {statuses:?}"
    );
    assert!(
        statuses.keys().all(|s| *s == 202 || *s == 503),
        "only 202 or 503: {statuses:?}"
    );
    let slowest = results.iter().map(|(_, _, d)| *d).max().unwrap();
    assert!(
        slowest < Duration::from_secs(10),
        "no request hangs past the timeout: {slowest:?}"
    );
    let acked: Vec<String> = results
        .iter()
        .filter(|(_, s, _)| *s == 202)
        .map(|(id, _, _)| id.clone())
        .collect();
    let stored: i64 =
        sqlx::query_scalar("select count(*) from incident_events where event_id = any($1)")
            .bind(&acked)
            .fetch_one(&sqlx::PgPool::connect(&cluster.url).await.unwrap())
            .await
            .unwrap();
    assert_eq!(
        stored as usize,
        acked.len(),
        "every acknowledged event is stored"
    );
}

#[tokio::test]
async fn every_acknowledged_event_survives_a_sigkill_of_postgres() {
    let cluster = OwnCluster::start().await;
    let app = Arc::new(
        TestApp::spawn_with(Options {
            database_url: Some(cluster.url.clone()),
            acquire_timeout: Duration::from_secs(2),
            ..Default::default()
        })
        .await,
    );
    let (_, project) = app.project("acme/checkout-api").await;
    let key = project["ingest_key"].as_str().unwrap().to_owned();
    let stop = Arc::new(AtomicBool::new(false));

    let tasks = load(&app, &key, 8, &stop);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pg = Arc::new(Mutex::new(cluster.pg));
    let p = Arc::clone(&pg);
    tokio::task::spawn_blocking(move || p.lock().unwrap().kill9().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let results = collect(tasks).await;
    let p = Arc::clone(&pg);
    tokio::task::spawn_blocking(move || p.lock().unwrap().restart().unwrap())
        .await
        .unwrap();

    let acked: Vec<String> = results
        .iter()
        .filter(|(_, s, _)| *s == 202)
        .map(|(id, _, _)| id.clone())
        .collect();
    assert!(
        acked.len() > 10,
        "the load ran before the crash: {}",
        acked.len()
    );
    assert!(
        results.iter().all(|(_, s, _)| *s == 202 || *s == 503),
        "only 202 or 503"
    );
    let pool = sqlx::PgPool::connect(&cluster.url).await.unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("select event_id from incident_events where event_id = any($1)")
            .bind(&acked)
            .fetch_all(&pool)
            .await
            .unwrap();
    let missing: Vec<&String> = acked.iter().filter(|id| !stored.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but lost after SIGKILL: {missing:?}"
    );
    eprintln!(
        "sigkill: {} acknowledged, {} stored, {} refused with 503",
        acked.len(),
        stored.len(),
        results.len() - acked.len()
    );
}

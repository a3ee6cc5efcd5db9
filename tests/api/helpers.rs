//! The test harness: a `TestApp` owns a fresh database (cloned from a migrated template on one
//! throwaway PostgreSQL cluster per test run, or on `DATABASE_URL`'s server when set), a fake
//! GitHub, and the real local server on a loopback port.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use shared::config::{Config, DbConfig, GitHubConfig, SecretKey};
use sqlx::Connection;

use crate::fake_github::FakeGitHub;

/// The server every test database lives on, and the template database name.
struct Cluster {
    /// URL of the server, without a database name (ends with `/`).
    base: String,
    _pg: Option<shared::localpg::LocalPostgres>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        std::thread::spawn(|| {
            let (base, pg) = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
                Some(url) => {
                    let mut u = url::Url::parse(&url).expect("DATABASE_URL is a URL");
                    u.set_path("/");
                    (u.to_string(), None)
                }
                None => {
                    let dir =
                        std::env::temp_dir().join(format!("cairn-test-pg-{}", std::process::id()));
                    let port = shared::localpg::free_port().unwrap();
                    let pg = shared::localpg::LocalPostgres::start(&dir, port)
                        .expect("start a throwaway PostgreSQL");
                    pg.stop_when_process_exits(std::process::id());
                    (pg.base_url(), Some(pg))
                }
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&format!("{base}postgres"))
                    .await
                    .expect("connect to PostgreSQL");
                let template = template_name();
                sqlx::query(&format!("drop database if exists {template}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                sqlx::query(&format!("create database {template}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                let mut conn = sqlx::PgConnection::connect(&format!("{base}{template}"))
                    .await
                    .unwrap();
                shared::db::MIGRATOR
                    .run(&mut conn)
                    .await
                    .expect("migrations apply");
                conn.close().await.unwrap();
            });
            Cluster { base, _pg: pg }
        })
        .join()
        .expect("cluster setup")
    })
}

fn template_name() -> String {
    format!("cairn_template_{}", std::process::id())
}

/// Makes a fresh, migrated database and returns its URL.
pub async fn fresh_database() -> String {
    let c = cluster();
    let name = format!(
        "t_{}",
        shared::crypto::random_alphanumeric(12).to_ascii_lowercase()
    );
    let mut admin = sqlx::PgConnection::connect(&format!("{}postgres", c.base))
        .await
        .unwrap();
    // The template may be briefly busy while another test clones it.
    for attempt in 0..50 {
        match sqlx::query(&format!(
            "create database {name} template {}",
            template_name()
        ))
        .execute(&mut admin)
        .await
        {
            Ok(_) => break,
            Err(e) if attempt < 49 => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("create test database: {e}"),
        }
    }
    format!("{}{name}", c.base)
}

/// A response, with the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Value,
    pub raw: Bytes,
}

impl TestResponse {
    /// The stable error code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Every `Set-Cookie` header of the answer.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The `name=value` a browser would send back for the first cookie set (for a `Cookie`
    /// header).
    pub fn cookie(&self) -> String {
        let set = self.set_cookies();
        let first = set.first().expect("a Set-Cookie header");
        first.split(';').next().unwrap().trim().to_owned()
    }
}

/// One running cairn with its own database and fake GitHub.
pub struct TestApp {
    pub addr: String,
    pub github: FakeGitHub,
    pub app: Arc<cairn::States>,
    pub pool: sqlx::PgPool,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

/// Settings a test may change before the app starts.
pub struct Options {
    pub rate_limit_per_minute: u32,
    pub github_configured: bool,
    /// Use this database instead of a fresh one on the shared cluster.
    pub database_url: Option<String>,
    pub limits: cairn::server::Limits,
    pub acquire_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            rate_limit_per_minute: 0,
            github_configured: true,
            database_url: None,
            limits: Default::default(),
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

pub fn test_config(db_url: &str, github_url: &str, public_url: &str, o: &Options) -> Config {
    Config {
        database_url: db_url.to_owned().into(),
        public_url: public_url.to_owned(),
        secret_key: SecretKey([42; 32]),
        github: GitHubConfig {
            client_id: o.github_configured.then(|| "test-client-id".to_owned()),
            client_secret: o
                .github_configured
                .then(|| "test-client-secret".to_owned().into()),
            oauth_url: github_url.to_owned(),
            api_url: github_url.to_owned(),
            timeout: Duration::from_secs(5),
        },
        retention_days: 90,
        rate_limit_per_minute: o.rate_limit_per_minute,
        ingest_writers: 0,
        db: DbConfig {
            max_connections: 8,
            acquire_timeout: o.acquire_timeout,
            statement_cache_capacity: 100,
        },
        session_ttl: Duration::from_secs(3600),
        access_cache_ttl: Duration::from_secs(300),
        allowed_return_origins: vec!["http://localhost:5173".to_owned()],
        editor_extension_ids: vec!["cairn.cairn".to_owned()],
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(o: Options) -> Self {
        let db_url = match &o.database_url {
            Some(u) => u.clone(),
            None => fresh_database().await,
        };
        let github = FakeGitHub::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let states = cairn::States::new(test_config(&db_url, &github.url, &addr, &o)).unwrap();
        let states = Arc::new(states);
        // One pool serves every function: closing it (a test breaking the database) breaks all.
        let app = Arc::clone(&states);
        tokio::spawn(cairn::server::serve_with(
            cairn::app(&states),
            listener,
            o.limits,
        ));
        let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self {
            addr,
            github,
            app,
            pool,
            client,
        }
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> TestResponse {
        let mut b = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.addr));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(body.into())).unwrap();
        let resp = tokio::time::timeout(Duration::from_secs(30), self.client.request(req))
            .await
            .expect("response within 30 s")
            .expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let raw = resp.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            body,
            raw,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.send(
            "GET",
            path,
            &[("authorization", &format!("Bearer {token}"))],
            Bytes::new(),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        self.send(
            "POST",
            path,
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }

    /// Signs a GitHub user in through `POST /v1/auth/token`; returns the cairn session token.
    pub async fn sign_in(&self, github_id: i64, login: &str) -> String {
        let gh_token = format!("gho_{login}_{github_id}");
        self.github.add_user(github_id, login, &gh_token);
        let r = self
            .send(
                "POST",
                "/v1/auth/token",
                &[("content-type", "application/json")],
                json!({"github_token": gh_token}).to_string(),
            )
            .await;
        assert_eq!(r.status, 200, "sign in: {:?}", r.body);
        r.body["session_token"].as_str().unwrap().to_owned()
    }

    /// A signed-in admin of `repo` with a project for it: `(session, project body)`.
    pub async fn project(&self, repo: &str) -> (String, Value) {
        let login = format!("admin-{}", repo.replace('/', "-"));
        let session = self.sign_in(1000 + repo.len() as i64, &login).await;
        self.github.grant(&login, repo, "admin");
        let r = self
            .post_json("/v1/projects", &session, &json!({"repo": repo}))
            .await;
        assert_eq!(r.status, 201, "create project: {:?}", r.body);
        (session, r.body)
    }

    /// Posts native events with an ingest key.
    pub async fn ingest(&self, key: &str, body: &Value) -> TestResponse {
        self.post_json("/v1/events", key, body).await
    }

    /// Folds pending counts (as the background loop would) so counts can be read from tables.
    pub async fn fold(&self) {
        // A background fold may hold the fold lock: wait until the queue is drained.
        for _ in 0..500 {
            shared::ingest::fold::fold_pending(&self.pool)
                .await
                .unwrap();
            let left: i64 = sqlx::query_scalar("select count(*) from incident_counts_batches")
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if left == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("pending counts were not folded in");
    }
}

/// Waits for the next minute when fewer than `margin` seconds are left in this one, so a test of
/// the per-minute rate limit runs inside one window.
pub async fn within_one_minute(margin: i64) {
    let into_minute = chrono::Utc::now().timestamp_millis().rem_euclid(60_000);
    if into_minute > 60_000 - margin * 1000 {
        tokio::time::sleep(Duration::from_millis((60_100 - into_minute) as u64)).await;
    }
}

/// A 40-hex commit SHA made from a short seed.
pub fn sha(seed: &str) -> String {
    let h = hex::encode(shared::crypto::sha256(seed.as_bytes()));
    h[..40].to_owned()
}

/// A PostgreSQL cluster of a test's own (to stop, kill and restart), with a migrated database.
pub struct OwnCluster {
    pub pg: shared::localpg::LocalPostgres,
    pub url: String,
}

impl OwnCluster {
    pub async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "cairn-test-own-{}",
            shared::crypto::random_alphanumeric(8)
        ));
        let port = shared::localpg::free_port().unwrap();
        let pg = tokio::task::spawn_blocking(move || {
            shared::localpg::LocalPostgres::start(&dir, port).unwrap()
        })
        .await
        .unwrap();
        pg.stop_when_process_exits(std::process::id());
        let mut admin = sqlx::PgConnection::connect(&pg.url("postgres"))
            .await
            .unwrap();
        sqlx::query("create database cairn")
            .execute(&mut admin)
            .await
            .unwrap();
        let url = pg.url("cairn");
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        shared::db::MIGRATOR.run(&mut conn).await.unwrap();
        Self { pg, url }
    }
}

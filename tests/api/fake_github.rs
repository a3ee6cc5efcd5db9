//! A fake GitHub on 127.0.0.1 that speaks the documented protocol the production octocrab code
//! uses: the OAuth token exchange (`POST /login/oauth/access_token`, success and
//! `{"error": "bad_verification_code"}`), `GET /user`, `GET /user/emails`,
//! `GET /repos/{owner}/{repo}` and `GET /repositories/{id}` with `id` and `permissions`; and the
//! compare and contents routes of the git repositories a test serves (`fake_git`).
//!
//! Repos are GitHub's: each has a numeric id that survives a rename (the old name then answers
//! `301` to `/repositories/{id}`), and a repo created under a deleted one's name gets a new id.
//! Every token has OAuth scopes, sent back in `X-OAuth-Scopes`: a private repo is a 404 to a
//! token without `repo` (as on GitHub, whatever the user's role), a public repo is readable by
//! any token. A test can make every repo answer a rate-limit or SAML SSO `403`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// A GitHub account the fake knows.
#[derive(Clone, Debug)]
pub struct FakeUser {
    pub id: i64,
    pub login: String,
    pub email: String,
}

/// A repository the fake knows.
struct Repo {
    /// As first written by the test (GitHub keeps the case it was created with).
    full_name: String,
    private: bool,
}

/// How every repo answer fails, when a test says so.
#[derive(Clone, Copy, Debug)]
pub enum RepoFailure {
    /// `403` with `x-ratelimit-remaining: 0`, as when the token's hourly quota is used up.
    RateLimited,
    /// `403` with `X-GitHub-SSO: required; url=…`, as when the organization enforces SAML SSO
    /// and the token is not authorized for it.
    SsoRequired,
}

/// The scopes cairn's own sign-in asks for.
pub const FULL_SCOPES: &str = "read:user, repo, user:email";

#[derive(Default)]
struct State {
    /// access token → (user, the token's OAuth scopes)
    tokens: HashMap<String, (FakeUser, String)>,
    /// OAuth code → (token, expected PKCE challenge is not checked by GitHub's docs for web flow)
    codes: HashMap<String, String>,
    /// repository id → repo
    repos: HashMap<i64, Repo>,
    /// lowercase current name → repository id
    names: HashMap<String, i64>,
    /// lowercase former name → repository id (renamed repos redirect)
    moved: HashMap<String, i64>,
    /// (login, repository id) → "admin" | "write" | "read"
    perms: HashMap<(String, i64), String>,
    /// When set, every repo answer fails this way.
    failing: Option<RepoFailure>,
    /// The fake's own URL (for redirects).
    url: String,
    /// requests seen, as "METHOD path"
    pub seen: Vec<String>,
    /// last token-exchange body
    pub last_exchange: Option<Value>,
}

/// Handle to the running fake.
#[derive(Clone)]
pub struct FakeGitHub {
    pub url: String,
    state: Arc<Mutex<State>>,
    /// The git repositories served, and how their routes answer.
    pub git: crate::fake_git::Served,
}

impl FakeGitHub {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            url: url.clone(),
            ..State::default()
        }));
        let st = Arc::clone(&state);
        let git = crate::fake_git::Served::default();
        let served = git.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (st, served) = (Arc::clone(&st), served.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let (st, served) = (Arc::clone(&st), served.clone());
                        async move {
                            let (method, uri) = (req.method().as_str(), req.uri());
                            match served.answer(method, uri, req.headers()).await {
                                Some(resp) => Ok(resp),
                                None => answer(st, req).await,
                            }
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { url, state, git }
    }

    /// Registers a user with an access token holding the scopes cairn's sign-in asks for.
    pub fn add_user(&self, id: i64, login: &str, token: &str) -> FakeUser {
        self.add_token(id, login, token, FULL_SCOPES)
    }

    /// Registers another access token of a user, with these OAuth scopes (`""` for none, as a
    /// token another OAuth app got to identify the user).
    pub fn add_token(&self, id: i64, login: &str, token: &str, scopes: &str) -> FakeUser {
        let u = FakeUser {
            id,
            login: login.to_owned(),
            email: format!("{login}@example.com"),
        };
        self.state
            .lock()
            .unwrap()
            .tokens
            .insert(token.to_owned(), (u.clone(), scopes.to_owned()));
        u
    }

    /// Revokes an access token: GitHub answers it `401 Bad credentials` from now on.
    pub fn revoke_token(&self, token: &str) {
        self.state.lock().unwrap().tokens.remove(token);
    }

    /// Creates a repo (private or public) and returns its id; an existing repo's id when the
    /// name is taken.
    pub fn create_repo(&self, full_name: &str, private: bool) -> i64 {
        let mut st = self.state.lock().unwrap();
        st.create_repo(full_name, private)
    }

    /// The id of the repo now called `full_name`.
    pub fn repo_id(&self, full_name: &str) -> i64 {
        self.state.lock().unwrap().names[&full_name.to_ascii_lowercase()]
    }

    /// Renames (or transfers) a repo: it keeps its id, and its old name redirects to it.
    pub fn rename_repo(&self, from: &str, to: &str) {
        let mut st = self.state.lock().unwrap();
        let id = st
            .names
            .remove(&from.to_ascii_lowercase())
            .expect("repo to rename");
        st.moved.insert(from.to_ascii_lowercase(), id);
        st.names.insert(to.to_ascii_lowercase(), id);
        st.repos.get_mut(&id).unwrap().full_name = to.to_owned();
    }

    /// Deletes a repo: its name and id answer 404, and the name is free for a new repo.
    pub fn delete_repo(&self, full_name: &str) {
        let mut st = self.state.lock().unwrap();
        let key = full_name.to_ascii_lowercase();
        if let Some(id) = st.names.remove(&key) {
            st.repos.remove(&id);
            st.moved.retain(|_, moved| *moved != id);
        }
    }

    /// Makes every repo answer fail this way (`None`: answer normally again).
    pub fn fail_repo_answers(&self, failure: Option<RepoFailure>) {
        self.state.lock().unwrap().failing = failure;
    }

    /// An OAuth code that exchanges for `token`.
    pub fn add_code(&self, code: &str, token: &str) {
        self.state
            .lock()
            .unwrap()
            .codes
            .insert(code.to_owned(), token.to_owned());
    }

    /// Grants `login` a permission on `repo` ("admin", "write" or "read"); a repo the fake does
    /// not know yet is created, private.
    pub fn grant(&self, login: &str, repo: &str, permission: &str) {
        let mut st = self.state.lock().unwrap();
        let id = st.create_repo(repo, true);
        st.perms
            .insert((login.to_owned(), id), permission.to_owned());
    }

    /// Removes every permission of `login` on `repo`.
    pub fn revoke(&self, login: &str, repo: &str) {
        let mut st = self.state.lock().unwrap();
        if let Some(id) = st.names.get(&repo.to_ascii_lowercase()).copied() {
            st.perms.remove(&(login.to_owned(), id));
        }
    }

    /// How many requests matched `prefix` ("GET /repos/…").
    pub fn count(&self, prefix: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.starts_with(prefix))
            .count()
    }

    /// The body of the last token exchange.
    pub fn last_exchange(&self) -> Option<Value> {
        self.state.lock().unwrap().last_exchange.clone()
    }
}

impl State {
    fn create_repo(&mut self, full_name: &str, private: bool) -> i64 {
        let key = full_name.to_ascii_lowercase();
        if let Some(id) = self.names.get(&key) {
            return *id;
        }
        // Ids as GitHub's look: large, increasing, never reused.
        let id = 1_296_269 + next_serial();
        self.repos.insert(
            id,
            Repo {
                full_name: full_name.to_owned(),
                private,
            },
        );
        self.names.insert(key.clone(), id);
        self.moved.remove(&key);
        id
    }

    /// `GET /repos/{owner}/{name}` or `GET /repositories/{id}` for `user` with `scopes`.
    fn repo_answer(
        &self,
        user: &FakeUser,
        scopes: &str,
        id: Option<i64>,
    ) -> hyper::Response<Full<Bytes>> {
        let not_found = || {
            reply(
                404,
                json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository"}),
            )
        };
        match self.failing {
            Some(RepoFailure::RateLimited) => {
                let reset = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    + 600;
                return reply_with(
                    403,
                    json!({"message": format!("API rate limit exceeded for user ID {}.", user.id), "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}),
                    &[
                        ("x-ratelimit-limit", "5000".to_owned()),
                        ("x-ratelimit-remaining", "0".to_owned()),
                        ("x-ratelimit-used", "5000".to_owned()),
                        ("x-ratelimit-reset", reset.to_string()),
                        ("x-ratelimit-resource", "core".to_owned()),
                    ],
                );
            }
            Some(RepoFailure::SsoRequired) => {
                return reply_with(
                    403,
                    json!({"message": "Resource protected by organization SAML enforcement. You must grant your OAuth token access to this organization.", "documentation_url": "https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/"}),
                    &[(
                        "x-github-sso",
                        "required; url=https://github.com/orgs/acme/sso?authorization_request=AZSCKtL4U8yX1H3sCQIVnVgmjmon5fWxks5YrqhJgah0b2tlbl9pZM4EuMz4".to_owned(),
                    )],
                );
            }
            None => {}
        }
        let Some((id, repo)) = id.and_then(|id| self.repos.get(&id).map(|r| (id, r))) else {
            return not_found();
        };
        let level = self
            .perms
            .get(&(user.login.clone(), id))
            .map(String::as_str);
        let has_repo_scope = scopes.split(',').any(|s| s.trim() == "repo");
        if repo.private && (level.is_none() || !has_repo_scope) {
            // GitHub hides a private repo from whoever may not see it, and from every token
            // without the `repo` scope.
            return not_found();
        }
        let (admin, push) = match level {
            Some("admin") => (true, true),
            Some("write") => (false, true),
            _ => (false, false),
        };
        let (owner, name) = repo
            .full_name
            .split_once('/')
            .unwrap_or((&repo.full_name, ""));
        reply(
            200,
            json!({
                "id": id, "name": name, "full_name": repo.full_name, "private": repo.private,
                "owner": {"login": owner, "id": 1},
                "permissions": {"admin": admin, "maintain": admin, "push": push, "triage": push, "pull": true}
            }),
        )
    }
}

/// A process-wide counter: no two repos of the test run share an id.
fn next_serial() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static SERIAL: AtomicI64 = AtomicI64::new(0);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

fn reply(status: u16, body: Value) -> hyper::Response<Full<Bytes>> {
    reply_with(status, body, &[])
}

fn reply_with(
    status: u16,
    body: Value,
    headers: &[(&str, String)],
) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8");
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Full::new(Bytes::from(body.to_string()))).unwrap()
}

async fn answer(
    state: Arc<Mutex<State>>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim_start_matches("Bearer ")
                .trim_start_matches("token ")
                .to_owned()
        });
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut st = state.lock().unwrap();
    st.seen.push(format!("{method} {path}"));
    let (user, scopes) = match auth.as_ref().and_then(|t| st.tokens.get(t).cloned()) {
        Some((u, scopes)) => (Some(u), Some(scopes)),
        None => (None, None),
    };
    let unauthorized = || {
        reply(
            401,
            json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
        )
    };
    let resp = match (method.as_str(), path.as_str()) {
        ("POST", "/login/oauth/access_token") => {
            let v: Value = serde_json::from_slice(&body)
                .or_else(|_| {
                    let pairs: HashMap<String, String> =
                        url::form_urlencoded::parse(&body).into_owned().collect();
                    serde_json::to_value(pairs)
                })
                .unwrap_or(Value::Null);
            st.last_exchange = Some(v.clone());
            let code = v["code"].as_str().unwrap_or_default().to_owned();
            match st.codes.remove(&code) {
                Some(token) if v["client_secret"] == "test-client-secret" => reply(
                    200,
                    json!({"access_token": token, "token_type": "bearer", "scope": "read:user,repo,user:email"}),
                ),
                _ => reply(
                    200,
                    json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired.", "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"}),
                ),
            }
        }
        ("GET", "/user") => match user {
            Some(u) => reply(
                200,
                json!({"login": u.login, "id": u.id, "avatar_url": format!("https://avatars.example/{}", u.id), "email": null, "type": "User"}),
            ),
            None => unauthorized(),
        },
        ("GET", "/user/emails") => match user {
            Some(u) => reply(
                200,
                json!([{"email": u.email, "primary": true, "verified": true, "visibility": "private"}]),
            ),
            None => unauthorized(),
        },
        ("GET", p) if p.starts_with("/repos/") && p.matches('/').count() == 3 => match &user {
            None => unauthorized(),
            Some(u) => {
                let asked = p.trim_start_matches("/repos/").to_ascii_lowercase();
                match (st.names.get(&asked), st.moved.get(&asked)) {
                    (Some(id), _) => st.repo_answer(u, scopes.as_deref().unwrap_or(""), Some(*id)),
                    // A renamed repo's old name: GitHub redirects to the repository's id.
                    (None, Some(id)) => reply_with(
                        301,
                        json!({"message": "Moved Permanently", "url": format!("{}/repositories/{id}", st.url), "documentation_url": "https://docs.github.com/v3/#http-redirects"}),
                        &[("location", format!("{}/repositories/{id}", st.url))],
                    ),
                    (None, None) => st.repo_answer(u, scopes.as_deref().unwrap_or(""), None),
                }
            }
        },
        ("GET", p) if p.starts_with("/repositories/") => match &user {
            None => unauthorized(),
            Some(u) => {
                let id = p.trim_start_matches("/repositories/").parse::<i64>().ok();
                st.repo_answer(u, scopes.as_deref().unwrap_or(""), id)
            }
        },
        _ => reply(404, json!({"message": "Not Found"})),
    };
    let mut resp = resp;
    if let Some(scopes) = scopes {
        resp.headers_mut()
            .insert("x-oauth-scopes", scopes.parse().unwrap());
    }
    Ok(resp)
}

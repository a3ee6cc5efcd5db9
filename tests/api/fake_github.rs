//! A fake GitHub on 127.0.0.1 that speaks the documented protocol the production octocrab code
//! uses: the OAuth token exchange (`POST /login/oauth/access_token`, success and
//! `{"error": "bad_verification_code"}`), `GET /user`, `GET /user/emails`, and
//! `GET /repos/{owner}/{repo}` with `permissions` (404 when the user has no access); and the
//! compare and contents routes of the git repositories a test serves (`fake_git`).

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

#[derive(Default)]
struct State {
    /// access token → user
    tokens: HashMap<String, FakeUser>,
    /// OAuth code → (token, expected PKCE challenge is not checked by GitHub's docs for web flow)
    codes: HashMap<String, String>,
    /// (login, "owner/repo") → "admin" | "write" | "read"
    perms: HashMap<(String, String), String>,
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
        let state = Arc::new(Mutex::new(State::default()));
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

    /// Registers a user with an access token.
    pub fn add_user(&self, id: i64, login: &str, token: &str) -> FakeUser {
        let u = FakeUser {
            id,
            login: login.to_owned(),
            email: format!("{login}@example.com"),
        };
        self.state
            .lock()
            .unwrap()
            .tokens
            .insert(token.to_owned(), u.clone());
        u
    }

    /// An OAuth code that exchanges for `token`.
    pub fn add_code(&self, code: &str, token: &str) {
        self.state
            .lock()
            .unwrap()
            .codes
            .insert(code.to_owned(), token.to_owned());
    }

    /// Grants `login` a permission on `repo` ("admin", "write" or "read").
    pub fn grant(&self, login: &str, repo: &str, permission: &str) {
        self.state.lock().unwrap().perms.insert(
            (login.to_owned(), repo.to_ascii_lowercase()),
            permission.to_owned(),
        );
    }

    /// Removes every permission of `login` on `repo`.
    pub fn revoke(&self, login: &str, repo: &str) {
        self.state
            .lock()
            .unwrap()
            .perms
            .remove(&(login.to_owned(), repo.to_ascii_lowercase()));
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

fn reply(status: u16, body: Value) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
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
    let user = auth.as_ref().and_then(|t| st.tokens.get(t).cloned());
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
        ("GET", p) if p.starts_with("/repos/") => match user {
            None => unauthorized(),
            Some(u) => {
                let repo = p.trim_start_matches("/repos/").to_ascii_lowercase();
                match st.perms.get(&(u.login.clone(), repo.clone())) {
                    None => reply(
                        404,
                        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository"}),
                    ),
                    Some(level) => {
                        let (admin, push) =
                            (level == "admin", level == "admin" || level == "write");
                        let (owner, name) = repo.split_once('/').unwrap_or((&repo, ""));
                        reply(
                            200,
                            json!({
                                "id": 1296269, "name": name, "full_name": repo, "private": true,
                                "owner": {"login": owner, "id": 1},
                                "permissions": {"admin": admin, "maintain": admin, "push": push, "triage": true, "pull": true}
                            }),
                        )
                    }
                }
            }
        },
        _ => reply(404, json!({"message": "Not Found"})),
    };
    Ok(resp)
}

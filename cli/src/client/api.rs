//! The cairn API over blocking HTTP (ureq, rustls): a request is a method, a path, a query and
//! maybe a JSON body; an answer is its status and JSON body. Failures to connect and error
//! answers become [`Error`]s with one readable line.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::Error;

/// A cairn server, with the session to send (none for `POST /v1/auth/token`).
pub struct Api {
    url: String,
    session: Option<SecretString>,
    agent: ureq::Agent,
}

/// A parsed answer (`Value::Null` when the body is empty or not JSON).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Api {
    pub fn new(url: &str, session: Option<SecretString>) -> Self {
        let agent = ureq::Agent::config_builder()
            // Error answers are read like any other: their body says what was wrong.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            url: url.to_owned(),
            session,
            agent,
        }
    }

    /// The server's URL, as the user gave it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends one request and reads its answer, whatever its status.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Answer, Error> {
        let target = format!("{}{path}", self.url);
        let unreachable = |e: ureq::Error| Error::Unreachable {
            url: self.url.clone(),
            reason: reason(&e),
        };
        let auth = self
            .session
            .as_ref()
            .map(|s| format!("Bearer {}", s.expose_secret()));
        macro_rules! prepare {
            ($builder:expr) => {{
                let mut b = $builder;
                for (k, v) in query {
                    b = b.query(*k, *v);
                }
                if let Some(a) = &auth {
                    b = b.header("authorization", a);
                }
                b.header("accept", "application/json")
            }};
        }
        let json = body.map(Value::to_string).unwrap_or_default();
        let result = match method {
            "GET" => prepare!(self.agent.get(&target)).call(),
            "DELETE" => prepare!(self.agent.delete(&target)).call(),
            "POST" => prepare!(self.agent.post(&target))
                .content_type("application/json")
                .send(&json),
            "PATCH" => prepare!(self.agent.patch(&target))
                .content_type("application/json")
                .send(&json),
            other => unreachable!("no {other} requests"),
        };
        let mut response = result.map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(unreachable)?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer { status, body })
    }

    /// [`Api::call`] for an answer that must be a success: a `401` to a request with a session
    /// means it expired or was revoked; any other error answer is reported with its message.
    pub fn expect(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let answer = self.call(method, path, query, body)?;
        self.success(answer)
    }

    /// The body of a success, else the error it stands for.
    pub fn success(&self, answer: Answer) -> Result<Value, Error> {
        match answer.status {
            200..=299 => Ok(answer.body),
            401 if self.session.is_some() => Err(Error::SessionRejected {
                url: self.url.clone(),
            }),
            status => {
                let error = &answer.body["error"];
                match (error["code"].as_str(), error["message"].as_str()) {
                    (Some(code), Some(message)) => Err(Error::Api {
                        url: self.url.clone(),
                        status,
                        code: code.to_owned(),
                        message: message.to_owned(),
                    }),
                    _ => Err(Error::BadAnswer {
                        url: self.url.clone(),
                        status,
                    }),
                }
            }
        }
    }
}

/// A transport failure in a few words (ureq's own texts are for developers).
fn reason(e: &ureq::Error) -> String {
    use std::io::ErrorKind;
    match e {
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                "the connection was closed".to_owned()
            }
            ErrorKind::TimedOut => "timed out".to_owned(),
            _ => io.to_string(),
        },
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::Timeout(_) => "timed out".to_owned(),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::BadUri(u) => format!("not a URL: {u}"),
        other => other.to_string(),
    }
}

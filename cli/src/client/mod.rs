//! `cairn` as a client of a cairn server: sign in, list the checkout's incidents as compiler
//! errors, resolve and reopen, create and list projects. Blocking HTTP (no runtime); every
//! failure is one [`Error`], printed as one line by `main`.

pub mod api;
pub mod credentials;
pub mod git;
pub mod incidents;
mod projects;
mod session;

use std::io::Write;

use crate::args::{Action, Client};

/// The server when neither `--url` nor `CAIRN_URL` names one: `cairn serve`'s default address.
pub const DEFAULT_URL: &str = "http://127.0.0.1:3000";

/// Why a client command failed; each message is one line a user can act on, its causes
/// included (print it with `{}`, not with its source chain).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not signed in to {url}: run cairn login")]
    NotSignedIn { url: String },
    #[error("the session for {url} has expired or was revoked: run cairn login")]
    SessionRejected { url: String },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}: {message}")]
    Api {
        url: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("{url} answered {status} with a body cairn does not understand")]
    BadAnswer { url: String, status: u16 },
    #[error("no cairn project for {repo} that you can read on {url} (a repo admin creates it: cairn projects create {repo})")]
    NoProject { repo: String, url: String },
    #[error("no incident {id} that you can read on {url}")]
    NoIncident { id: String, url: String },
    #[error(transparent)]
    Git(#[from] git::GitError),
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
    #[error("forgot the session of {login}, but {told}; it stays valid there until it expires")]
    LogoutUnconfirmed { login: String, told: Box<Error> },
    #[error("{0}")]
    Usage(String),
    #[error("writing the output: {0}")]
    Output(#[source] std::io::Error),
}

/// Runs one client command.
pub fn run(client: Client) -> Result<(), Error> {
    let url = server_url(client.url);
    let mut out = Out(std::io::stdout().lock());
    match client.action {
        Action::Login { token_on_stdin } => session::login(&url, token_on_stdin),
        Action::Logout => session::logout(&url),
        Action::Incidents(args) => incidents::run(&session::signed_in(&url)?, &args, &mut out),
        Action::SetStatus {
            incident_id,
            status,
        } => incidents::set_status(&session::signed_in(&url)?, &incident_id, status, &mut out),
        Action::ProjectsCreate { repo, json } => {
            projects::create(&session::signed_in(&url)?, &repo, json, &mut out)
        }
        Action::ProjectsList { json } => projects::list(&session::signed_in(&url)?, json, &mut out),
    }
}

/// `--url`, else `CAIRN_URL`, else [`DEFAULT_URL`]; without a trailing slash (the key the
/// session is stored under).
fn server_url(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("CAIRN_URL").ok())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

/// Standard output, where listings go. A closed pipe (`cairn incidents | head -1`) ends the
/// command quietly rather than failing it.
pub struct Out<W: Write>(pub W);

impl<W: Write> Out<W> {
    /// Writes one line.
    pub fn line(&mut self, line: &str) -> Result<(), Error> {
        match writeln!(self.0, "{line}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
            r => r.map_err(Error::Output),
        }
    }

    /// Writes a JSON value, pretty.
    pub fn json(&mut self, value: &serde_json::Value) -> Result<(), Error> {
        self.line(&serde_json::to_string_pretty(value).unwrap_or_default())
    }
}

/// A note for the user on standard error (never the data itself).
pub fn note(message: &str) {
    eprintln!("cairn: {message}");
}

//! The command line, parsed by hand into a [`Command`] (a dozen flags do not need a parser
//! crate): `--flag value` and `--flag=value`, boolean flags, positionals; anything unknown is a
//! usage error naming it.

/// What `cairn` prints for `--help` and on a usage error.
pub const USAGE: &str = "\
usage: cairn <command> [options]

As a client of a cairn server (--url, else CAIRN_URL, else http://127.0.0.1:3000):
  login [--github-token -]  sign in with a GitHub token: from stdin with `--github-token -`,
                            else GITHUB_TOKEN or GH_TOKEN, else `gh auth token`
  logout                    sign out and forget the session
  incidents                 the open incidents of this checkout, one per line as
                            path:line:col: level: type: message [id, N events, last seen …]
      --repo owner/name     instead of the origin remote      --at <commit>  instead of HEAD
      --status open|resolved   --environment <env>   --limit 1-200 (default 50)
      --frames              each incident's in-app frames as `path:line:col: note:` lines
      --absolute            full paths instead of paths from the repository root
      --json                the API's answer as JSON
  resolve <incident_id>     mark an incident resolved
  reopen <incident_id>      mark an incident open again
  projects create owner/name   a project for a GitHub repo you administer; prints its DSN once
  projects list [--json]    the projects you can read

Running the server:
  serve      serve every function on CAIRN_ADDR (default 127.0.0.1:3000); starts a local
             PostgreSQL when DATABASE_URL is unset
  migrate    apply migrations to DATABASE_URL
  openapi    print the OpenAPI document (docs/openapi.json)
  schema     print the schema the migrations leave (docs/schema.sql), from a new database on
             DATABASE_URL's server or a throwaway PostgreSQL
  retention  delete events older than CAIRN_RETENTION_DAYS (default 90) from DATABASE_URL
";

/// One invocation of `cairn`.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve,
    Migrate,
    OpenApi,
    Schema,
    Retention,
    Help,
    Client(Client),
}

/// A command that talks to a cairn server.
#[derive(Debug, PartialEq, Eq)]
pub struct Client {
    /// `--url`, when given.
    pub url: Option<String>,
    pub action: Action,
}

/// What a client command does.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// `login`; `token_on_stdin` is `--github-token -`.
    Login {
        token_on_stdin: bool,
    },
    Logout,
    Incidents(IncidentsArgs),
    /// `resolve` (`resolved`) or `reopen` (`open`).
    SetStatus {
        incident_id: String,
        status: &'static str,
    },
    ProjectsCreate {
        repo: String,
        json: bool,
    },
    ProjectsList {
        json: bool,
    },
}

/// The options of `cairn incidents`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct IncidentsArgs {
    pub repo: Option<String>,
    pub at: Option<String>,
    pub status: Option<String>,
    pub environment: Option<String>,
    pub limit: Option<String>,
    pub frames: bool,
    pub absolute: bool,
    pub json: bool,
}

/// A command line cairn does not understand; the message names what is wrong.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut words = Words::new(args);
    let Some(command) = words.positional()? else {
        return if words.help {
            Ok(Command::Help)
        } else {
            Err(UsageError("a command is required".to_owned()))
        };
    };
    if words.help {
        return Ok(Command::Help);
    }
    let server = |cmd, words: Words| words.done(&command).map(|()| cmd);
    match command.as_str() {
        "serve" => server(Command::Serve, words),
        "migrate" => server(Command::Migrate, words),
        "openapi" => server(Command::OpenApi, words),
        "schema" => server(Command::Schema, words),
        "retention" => server(Command::Retention, words),
        "help" => Ok(Command::Help),
        "login" | "logout" | "incidents" | "resolve" | "reopen" | "projects" => {
            let url = words.value("--url")?;
            let action = client_action(&command, &mut words)?;
            if words.help {
                return Ok(Command::Help);
            }
            words.done(&command)?;
            Ok(Command::Client(Client { url, action }))
        }
        other => Err(UsageError(format!("unknown command {other:?}"))),
    }
}

fn client_action(command: &str, words: &mut Words) -> Result<Action, UsageError> {
    Ok(match command {
        "login" => match words.value("--github-token")?.as_deref() {
            None => Action::Login {
                token_on_stdin: false,
            },
            Some("-") => Action::Login {
                token_on_stdin: true,
            },
            // A token on the command line would be visible to every user in `ps`.
            Some(_) => {
                return Err(UsageError(
                    "pass the GitHub token on stdin (--github-token -), not as an argument"
                        .to_owned(),
                ))
            }
        },
        "logout" => Action::Logout,
        "incidents" => Action::Incidents(IncidentsArgs {
            repo: words.value("--repo")?,
            at: words.value("--at")?,
            status: words.value("--status")?,
            environment: words.value("--environment")?,
            limit: words.value("--limit")?,
            frames: words.flag("--frames"),
            absolute: words.flag("--absolute"),
            json: words.flag("--json"),
        }),
        "resolve" | "reopen" => Action::SetStatus {
            incident_id: words.required(&format!("cairn {command} <incident_id>"))?,
            status: if command == "resolve" {
                "resolved"
            } else {
                "open"
            },
        },
        _ => {
            let json = words.flag("--json");
            match words.positional()?.as_deref() {
                Some("create") => Action::ProjectsCreate {
                    repo: words.required("cairn projects create owner/name")?,
                    json,
                },
                Some("list") => Action::ProjectsList { json },
                _ => {
                    return Err(UsageError(
                        "usage: cairn projects create owner/name | cairn projects list".to_owned(),
                    ))
                }
            }
        }
    })
}

/// The words of a command line, taken as the parser asks for them.
struct Words {
    /// `None` once taken.
    words: Vec<Option<String>>,
    help: bool,
}

impl Words {
    fn new(args: impl IntoIterator<Item = String>) -> Self {
        let mut help = false;
        let mut words = Vec::new();
        let mut rest_positional = false;
        for a in args {
            if !rest_positional && (a == "-h" || a == "--help") {
                help = true;
            } else {
                rest_positional |= a == "--";
                words.push(Some(a));
            }
        }
        Self { words, help }
    }

    /// Takes `name value` or `name=value`; the last one wins.
    fn value(&mut self, name: &str) -> Result<Option<String>, UsageError> {
        let mut found = None;
        let mut i = 0;
        while i < self.words.len() {
            match self.words[i].as_deref() {
                Some("--") => break,
                Some(w) if w == name => {
                    self.words[i] = None;
                    match self.words.get_mut(i + 1).and_then(Option::take) {
                        Some(v) if v == "-" || !v.starts_with('-') => found = Some(v),
                        _ => return Err(UsageError(format!("{name} needs a value"))),
                    }
                    i += 1;
                }
                Some(w) if w.strip_prefix(name).is_some_and(|r| r.starts_with('=')) => {
                    found = Some(w[name.len() + 1..].to_owned());
                    self.words[i] = None;
                }
                _ => {}
            }
            i += 1;
        }
        Ok(found)
    }

    /// Takes every `name`; true when there was one.
    fn flag(&mut self, name: &str) -> bool {
        let mut found = false;
        for w in &mut self.words {
            if w.as_deref() == Some("--") {
                break;
            }
            if w.as_deref() == Some(name) {
                *w = None;
                found = true;
            }
        }
        found
    }

    /// Takes the first word that is not an option.
    fn positional(&mut self) -> Result<Option<String>, UsageError> {
        let mut after_dashes = false;
        for w in &mut self.words {
            match w.as_deref() {
                None => {}
                Some("--") if !after_dashes => after_dashes = true,
                Some(o) if !after_dashes && o.starts_with('-') && o != "-" => {
                    return Err(UsageError(format!("unknown option {o}")))
                }
                Some(_) => return Ok(w.take()),
            }
        }
        Ok(None)
    }

    fn required(&mut self, usage: &str) -> Result<String, UsageError> {
        self.positional()?
            .ok_or_else(|| UsageError(format!("usage: {usage}")))
    }

    /// Fails on any word left over.
    fn done(mut self, command: &str) -> Result<(), UsageError> {
        match self.positional()? {
            None => Ok(()),
            Some(w) => Err(UsageError(format!(
                "unexpected argument {w:?} for cairn {command}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Command, UsageError> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    fn client(line: &str) -> Client {
        match p(line) {
            Ok(Command::Client(c)) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn server_commands_take_no_arguments() {
        assert_eq!(p("serve"), Ok(Command::Serve));
        assert_eq!(p("openapi"), Ok(Command::OpenApi));
        assert!(p("serve --url x").is_err());
        assert!(p("migrate now").is_err());
    }

    #[test]
    fn incidents_options_take_values_either_way_and_flags_anywhere() {
        let c = client("incidents --repo=acme/api --frames --at abc123 --url http://h:1 --json");
        assert_eq!(c.url.as_deref(), Some("http://h:1"));
        assert_eq!(
            c.action,
            Action::Incidents(IncidentsArgs {
                repo: Some("acme/api".into()),
                at: Some("abc123".into()),
                frames: true,
                json: true,
                ..Default::default()
            })
        );
    }

    #[test]
    fn login_reads_the_token_only_from_stdin() {
        assert_eq!(
            client("login --github-token -").action,
            Action::Login {
                token_on_stdin: true
            }
        );
        assert_eq!(
            client("login").action,
            Action::Login {
                token_on_stdin: false
            }
        );
        let e = p("login --github-token gho_secret").unwrap_err();
        assert!(e.0.contains("stdin"), "{e}");
        assert!(!e.0.contains("gho_secret"));
    }

    #[test]
    fn resolve_reopen_and_projects_take_their_positionals() {
        assert_eq!(
            client("resolve inc_1").action,
            Action::SetStatus {
                incident_id: "inc_1".into(),
                status: "resolved"
            }
        );
        assert_eq!(
            client("reopen inc_1").action,
            Action::SetStatus {
                incident_id: "inc_1".into(),
                status: "open"
            }
        );
        assert_eq!(
            client("projects create acme/api").action,
            Action::ProjectsCreate {
                repo: "acme/api".into(),
                json: false
            }
        );
        assert_eq!(
            client("projects list --json").action,
            Action::ProjectsList { json: true }
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(
            p("incidents --bogus"),
            Err(UsageError("unknown option --bogus".into()))
        );
        assert_eq!(
            p("incidents --repo"),
            Err(UsageError("--repo needs a value".into()))
        );
        assert_eq!(
            p("resolve"),
            Err(UsageError("usage: cairn resolve <incident_id>".into()))
        );
        assert_eq!(
            p("resolve a b"),
            Err(UsageError(
                "unexpected argument \"b\" for cairn resolve".into()
            ))
        );
        assert_eq!(
            p("frobnicate"),
            Err(UsageError("unknown command \"frobnicate\"".into()))
        );
        assert_eq!(p(""), Err(UsageError("a command is required".into())));
        assert_eq!(p("--help"), Ok(Command::Help));
        assert_eq!(p("incidents -h"), Ok(Command::Help));
    }
}

//! `cairn` as a client: the real binary against the real server, in real git checkouts the tests
//! make (an `origin` in https and ssh forms), signed in through the fake GitHub. The listing is
//! read back the way editors read it: by Vim's quickfix and Emacs' compilation mode (each when
//! installed) and by the README's VS Code problem matcher.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::helpers::TestApp;

/// A finished `cairn` run.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    #[track_caller]
    fn succeeded(&self) -> &Self {
        assert_eq!(self.code, Some(0), "{self:?}");
        self
    }

    /// Failed with exactly one line on stderr and nothing on stdout.
    #[track_caller]
    fn failed_with(&self, line: &str) {
        assert!(matches!(self.code, Some(c) if c != 0), "{self:?}");
        assert_eq!(self.stdout, "", "{self:?}");
        assert_eq!(self.stderr, format!("cairn: {line}\n"));
    }
}

/// A user's machine: a config folder, and the server `cairn` talks to by default.
struct User {
    config: PathBuf,
    url: String,
}

impl User {
    fn new(app: &TestApp) -> Self {
        Self {
            config: temp_dir("cairn-config"),
            url: app.addr.clone(),
        }
    }

    /// Runs `cairn args…` in `cwd`, with `stdin` piped in when given.
    async fn cairn(&self, cwd: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        self.cairn_env(cwd, args, stdin, &[]).await
    }

    /// [`User::cairn`] with more environment variables.
    async fn cairn_env(
        &self,
        cwd: &Path,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> Run {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_cairn"));
        cmd.envs(env.iter().copied());
        cmd.args(args)
            .current_dir(cwd)
            .env("XDG_CONFIG_HOME", &self.config)
            .env("CAIRN_URL", &self.url)
            .env("RUST_BACKTRACE", "1")
            .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run cairn");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(input.as_bytes()).await.unwrap();
        }
        let out =
            tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
                .await
                .expect("cairn finishes within 60 s")
                .unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// Signs in as `login` through `cairn login --github-token -`.
    async fn login(&self, app: &TestApp, github_id: i64, login: &str) -> Run {
        let token = format!("gho_{login}_{github_id}");
        app.github.add_user(github_id, login, &token);
        self.cairn(
            &std::env::temp_dir(),
            &["login", "--github-token", "-"],
            Some(&format!("{token}\n")),
        )
        .await
    }

    fn credentials(&self) -> PathBuf {
        self.config.join("cairn").join("credentials")
    }
}

fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}",
        shared::crypto::random_alphanumeric(10)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
        // Every checkout of the same files is the same commit (as clones of one repo are).
        .env("GIT_AUTHOR_DATE", "2025-06-01T12:00:00Z")
        .env("GIT_COMMITTER_DATE", "2025-06-01T12:00:00Z")
        .output()
        .expect("git is installed");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A checkout of checkout-api with one commit, and `origin` set to `origin` when given.
fn checkout(origin: Option<&str>) -> PathBuf {
    let dir = temp_dir("cairn-checkout");
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["config", "user.email", "dev@example.com"]);
    git(&dir, &["config", "user.name", "Dev"]);
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(
        dir.join("app/payments.py"),
        "def charge(amount):\n    return 100 / amount\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("app/main.py"),
        "from app.payments import charge\n\n\n\n\n\n\ndef main():\n    charge(0)\n",
    )
    .unwrap();
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "checkout"]);
    if let Some(url) = origin {
        git(&dir, &["remote", "add", "origin", url]);
    }
    dir
}

fn py_error(commit: &str) -> Value {
    json!({
        "error_message": "division by zero",
        "error_type": "ZeroDivisionError",
        "stack_trace": "Traceback (most recent call last):\n  File \"/srv/checkout-api/app/main.py\", line 9, in main\n    charge(0)\n  File \"/srv/checkout-api/app/payments.py\", line 2, in charge\n    return 100 / amount\nZeroDivisionError: division by zero\n",
        "commit_sha": commit,
        "environment": "production"
    })
}

/// A project for acme/checkout-api with one incident seen twice at the checkout's HEAD, last
/// seen 3 minutes ago; `octocat` may read the repo. Returns the incident's id.
async fn incident_at_head(app: &TestApp, checkout: &Path) -> String {
    let (_, project) = app.project("acme/checkout-api").await;
    app.github.grant("octocat", "acme/checkout-api", "read");
    let head = git(checkout, &["rev-parse", "HEAD"]);
    let key = project["ingest_key"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(app.ingest(key, &py_error(&head)).await.status, 202);
    }
    app.fold().await;
    sqlx::query("update incidents set last_seen_at = now() - interval '3 minutes 10 seconds'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query_scalar("select incident_id from incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn login_trades_a_github_token_from_stdin_for_a_session_stored_privately() {
    let app = TestApp::spawn().await;
    let user = User::new(&app);

    let login = user.login(&app, 42, "octocat").await;
    let projects = user.cairn(&user.config, &["projects", "list"], None).await;

    login.succeeded();
    assert_eq!(login.stdout, "");
    assert!(
        login.stderr.starts_with(&format!(
            "cairn: signed in to {} as octocat (the session lasts until ",
            app.addr
        )),
        "{login:?}"
    );
    assert!(!login.stderr.contains("cairn_s_") && !login.stderr.contains("gho_"));
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&user.credentials()), 0o600);
    assert_eq!(mode(user.credentials().parent().unwrap()), 0o700);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(user.credentials()).unwrap()).unwrap();
    let token = stored["sessions"][&app.addr]["session_token"]
        .as_str()
        .unwrap();
    assert_eq!(app.get("/v1/me", token).await.status, 200);
    projects.succeeded();
    assert_eq!(
        projects.stderr,
        format!("cairn: no projects you can read on {}\n", app.addr)
    );
}

#[tokio::test]
async fn logout_signs_the_session_out_and_forgets_it() {
    let app = TestApp::spawn().await;
    let user = User::new(&app);
    user.login(&app, 42, "octocat").await.succeeded();
    let stored: Value =
        serde_json::from_slice(&std::fs::read(user.credentials()).unwrap()).unwrap();
    let token = stored["sessions"][&app.addr]["session_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let logout = user.cairn(&user.config, &["logout"], None).await;
    let again = user.cairn(&user.config, &["logout"], None).await;

    logout.succeeded();
    assert_eq!(
        logout.stderr,
        format!("cairn: signed octocat out of {}\n", app.addr)
    );
    assert_eq!(app.get("/v1/me", &token).await.status, 401);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(user.credentials()).unwrap()).unwrap();
    assert_eq!(stored["sessions"], json!({}));
    again.succeeded();
    assert_eq!(
        again.stderr,
        format!("cairn: not signed in to {}\n", app.addr)
    );
}

#[tokio::test]
async fn incidents_lists_the_checkouts_incidents_as_compiler_errors_from_either_remote_form() {
    let app = TestApp::spawn().await;
    let user = User::new(&app);
    user.login(&app, 42, "octocat").await.succeeded();
    let https = checkout(Some("https://github.com/acme/checkout-api.git"));
    let ssh = checkout(Some("git@github.com:acme/checkout-api.git"));
    let id = incident_at_head(&app, &https).await;

    let from_https = user.cairn(&https, &["incidents"], None).await;
    let from_ssh = user.cairn(&ssh, &["incidents"], None).await;
    let from_subfolder = user.cairn(&https.join("app"), &["incidents"], None).await;
    let frames = user.cairn(&https, &["incidents", "--frames"], None).await;
    let absolute = user
        .cairn(&https.join("app"), &["incidents", "--absolute"], None)
        .await;

    let line = format!(
        "app/payments.py:2: error: ZeroDivisionError: division by zero [{id}, 2 events, last seen 3m ago]"
    );
    assert_eq!(from_https.succeeded().lines(), [line.as_str()]);
    assert_eq!(from_https.stderr, "");
    assert_eq!(from_ssh.succeeded().lines(), [line.as_str()]);
    assert_eq!(from_subfolder.succeeded().lines(), [line.as_str()]);
    assert_eq!(
        frames.succeeded().lines(),
        [
            line.as_str(),
            "app/payments.py:2: note: in charge",
            "app/main.py:9: note: in main",
        ]
    );
    let root = git(&https, &["rev-parse", "--show-toplevel"]);
    assert_eq!(
        absolute.succeeded().lines(),
        [format!("{root}/{line}").as_str()]
    );
}

#[tokio::test]
async fn the_listing_is_read_by_vim_quickfix_emacs_compilation_mode_and_the_readmes_vs_code_task() {
    let app = TestApp::spawn().await;
    let user = User::new(&app);
    user.login(&app, 42, "octocat").await.succeeded();
    let repo = checkout(Some("https://github.com/acme/checkout-api"));
    let id = incident_at_head(&app, &repo).await;
    let listing = user.cairn(&repo, &["incidents", "--frames"], None).await;
    let message =
        format!("error: ZeroDivisionError: division by zero [{id}, 2 events, last seen 3m ago]");
    // (file, line, column, text) as an editor takes them.
    let expected = [
        ("app/payments.py", 2, 0, format!(" {message}")),
        ("app/payments.py", 2, 0, " note: in charge".to_owned()),
        ("app/main.py", 9, 0, " note: in main".to_owned()),
    ];

    // Vim: the README's line, with `cairn` on PATH, read with the default 'errorformat'.
    if std::process::Command::new("vim")
        .arg("--version")
        .output()
        .is_ok()
    {
        let bin = Path::new(env!("CARGO_BIN_EXE_cairn")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = repo.join("quickfix.txt");
        let vim = tokio::process::Command::new("vim")
            .args(["-N", "-u", "NONE", "-i", "NONE", "-es"])
            .args(["-c", "cexpr system('cairn incidents --frames')"])
            .args([
                "-c",
                "call writefile(map(getqflist(), 'printf(\"%s|%d|%d|%d|%s\", bufname(v:val.bufnr), v:val.lnum, v:val.col, v:val.valid, v:val.text)'), 'quickfix.txt')",
            ])
            .args(["-c", "qa!"])
            .current_dir(&repo)
            .env("PATH", path)
            .env("XDG_CONFIG_HOME", &user.config)
            .env("CAIRN_URL", &user.url)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(out.exists(), "vim wrote no quickfix list: {vim:?}");
        let entries = std::fs::read_to_string(&out).unwrap();
        let want: Vec<String> = expected
            .iter()
            .map(|(f, l, c, t)| format!("{f}|{l}|{c}|1|{t}"))
            .collect();
        assert_eq!(entries.lines().collect::<Vec<_>>(), want);
    }

    // Emacs: the README's `M-x compile` with `cairn incidents`, read by compilation mode.
    if std::process::Command::new("emacs")
        .arg("--version")
        .output()
        .is_ok()
    {
        let bin = Path::new(env!("CARGO_BIN_EXE_cairn")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let lisp = format!(
            r#"(progn
                 (require 'compile)
                 (setq default-directory "{}/")
                 (let ((buf (compile "cairn incidents --frames")))
                   (while (get-buffer-process buf) (accept-process-output nil 0.1))
                   (with-current-buffer buf
                     (compilation--ensure-parse (point-max))
                     (goto-char (point-min))
                     (while (not (eobp))
                       (let ((p (text-property-not-all (line-beginning-position) (line-end-position)
                                                       'compilation-message nil)))
                         (when p
                           (let* ((msg (get-text-property p 'compilation-message))
                                  (loc (compilation--message->loc msg)))
                             (princ (format "%s|%s|%s|%s\n"
                                            (caar (compilation--loc->file-struct loc))
                                            (compilation--loc->line loc)
                                            (or (compilation--loc->col loc) 0)
                                            (compilation--message->type msg))))))
                       (forward-line 1)))))"#,
            repo.display()
        );
        let emacs = tokio::process::Command::new("emacs")
            .args(["-Q", "--batch", "--eval", &lisp])
            .env("PATH", path)
            .env("XDG_CONFIG_HOME", &user.config)
            .env("CAIRN_URL", &user.url)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        // compilation-mode's types: 2 error, 0 info (GCC's `note:`).
        assert_eq!(
            String::from_utf8_lossy(&emacs.stdout)
                .lines()
                .collect::<Vec<_>>(),
            [
                "app/payments.py|2|0|2",
                "app/payments.py|2|0|0",
                "app/main.py|9|0|0"
            ],
            "{emacs:?}"
        );
    }

    // VS Code: the problem matcher of the README's task, applied to the same lines.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let tasks = readme
        .split("```jsonc\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("the README has the VS Code task as a ```jsonc block");
    let tasks: Value = serde_json::from_str(
        &tasks
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("the task is JSON once its comment lines are removed");
    let matcher = &tasks["tasks"][0]["problemMatcher"];
    let pattern = &matcher["pattern"];
    let regex = regex::Regex::new(pattern["regexp"].as_str().unwrap()).unwrap();
    let group = |name: &str, caps: &regex::Captures<'_>| -> String {
        pattern[name]
            .as_u64()
            .and_then(|i| caps.get(i as usize))
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default()
    };
    let matched: Vec<(String, String, String, String)> = listing
        .lines()
        .iter()
        .map(|l| {
            let caps = regex
                .captures(l)
                .unwrap_or_else(|| panic!("{l:?} is matched"));
            (
                group("file", &caps),
                group("line", &caps),
                group("severity", &caps),
                group("message", &caps),
            )
        })
        .collect();
    assert_eq!(
        matched,
        [
            (
                "app/payments.py".to_owned(),
                "2".to_owned(),
                "error".to_owned(),
                message.trim_start_matches("error: ").to_owned()
            ),
            (
                "app/payments.py".to_owned(),
                "2".to_owned(),
                "note".to_owned(),
                "in charge".to_owned()
            ),
            (
                "app/main.py".to_owned(),
                "9".to_owned(),
                "note".to_owned(),
                "in main".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn json_prints_the_apis_incidents() {
    let app = TestApp::spawn().await;
    let user = User::new(&app);
    user.login(&app, 42, "octocat").await.succeeded();
    let repo = checkout(Some("https://github.com/acme/checkout-api.git"));
    let id = incident_at_head(&app, &repo).await;

    let listed = user.cairn(&repo, &["incidents", "--json"], None).await;

    let page: Value = serde_json::from_str(&listed.succeeded().stdout).expect("JSON");
    let incident = &page["incidents"][0];
    assert_eq!(incident["incident_id"], id.as_str());
    assert_eq!(incident["file_path"], "app/payments.py");
    assert_eq!(incident["line_number"], 2);
    assert_eq!(
        incident["commit_sha"],
        git(&repo, &["rev-parse", "HEAD"]).as_str()
    );
    assert_eq!(incident["frames"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_null());
}

#[tokio::test]
async fn resolve_and_reopen_move_an_incident_out_of_the_listing_and_back() {
    let app = TestApp::spawn().await;
    let user = User::new(&app);
    user.login(&app, 42, "octocat").await.succeeded();
    let repo = checkout(Some("git@github.com:acme/checkout-api.git"));
    let id = incident_at_head(&app, &repo).await;
    // Resolving and reopening need push access.
    app.github.grant("octocat", "acme/checkout-api", "write");

    let resolved = user.cairn(&repo, &["resolve", &id], None).await;
    let open_after = user.cairn(&repo, &["incidents"], None).await;
    let resolved_list = user
        .cairn(&repo, &["incidents", "--status", "resolved"], None)
        .await;
    let reopened = user.cairn(&repo, &["reopen", &id], None).await;
    let open_again = user.cairn(&repo, &["incidents"], None).await;

    assert_eq!(
        resolved.succeeded().lines(),
        [format!("{id} is resolved: ZeroDivisionError: division by zero").as_str()]
    );
    assert_eq!(open_after.succeeded().stdout, "");
    assert_eq!(resolved_list.succeeded().lines().len(), 1);
    assert!(resolved_list.stdout.contains(&id));
    assert_eq!(
        reopened.succeeded().lines(),
        [format!("{id} is open again: ZeroDivisionError: division by zero").as_str()]
    );
    assert_eq!(open_again.succeeded().lines().len(), 1);
    let status: String = sqlx::query_scalar("select status from incidents")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "open");
}

#[tokio::test]
async fn projects_create_shows_the_dsn_once_and_list_shows_the_project() {
    let app = TestApp::spawn().await;
    let user = User::new(&app);
    user.login(&app, 42, "octocat").await.succeeded();
    app.github.grant("octocat", "acme/shop", "admin");
    let cwd = std::env::temp_dir();

    let created = user
        .cairn(&cwd, &["projects", "create", "acme/shop"], None)
        .await;
    let listed = user.cairn(&cwd, &["projects", "list"], None).await;
    let twice = user
        .cairn(&cwd, &["projects", "create", "acme/shop"], None)
        .await;

    let (project_id, key): (String, String) = sqlx::query_as(
        "select p.project_id, k.prefix from projects p join ingest_keys k on k.project_id = p.project_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let lines = created.succeeded().lines();
    assert_eq!(
        lines[0],
        format!("created project {project_id} for acme/shop (sentry id 1)")
    );
    let ingest_key = lines[1]
        .strip_prefix("ingest key (shown this once; keep it secret): ")
        .unwrap();
    assert!(
        ingest_key.starts_with(&key),
        "{ingest_key} has the prefix {key}"
    );
    let host = app.addr.trim_start_matches("http://");
    let dsn = format!("http://{ingest_key}@{host}/1");
    assert_eq!(lines[2], format!("DSN (holds the key): {dsn}"));
    assert!(lines.contains(&format!("  CAIRN_DSN={dsn}").as_str()));
    assert!(lines
        .iter()
        .any(|l| l.contains("sentry_sdk.init(dsn=os.environ[\"CAIRN_DSN\"]")));
    assert!(lines
        .iter()
        .any(|l| l.contains("Sentry.init({ dsn: process.env.CAIRN_DSN")));
    assert_eq!(
        listed.succeeded().lines(),
        [format!("acme/shop {project_id} (sentry id 1, 1 active key)").as_str()]
    );
    assert!(!listed.stdout.contains(ingest_key));
    twice.failed_with(&format!(
        "{} answered 409: this repo already has a project",
        app.addr
    ));
}

#[tokio::test]
async fn every_failure_is_one_line_and_a_non_zero_exit() {
    let app = TestApp::spawn().await;
    let user = User::new(&app);
    let https = checkout(Some("https://github.com/acme/checkout-api.git"));

    // Not signed in.
    user.cairn(&https, &["incidents"], None)
        .await
        .failed_with(&format!("not signed in to {}: run cairn login", app.addr));
    // GitHub refuses the token.
    user.cairn(
        &https,
        &["login", "--github-token", "-"],
        Some("gho_nobody\n"),
    )
    .await
    .failed_with(&format!(
        "{} answered 401: GitHub refused the token",
        app.addr
    ));
    // No token anywhere, and no GitHub CLI.
    user.cairn_env(&https, &["login"], None, &[("PATH", "/nonexistent")])
        .await
        .failed_with("no GitHub token: pipe one to cairn login --github-token -, set GITHUB_TOKEN, or install the GitHub CLI and run gh auth login");

    user.login(&app, 42, "octocat").await.succeeded();
    // Not a checkout.
    let plain = temp_dir("cairn-plain");
    user.cairn(&plain, &["incidents"], None).await.failed_with(
        "not a git checkout: run cairn incidents inside a clone of a GitHub repository, or pass --repo owner/name",
    );
    // No origin.
    user.cairn(&checkout(None), &["incidents"], None).await.failed_with(
        "this checkout has no origin remote: add one (git remote add origin …) or pass --repo owner/name",
    );
    // Not GitHub (and the remote's credentials are not shown).
    user.cairn(
        &checkout(Some("https://dev:secret@gitlab.com/acme/checkout-api.git")),
        &["incidents"],
        None,
    )
    .await
    .failed_with("origin is not a GitHub repository (https://…@gitlab.com/acme/checkout-api.git): pass --repo owner/name");
    // A repo with no project.
    app.github.grant("octocat", "acme/checkout-api", "read");
    user.cairn(&https, &["incidents"], None).await.failed_with(&format!(
        "no cairn project for acme/checkout-api that you can read on {} (a repo admin creates it: cairn projects create acme/checkout-api)",
        app.addr
    ));
    // An incident that does not exist.
    user.cairn(&https, &["resolve", "inc_nope"], None)
        .await
        .failed_with(&format!(
            "no incident inc_nope that you can read on {}",
            app.addr
        ));
    // A bad command line.
    let usage = user.cairn(&https, &["incidents", "--bogus"], None).await;
    assert_eq!(usage.code, Some(2));
    assert_eq!(
        usage.stderr,
        "cairn: unknown option --bogus (cairn --help lists the commands)\n"
    );

    // The server unreachable: signing in, and listing with a session for it.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    user.cairn(
        &https,
        &["login", "--url", &dead, "--github-token", "-"],
        Some("gho_octocat_42"),
    )
    .await
    .failed_with(&format!("cannot reach {dead}: connection refused"));
    let mut stored: Value =
        serde_json::from_slice(&std::fs::read(user.credentials()).unwrap()).unwrap();
    stored["sessions"][&dead] = stored["sessions"][&app.addr].clone();
    std::fs::write(user.credentials(), stored.to_string()).unwrap();
    user.cairn(&https, &["incidents", "--url", &dead], None)
        .await
        .failed_with(&format!("cannot reach {dead}: connection refused"));

    // An expired session, then a revoked one.
    let rejected = format!(
        "the session for {} has expired or was revoked: run cairn login",
        app.addr
    );
    sqlx::query("update sessions set expires_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();
    user.cairn(&https, &["incidents"], None)
        .await
        .failed_with(&rejected);
    user.login(&app, 42, "octocat").await.succeeded();
    let stored: Value =
        serde_json::from_slice(&std::fs::read(user.credentials()).unwrap()).unwrap();
    let token = stored["sessions"][&app.addr]["session_token"]
        .as_str()
        .unwrap();
    let revoke = app
        .send(
            "DELETE",
            "/v1/auth/session",
            &[("authorization", &format!("Bearer {token}"))],
            "",
        )
        .await;
    assert_eq!(revoke.status, 204);
    user.cairn(&https, &["projects", "list"], None)
        .await
        .failed_with(&rejected);
}

#[tokio::test]
async fn serve_names_a_bad_secret_key_and_its_format_in_one_line() {
    let dir = temp_dir("cairn-bad-key");
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("serve")
        .current_dir(&dir)
        .env("CAIRN_SECRET_KEY", "not-a-key")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nothing")
        .env("RUST_BACKTRACE", "1")
        .output()
        .await
        .unwrap();

    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        "cairn: environment variable CAIRN_SECRET_KEY is invalid: expected 64 hex characters (openssl rand -hex 32) or base64 of 32 bytes\n"
    );
}

/// A cairn server as the listing sees it, answering `GET /v1/incidents` with one incident seen
/// at an older commit; with `translating`, it is the line-translation API (`at=` answered with
/// `translation` and a `line_state`), else it ignores `at=` as servers before it do. It records
/// each listing's query.
async fn stub_server(translating: bool) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let log = std::sync::Arc::clone(&log);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: hyper::Request<_>| {
                    let query = req.uri().query().unwrap_or_default().to_owned();
                    log.lock().unwrap().push(query.clone());
                    let pairs: std::collections::HashMap<String, String> =
                        url::form_urlencoded::parse(query.as_bytes())
                            .into_owned()
                            .collect();
                    let mut incident = json!({
                        "incident_id": "inc_stub", "project_id": "proj_1", "repo": "acme/checkout-api",
                        "status": "open", "level": "error", "error_type": "ZeroDivisionError",
                        "error_message": "division by zero", "file_path": "app/payments.py",
                        "line_number": 2, "column_number": null, "occurrence_count": 1,
                        "affected_users": 0, "first_seen_at": "2025-06-01T12:00:00Z",
                        "last_seen_at": (chrono::Utc::now() - chrono::Duration::seconds(190)).to_rfc3339(), "frames": []
                    });
                    let body = match (pairs.get("at"), pairs.get("commit")) {
                        (Some(_), _) if translating => {
                            incident["line_number"] = json!(4);
                            incident["seen_commit_sha"] =
                                json!("0123456789abcdef0123456789abcdef01234567");
                            incident["line_state"] = json!("changed");
                            json!({"incidents": [incident], "next_cursor": null,
                                   "translation": {"status": "complete", "reason": null}})
                        }
                        // Seen at another commit: not listed at exactly HEAD.
                        (_, Some(_)) => json!({"incidents": [], "next_cursor": null}),
                        _ => json!({"incidents": [incident], "next_cursor": null}),
                    };
                    async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(body.to_string()),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (url, seen)
}

/// A user signed in to `url` (the credentials file as `cairn login` writes it).
fn signed_in_to(url: &str) -> User {
    let user = User {
        config: temp_dir("cairn-config"),
        url: url.to_owned(),
    };
    std::fs::create_dir_all(user.credentials().parent().unwrap()).unwrap();
    let file = json!({"sessions": {url: {
        "session_token": "cairn_s_stub", "github_login": "octocat", "expires_at": "2099-01-01T00:00:00Z"
    }}});
    std::fs::write(user.credentials(), file.to_string()).unwrap();
    user
}

#[tokio::test]
async fn incidents_are_located_at_head_by_the_line_translation_api_when_the_server_has_it() {
    let (url, seen) = stub_server(true).await;
    let user = signed_in_to(&url);
    let repo = checkout(Some("https://github.com/acme/checkout-api.git"));
    let head = git(&repo, &["rev-parse", "HEAD"]);

    let listed = user.cairn(&repo, &["incidents"], None).await;

    assert_eq!(
        listed.succeeded().lines(),
        ["app/payments.py:4: error: ZeroDivisionError: division by zero [inc_stub, 1 event, last seen 3m ago] (line changed since 0123456)"]
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [format!("repo=acme%2Fcheckout-api&at={head}")]
    );
}

#[tokio::test]
async fn a_server_without_line_translation_is_asked_for_the_incidents_seen_at_head() {
    let (url, seen) = stub_server(false).await;
    let user = signed_in_to(&url);
    let repo = checkout(Some("git@github.com:acme/checkout-api.git"));
    let head = git(&repo, &["rev-parse", "HEAD"]);

    let listed = user.cairn(&repo, &["incidents"], None).await;

    assert_eq!(listed.succeeded().stdout, "");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            format!("repo=acme%2Fcheckout-api&at={head}"),
            format!("repo=acme%2Fcheckout-api&commit={head}")
        ]
    );
}

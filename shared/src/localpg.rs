//! A throwaway PostgreSQL for `cairn serve` without `DATABASE_URL` and for the test suite:
//! `initdb` + `pg_ctl` into a data folder cairn owns. PostgreSQL refuses to run as root, so when
//! we are root the folder is given to the `postgres` user and the server runs as that user (the
//! folders above it are left as they are: a folder that user cannot reach is an error, not a
//! reason to open it to everyone).
//!
//! Every other user of the machine can reach 127.0.0.1, so TCP connections need a password
//! (`scram-sha-256`), made at first start and kept in the data folder ([`PASSWORD_FILE`], 0600,
//! the folder itself 0700). The Unix socket lives in the data folder too, so only the cluster's
//! owner (and root) can reach it; it is how cairn sets the password.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// A running local cluster.
pub struct LocalPostgres {
    pub data_dir: PathBuf,
    pub port: u16,
    bindir: PathBuf,
    as_postgres_user: bool,
    password: String,
}

/// The file in the data folder that holds the `postgres` role's password.
pub const PASSWORD_FILE: &str = "cairn.password";

/// Who may connect how: the socket (in the 0700 data folder) as its owner, TCP only with the
/// password. Written over `initdb`'s `trust` before every start, so a cluster made by an older
/// cairn is closed too.
const PG_HBA: &str = "\
# Written by cairn (shared/src/localpg.rs) at every start.
# The socket is in this 0700 folder: only the cluster's owner (and root) can reach it.
local all all trust
# TCP: anyone on the machine can reach 127.0.0.1, so the password (cairn.password) is needed.
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// Where `initdb`/`pg_ctl` live: see [`program`].
fn bindir() -> anyhow::Result<PathBuf> {
    bindir_of("initdb")
}

/// The path of PostgreSQL's `name` (`pg_dump`, …), found where `initdb` is looked for:
/// `PG_BINDIR`, `pg_config --bindir`, or Debian's layout (the newest version there).
pub fn program(name: &str) -> anyhow::Result<PathBuf> {
    Ok(bindir_of(name)?.join(name))
}

fn bindir_of(program: &str) -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BINDIR") {
        return Ok(dir.into());
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join(program).exists() {
            return Ok(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join(program).exists())
        .collect();
    found.sort();
    found.pop().with_context(|| {
        format!("no PostgreSQL {program} found (install postgresql or set PG_BINDIR)")
    })
}

impl LocalPostgres {
    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let exe = self.bindir.join(program);
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).stdin(std::process::Stdio::null());
        let out = cmd.output().with_context(|| format!("running {program}"))?;
        Ok(out)
    }

    /// Starts (initialising on first use) a cluster in `data_dir` listening on 127.0.0.1:`port`.
    pub fn start(data_dir: &Path, port: u16) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        let as_postgres_user = is_root();
        let pg = Self {
            data_dir: data_dir.clone(),
            port,
            bindir: bindir()?,
            as_postgres_user,
            password: String::new(),
        };
        let d = data_dir.to_string_lossy().to_string();
        if as_postgres_user {
            // The server's user must own its folder and be able to reach it; the folders above
            // are not ours to open up.
            let _ = Command::new("chown")
                .args(["-R", "postgres:postgres", &d])
                .status();
            let reachable = Command::new("runuser")
                .args(["-u", "postgres", "--", "test", "-x", &d])
                .status()
                .is_ok_and(|s| s.success());
            if !reachable {
                bail!(
                    "the postgres user cannot reach {d} (a folder above it is closed to other \
                     users); run as a user other than root, use a folder postgres can reach, \
                     or set DATABASE_URL"
                );
            }
        }
        if !data_dir.join("PG_VERSION").exists() {
            let out = pg.run(
                "initdb",
                &[
                    "-D",
                    &d,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ],
            )?;
            if !out.status.success() {
                bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
        // Written as root when root, in a folder only its owner can list: postgres reads it.
        std::fs::write(data_dir.join("pg_hba.conf"), PG_HBA).context("writing pg_hba.conf")?;
        if as_postgres_user {
            let _ = Command::new("chown")
                .args(["postgres:postgres", &format!("{d}/pg_hba.conf")])
                .status();
        }
        let opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={d} -c max_connections=200 -c fsync=on -c synchronous_commit=on"
        );
        let log = format!("{d}/server.log");
        let out = pg.run(
            "pg_ctl",
            &["-D", &d, "-l", &log, "-o", &opts, "-w", "-t", "30", "start"],
        )?;
        if !out.status.success() {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            bail!(
                "pg_ctl start failed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                tail
            );
        }
        let mut pg = pg;
        pg.password = pg.ensure_password()?;
        Ok(pg)
    }

    /// The password of the `postgres` role: read from [`PASSWORD_FILE`], or made (created 0600),
    /// set through the socket, and kept there on first start.
    fn ensure_password(&self) -> anyhow::Result<String> {
        let file = self.data_dir.join(PASSWORD_FILE);
        if let Ok(p) = std::fs::read_to_string(&file) {
            return Ok(p.trim().to_owned());
        }
        let password = crate::crypto::random_alphanumeric(32);
        let sql = format!("alter role postgres password '{password}'");
        let d = self.data_dir.to_string_lossy().to_string();
        let port = self.port.to_string();
        let exe = self.bindir.join("psql");
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        // The statement goes through stdin, never the command line other users can read.
        let mut child = cmd
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", &d, "-p", &port])
            .args(["-U", "postgres", "-d", "postgres", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .context("running psql")?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().context("psql stdin")?;
            stdin.write_all(sql.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "setting the local PostgreSQL password failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        write_private(&file, password.as_bytes())?;
        Ok(password)
    }

    /// The URL of database `db` on this cluster (with its password).
    pub fn url(&self, db: &str) -> String {
        format!("{}{db}", self.base_url())
    }

    /// The URL of the server, without a database name (ends with `/`).
    pub fn base_url(&self) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/",
            self.password, self.port
        )
    }

    /// Stops the server (fast shutdown), or at once when `immediate`.
    pub fn stop(&self, immediate: bool) -> anyhow::Result<()> {
        let d = self.data_dir.to_string_lossy().to_string();
        let mode = if immediate { "immediate" } else { "fast" };
        self.run("pg_ctl", &["-D", &d, "-m", mode, "-w", "stop"])?;
        Ok(())
    }

    /// Simulates a crash: SIGKILL to the postmaster and every backend at once.
    pub fn kill9(&self) -> anyhow::Result<()> {
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid"))
            .context("reading postmaster.pid")?;
        let pid = pid_file
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        // Stopped first, the postmaster cannot notice a child's death and fork new ones (which
        // would survive it, reparented, holding the shared memory a restart needs); then its
        // children as they are now, then itself, and we wait until every one of them is gone.
        let _ = Command::new("kill").args(["-STOP", &pid]).status();
        let children: Vec<String> = Command::new("pgrep")
            .args(["-P", &pid])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        for child in &children {
            let _ = Command::new("kill").args(["-9", child]).status();
        }
        let _ = Command::new("kill").args(["-9", &pid]).status();
        let alive = |p: &str| {
            Command::new("kill")
                .args(["-0", p])
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        for _ in 0..200 {
            if !alive(&pid) && !children.iter().any(|c| alive(c)) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(())
    }

    /// Starts the server again after [`LocalPostgres::stop`].
    pub fn restart(&self) -> anyhow::Result<()> {
        Self::start(&self.data_dir, self.port).map(|_| ())
    }

    /// Arranges for the cluster to be stopped when process `pid` exits (a watchdog shell), so a
    /// test run leaves no server behind.
    pub fn stop_when_process_exits(&self, pid: u32) {
        let d = self.data_dir.to_string_lossy().to_string();
        let pg_ctl = self.bindir.join("pg_ctl").to_string_lossy().to_string();
        let stop = if self.as_postgres_user {
            format!("runuser -u postgres -- {pg_ctl} -D {d} -m immediate stop")
        } else {
            format!("{pg_ctl} -D {d} -m immediate stop")
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {d}"
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

/// Writes `bytes` to a new file that is private (0600) from its creation, never readable by
/// others in between; an existing file is replaced.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut f = options
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        // A file that existed keeps its mode through `open`: make it private before writing.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
    }
    #[cfg(not(unix))]
    {
        let mut f = options
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        f.write_all(bytes)?;
    }
    Ok(())
}

/// The password of the cluster in `data_dir`, once it has started (for a caller that finds the
/// cluster running and did not start it).
pub fn password_of(data_dir: &Path) -> anyhow::Result<String> {
    let file = data_dir.join(PASSWORD_FILE);
    Ok(std::fs::read_to_string(&file)
        .with_context(|| format!("reading {}", file.display()))?
        .trim()
        .to_owned())
}

/// A free TCP port on loopback.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

//! A throwaway PostgreSQL for `cairn serve` without `DATABASE_URL` and for the test suite:
//! `initdb` + `pg_ctl` into a data folder cairn owns. PostgreSQL refuses to run as root, so when
//! we are root the folder is given to the `postgres` user and the server runs as that user.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// A running local cluster.
pub struct LocalPostgres {
    pub data_dir: PathBuf,
    pub port: u16,
    bindir: PathBuf,
    as_postgres_user: bool,
}

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
        };
        let d = data_dir.to_string_lossy().to_string();
        if as_postgres_user {
            // The server's user must own its folder and be able to reach it.
            let _ = Command::new("chown")
                .args(["-R", "postgres:postgres", &d])
                .status();
            let mut p = data_dir.parent();
            while let Some(dir) = p {
                let _ = Command::new("chmod")
                    .args(["o+x", &dir.to_string_lossy()])
                    .status();
                p = dir.parent();
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
        Ok(pg)
    }

    /// The URL of database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
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

/// A free TCP port on loopback.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

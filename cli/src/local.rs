//! First-run defaults for `cairn serve`: a throwaway PostgreSQL under `.cairn/` when
//! `DATABASE_URL` is unset, and a local secret key kept beside it.

use std::path::Path;

use anyhow::Context;
use shared::localpg::{self, LocalPostgres};

/// Where local state lives (relative to the working directory).
pub const STATE_DIR: &str = ".cairn";

/// Starts (or reuses) the local cluster and returns its `DATABASE_URL`, with the cluster when
/// this call started it (to be stopped on shutdown).
pub async fn ensure_database(state: &Path) -> anyhow::Result<(String, Option<LocalPostgres>)> {
    let data = state.join("pg");
    let port_file = state.join("pg.port");
    std::fs::create_dir_all(state)?;
    let port: u16 = match std::fs::read_to_string(&port_file)
        .ok()
        .and_then(|p| p.trim().parse().ok())
    {
        Some(p) => p,
        None => {
            let p = localpg::free_port()?;
            std::fs::write(&port_file, p.to_string())?;
            p
        }
    };
    let pg = if data.join("postmaster.pid").exists()
        && tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    {
        None
    } else {
        let _ = std::fs::remove_file(data.join("postmaster.pid"));
        Some(LocalPostgres::start(&data, port).context("starting the local PostgreSQL")?)
    };
    // The cluster's password is in its data folder (made at its first start).
    let base = match &pg {
        Some(pg) => pg.base_url(),
        None => format!(
            "postgres://postgres:{}@127.0.0.1:{port}/",
            localpg::password_of(&data)?
        ),
    };
    let admin = format!("{base}postgres");
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .context("connecting to the local PostgreSQL")?;
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from pg_database where datname = 'cairn')")
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query("create database cairn")
                .execute(&mut conn)
                .await?;
        }
    }
    Ok((format!("{base}cairn"), pg))
}

/// The local secret key (64 hex), made on first use and kept in `.cairn/secret.key`.
pub fn ensure_secret_key(state: &Path) -> anyhow::Result<String> {
    let file = state.join("secret.key");
    if let Ok(k) = std::fs::read_to_string(&file) {
        return Ok(k.trim().to_owned());
    }
    std::fs::create_dir_all(state)?;
    let key = hex::encode(shared::crypto::sha256(
        shared::crypto::random_alphanumeric(64).as_bytes(),
    ));
    // Private from its creation: never a moment readable by others.
    localpg::write_private(&file, key.as_bytes())?;
    Ok(key)
}

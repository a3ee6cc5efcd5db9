//! `docs/schema.sql`: the schema as the migrations leave it. `pg_dump --schema-only` of a freshly
//! migrated database, with what changes from run to run or between pg_dump versions taken out.
//! `cairn schema` prints it; `tests/api/schema.rs` checks the committed copy against a dump of
//! the test suite's migrated database, through the same [`dump`]. The committed copy comes from
//! a PostgreSQL 15 built with LZ4, as PGDG's and Debian's packages are: migration 0008 sets LZ4
//! compression only where the server has it, so a server without it dumps no `SET COMPRESSION`.

use std::process::Command;

use anyhow::{bail, Context};
use sqlx::Connection;

/// The command that regenerates `docs/schema.sql`.
pub const REGENERATE: &str = "cargo run -p cairn -- schema > docs/schema.sql";

/// `pg_dump --schema-only` of `database_url`, normalised (see [`normalise`]). `pg_dump` is found
/// where the local cluster's `initdb` is (`shared::localpg::program`). sqlx's bookkeeping table
/// `_sqlx_migrations` is left out: the migrator writes it, no migration does.
pub fn dump(database_url: &str) -> anyhow::Result<String> {
    let pg_dump = shared::localpg::program("pg_dump")?;
    let out = Command::new(&pg_dump)
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--exclude-table=public._sqlx_migrations",
            "--dbname",
            database_url,
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("running {}", pg_dump.display()))?;
    if !out.status.success() {
        bail!("pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout).context("pg_dump printed something not UTF-8")?;
    Ok(format!(
        "-- The schema as migrations/ leave it: pg_dump --schema-only of a freshly migrated database.\n\
         -- Generated, do not edit: after adding a migration run `{REGENERATE}`\n\
         -- (tests/api/schema.rs checks this copy). The design: docs/ARCHITECTURE.md.\n\n{}",
        normalise(&text)
    ))
}

/// Takes out of a dump what says nothing about the schema and changes from run to run or between
/// pg_dump versions: the `Dumped from/by version` lines, the `\restrict`/`\unrestrict` lines with
/// their random key (pg_dump 15.14 and later), and the session settings (`SET …`,
/// `SELECT pg_catalog.set_config(…)`) pg_dump puts before the objects; then at most two blank
/// lines in a row, none at either end.
pub fn normalise(dump: &str) -> String {
    let volatile = |line: &str| {
        line.starts_with("-- Dumped from database version")
            || line.starts_with("-- Dumped by pg_dump version")
            || line.starts_with("\\restrict ")
            || line.starts_with("\\unrestrict ")
            || line.starts_with("SET ")
            || line.starts_with("SELECT pg_catalog.set_config(")
    };
    let mut out = String::with_capacity(dump.len());
    let mut blanks = 0;
    for line in dump.lines().filter(|l| !volatile(l)) {
        let line = line.trim_end();
        if line.is_empty() {
            blanks += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(&"\n".repeat(blanks.min(2)));
        }
        blanks = 0;
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Migrates a new, empty database and returns its [`dump`]: on `DATABASE_URL`'s server when it is
/// set (the database is dropped afterwards), else on a throwaway cluster (as the tests do).
pub async fn fresh() -> anyhow::Result<String> {
    match std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => on_server(&url).await,
        None => {
            let dir = std::env::temp_dir().join(format!("cairn-schema-{}", std::process::id()));
            let port = shared::localpg::free_port()?;
            let pg = shared::localpg::LocalPostgres::start(&dir, port)
                .context("starting a throwaway PostgreSQL")?;
            let dumped = on_server(&pg.url("postgres")).await;
            pg.stop(true)?;
            let _ = std::fs::remove_dir_all(&dir);
            dumped
        }
    }
}

/// [`fresh`] on the server of the URL `server`: a database of its own, created, migrated, dumped, dropped.
async fn on_server(server: &str) -> anyhow::Result<String> {
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .context("connecting to PostgreSQL")?;
    let name = format!("cairn_schema_{}", std::process::id());
    sqlx::query(&format!("drop database if exists {name}"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await?;
    let mut db_url = url::Url::parse(server).context("DATABASE_URL is not a URL")?;
    db_url.set_path(&format!("/{name}"));
    let dumped = async {
        let mut conn = sqlx::PgConnection::connect(db_url.as_str()).await?;
        shared::db::MIGRATOR
            .run(&mut conn)
            .await
            .context("applying migrations")?;
        conn.close().await?;
        dump(db_url.as_str())
    }
    .await;
    sqlx::query(&format!("drop database if exists {name}"))
        .execute(&mut admin)
        .await?;
    dumped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_drops_versions_keys_and_session_settings() {
        let raw = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n\
                   -- Dumped from database version 15.18\n-- Dumped by pg_dump version 15.18\n\n\
                   SET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\n\n\n\n\
                   CREATE TABLE public.t (\n    id bigint\n);\n\n\n\n\n\\unrestrict abc\n\n";
        assert_eq!(
            normalise(raw),
            "--\n-- PostgreSQL database dump\n--\n\n\nCREATE TABLE public.t (\n    id bigint\n);\n"
        );
    }
}

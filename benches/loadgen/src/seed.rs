//! Seeding with SQL directly (fast, and independent of the code under test): bench projects and
//! their ingest keys, the pgbench ceiling's incidents, a signed-in reader and the query
//! scenario's incidents and events.

use sqlx::PgPool;

use crate::payloads;

/// A project the load generator sends events to.
#[derive(Clone)]
pub struct BenchProject {
    pub key: String,
    pub sentry_id: i64,
    pub commit: String,
}

/// Owner of every bench project, and the user whose session reads incidents.
async fn user(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "insert into users (github_id, github_login) values (424242, 'bench')
         on conflict (github_id) do update set github_login = excluded.github_login returning id",
    )
    .fetch_one(pool)
    .await?)
}

/// `n` projects (`proj_bench_0…`), each with one ingest key.
pub async fn projects(pool: &PgPool, n: usize) -> anyhow::Result<Vec<BenchProject>> {
    let owner = user(pool).await?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let key = format!("cairn_ik_{}", shared::crypto::random_alphanumeric(32));
        let project_id = format!("proj_bench_{i}");
        let sentry_id: i64 = sqlx::query_scalar(
            "insert into projects (project_id, owner_id, repo_owner, repo_name, repo_full_name)
             values ($1, $2, 'bench', $3, 'bench/' || $3) returning sentry_id",
        )
        .bind(&project_id)
        .bind(owner)
        .bind(format!("app{i}"))
        .fetch_one(pool)
        .await?;
        let key_id = format!("key_bench_{i}");
        sqlx::query(
            "insert into ingest_keys (key_id, project_id, key_hash, prefix) values ($1, $2, $3, $4)",
        )
        .bind(&key_id)
        .bind(&project_id)
        .bind(shared::crypto::sha256(key.as_bytes()))
        .bind(&key[..13])
        .execute(pool)
        .await?;
        sqlx::query("insert into api_key_usage (key_id, project_id) values ($1, $2)")
            .bind(&key_id)
            .bind(&project_id)
            .execute(pool)
            .await?;
        out.push(BenchProject {
            key,
            sentry_id,
            commit: payloads::commit(i),
        });
    }
    Ok(out)
}

/// The ceiling's own projects and incidents (`proj_pgb_1..=projects`, fingerprints
/// `fp1..=fingerprints`), so pgbench inserts events that reference existing incidents exactly as
/// cairn's do.
pub async fn ceiling(pool: &PgPool, projects: usize, fingerprints: usize) -> anyhow::Result<()> {
    let owner = user(pool).await?;
    sqlx::query(
        "insert into projects (project_id, owner_id, repo_owner, repo_name, repo_full_name)
         select 'proj_pgb_' || g, $1, 'pgb', 'app' || g, 'pgb/app' || g from generate_series(1, $2) g",
    )
    .bind(owner)
    .bind(projects as i32)
    .execute(pool)
    .await?;
    sqlx::query(
        "insert into incidents (incident_id, project_id, fingerprint, error_type, error_message, occurred_at)
         select 'inc_pgb_' || p || '_' || f, 'proj_pgb_' || p, 'fp' || f, 'TypeError', 'x', now()
           from generate_series(1, $1) p, generate_series(1, $2) f",
    )
    .bind(projects as i32)
    .bind(fingerprints as i32)
    .execute(pool)
    .await?;
    // Each incident already seen at the commit, as cairn's are after the warm-up.
    sqlx::query(
        "insert into incident_commits (incident_id, commit_sha, project_id, occurrence_count)
         select incident_id, $1, project_id, 1 from incidents where project_id like 'proj\\_pgb\\_%'",
    )
    .bind(crate::payloads::commit(0))
    .execute(pool)
    .await?;
    Ok(())
}

/// The query scenario's world: project `proj_bench_query` (repo `bench/query`) with
/// `incidents` incidents, each seen at `commits` commits (the first is the one queried), and a
/// signed-in reader of the repo. Returns `(session token, queried commit)`.
pub async fn query_world(
    pool: &PgPool,
    incidents: usize,
    commits: usize,
) -> anyhow::Result<(String, String)> {
    let owner = user(pool).await?;
    sqlx::query(
        "insert into projects (project_id, owner_id, repo_owner, repo_name, repo_full_name, github_repo_id)
         values ('proj_bench_query', $1, 'bench', 'query', 'bench/query', 424242)",
    )
    .bind(owner)
    .execute(pool)
    .await?;
    let frames = r#"[{"file_path":"src/handlers/orders.js","line_number":12,"column_number":15,"function":"handler","in_app":true},{"file_path":"src/server.js","line_number":88,"column_number":12,"function":"processRequest","in_app":true}]"#;
    sqlx::query(
        "with inc as (
             insert into incidents (incident_id, project_id, fingerprint, error_type, error_message,
                                    file_path, line_number, column_number, function, commit_sha, first_commit_sha,
                                    last_commit_sha, environment, status, occurred_at, first_seen_at, last_seen_at)
             select 'inc_q' || g, 'proj_bench_query', 'q' || g, 'TypeError', 'Cannot read properties of null (reading ''x' || g || ''')',
                    'src/handlers/orders' || g || '.js', 10 + g % 90, 15, 'handler' || g, $3, $3, $3, 'production',
                    case when g % 10 = 0 then 'resolved' else 'open' end,
                    now() - interval '30 days', now() - interval '30 days', now() - (g || ' seconds')::interval
               from generate_series(1, $1) g
             returning incident_id)
         insert into incident_details (incident_id, frames) select incident_id, $2::jsonb from inc",
    )
    .bind(incidents as i32)
    .bind(frames)
    .bind(payloads::commit(1000))
    .execute(pool)
    .await?;
    // Every incident at the queried commit, most also at older ones.
    sqlx::query(
        "with com as (
             insert into incident_commits (incident_id, commit_sha, project_id, file_path, line_number, column_number,
                                           function, first_seen_at, last_seen_at)
             select 'inc_q' || g, left(encode(sha256(('bench-commit-' || (1000 + c))::bytea), 'hex'), 40), 'proj_bench_query',
                    'src/handlers/orders' || g || '.js', 10 + (g + c) % 90, 15, 'handler' || g,
                    now() - interval '30 days', now() - ((g + c * 7) || ' seconds')::interval
               from generate_series(1, $1) g, generate_series(0, $3 - 1) c
              where c = 0 or (g + c) % 3 <> 0
             returning incident_id, commit_sha)
         insert into incident_commit_frames (incident_id, commit_sha, frames)
         select incident_id, commit_sha, $2::jsonb from com",
    )
    .bind(incidents as i32)
    .bind(frames)
    .bind(commits as i32)
    .execute(pool)
    .await?;
    sqlx::query(
        "insert into incident_environments (incident_id, environment)
         select 'inc_q' || g, 'production' from generate_series(1, $1) g",
    )
    .bind(incidents as i32)
    .execute(pool)
    .await?;
    let token = format!("cairn_s_{}", shared::crypto::random_alphanumeric(40));
    let key = shared::config::SecretKey::parse(crate::env::SECRET_KEY_HEX)?;
    sqlx::query(
        "insert into sessions (token_hash, user_id, github_token_enc, expires_at)
         values ($1, $2, $3, now() + interval '1 day')",
    )
    .bind(shared::crypto::sha256(token.as_bytes()))
    .bind(owner)
    .bind(shared::crypto::seal(&key, b"gho_bench_reader"))
    .execute(pool)
    .await?;
    fresh_access(pool).await?;
    Ok((token, payloads::commit(1000)))
}

/// Marks the reader's sessions' access to `bench/query` (repository 424242) as just checked, so
/// no GitHub call happens.
pub async fn fresh_access(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "insert into repo_access (session_id, asked, github_repo_id, permission, checked_at)
         select s.id, 'bench/query', 424242, 'read', now()
           from sessions s join users u on u.id = s.user_id where u.github_id = 424242
         on conflict (session_id, asked) do update set checked_at = now()",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Adds events to the query project until it holds `total` (spread over its incidents and
/// commits, payloads of a realistic size), with the incidents' counts kept exact.
pub async fn query_events(
    pool: &PgPool,
    incidents: usize,
    commits: usize,
    total: u64,
) -> anyhow::Result<()> {
    let have: i64 = sqlx::query_scalar(
        "select count(*) from incident_events where project_id = 'proj_bench_query'",
    )
    .fetch_one(pool)
    .await?;
    let payload = payloads::ceiling_payload();
    let mut from = have + 1;
    let to = total as i64;
    while from <= to {
        let chunk_end = (from + 99_999).min(to);
        sqlx::query(
            "insert into incident_events (project_id, incident_id, event_id, occurred_at, received_at, commit_sha,
                                          environment, user_hash, payload)
             select 'proj_bench_query', 'inc_q' || (1 + g % $3), 'qe' || g, now() - (g % 86400 || ' seconds')::interval,
                    now() - (g % 86400 || ' seconds')::interval,
                    left(encode(sha256(('bench-commit-' || (1000 + g % $4))::bytea), 'hex'), 40), 'production',
                    sha256(('user' || g % 5000)::bytea), $5::jsonb
               from generate_series($1, $2) g",
        )
        .bind(from)
        .bind(chunk_end)
        .bind(incidents as i64)
        .bind(commits as i64)
        .bind(&payload)
        .execute(pool)
        .await?;
        from = chunk_end + 1;
    }
    sqlx::query(
        "update incidents i set occurrence_count = n.n
           from (select incident_id, count(*) as n from incident_events where project_id = 'proj_bench_query' group by incident_id) n
          where i.incident_id = n.incident_id",
    )
    .execute(pool)
    .await?;
    sqlx::query("vacuum analyze incident_events")
        .execute(pool)
        .await?;
    sqlx::query("analyze").execute(pool).await?;
    Ok(())
}

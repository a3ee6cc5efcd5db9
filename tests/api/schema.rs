//! `docs/schema.sql`: the schema as the migrations leave it, kept current like `docs/openapi.json`.

use crate::helpers::fresh_database;

#[tokio::test]
async fn the_committed_schema_is_what_the_migrations_leave() {
    let url = fresh_database().await;

    let dumped = cairn::schema::dump(&url).expect("pg_dump the migrated database");

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schema.sql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == dumped,
        "docs/schema.sql is stale: run `{}`",
        cairn::schema::REGENERATE
    );
}

#[tokio::test]
async fn every_table_has_a_comment() {
    use sqlx::Connection;
    let url = fresh_database().await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();

    let uncommented: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> '_sqlx_migrations'
            and obj_description(c.oid, 'pg_class') is null
          order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();

    assert!(
        uncommented.is_empty(),
        "tables without a `comment on table` (add one in a new migration): {uncommented:?}"
    );
}

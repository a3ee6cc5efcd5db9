//! The artifacts' SQL. A bundle is stored in one transaction (its row, its artifacts, and the
//! deletion of the chunks it was assembled from), so a failure leaves nothing half-stored.
//! Artifacts are deflated by cairn before they go in (maps compress four to six times), and
//! inflated on the way out no further than the file limit.

use std::io::{Read, Write};

use sqlx::{PgPool, Row};

use super::bundle::{ArtifactKind, Bundle};
use super::{DebugId, Limits};
use crate::crypto;

/// A stored bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBundle {
    pub bundle_id: String,
    /// The debug ids its artifacts brought (each once), for the incidents waiting for them.
    pub debug_ids: Vec<DebugId>,
}

/// zlib-deflates `data`, at the fast level: an assemble call deflates every file of the bundle
/// (up to `Limits::total_unzipped`) within one request, and at the default level deflating was
/// nearly all of an upload's CPU (docs/PERFORMANCE.md, the maps scenario). Maps still shrink
/// about tenfold.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Inflates what [`compress`] made, refusing more than `limit` bytes (`None`: corrupt or too large).
pub fn decompress(data: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() <= limit).then_some(out)
}

/// The bundle of `project_id` with this checksum, if it was assembled already.
pub async fn find_bundle(
    pool: &PgPool,
    project_id: &str,
    checksum: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select bundle_id from artifact_bundles where project_id = $1 and checksum = $2",
    )
    .bind(project_id)
    .bind(checksum)
    .fetch_optional(pool)
    .await
}

/// The chunks of `project_id` named in `checksums`, concatenated in that order; `Ok(None)` when
/// one is missing or the whole would pass `max_bytes`.
pub async fn concat_chunks(
    pool: &PgPool,
    project_id: &str,
    checksums: &[String],
    max_bytes: usize,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let rows = sqlx::query(
        "select checksum, data from upload_chunks where project_id = $1 and checksum = any($2)",
    )
    .bind(project_id)
    .bind(checksums)
    .fetch_all(pool)
    .await?;
    let by_sum: std::collections::HashMap<String, Vec<u8>> = rows
        .into_iter()
        .map(|r| (r.get("checksum"), r.get("data")))
        .collect();
    let mut out = Vec::new();
    for c in checksums {
        let Some(data) = by_sum.get(c) else {
            return Ok(None);
        };
        if out.len() + data.len() > max_bytes {
            return Ok(None);
        }
        out.extend_from_slice(data);
    }
    Ok(Some(out))
}

/// Stores a read bundle for `project_id` under `checksum`, replacing the artifacts of any earlier
/// bundle with the same debug ids, and deletes the chunks it came from. `release` and `dist` are
/// the assemble request's, else the manifest's.
pub async fn save_bundle(
    pool: &PgPool,
    project_id: &str,
    checksum: &str,
    chunks: &[String],
    bundle: &Bundle,
    release: Option<&str>,
    dist: Option<&str>,
) -> Result<StoredBundle, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let bundle_id: String = sqlx::query_scalar(
        "insert into artifact_bundles (bundle_id, project_id, checksum, bundle_debug_id, release, dist, artifact_count)
         values ($1, $2, $3, $4::uuid, $5, $6, $7)
         on conflict (project_id, checksum) do update set last_used_at = now()
         returning bundle_id",
    )
    .bind(crypto::public_id("bun"))
    .bind(project_id)
    .bind(checksum)
    .bind(bundle.debug_id.as_ref().map(DebugId::as_str))
    .bind(release.or(bundle.release.as_deref()))
    .bind(dist.or(bundle.dist.as_deref()))
    .bind(bundle.artifacts.len() as i32)
    .fetch_one(&mut *tx)
    .await?;
    // A bundle may name one debug id twice for one kind: the last entry wins, as one statement
    // cannot update a row twice.
    let mut latest: std::collections::BTreeMap<(&str, ArtifactKind), usize> = Default::default();
    for (i, a) in bundle.artifacts.iter().enumerate() {
        latest.insert((a.debug_id.as_str(), a.kind), i);
    }
    let picked: Vec<_> = latest.values().map(|i| &bundle.artifacts[*i]).collect();
    let ids: Vec<&str> = picked.iter().map(|a| a.debug_id.as_str()).collect();
    let kinds: Vec<&str> = picked.iter().map(|a| a.kind.as_str()).collect();
    let urls: Vec<Option<&str>> = picked.iter().map(|a| a.url.as_deref()).collect();
    let sizes: Vec<i32> = picked.iter().map(|a| a.data.len() as i32).collect();
    let contents: Vec<Vec<u8>> = picked.iter().map(|a| compress(&a.data)).collect();
    sqlx::query(
        "insert into artifacts (project_id, debug_id, kind, bundle_id, url, size, content)
         select $1, a.debug_id::uuid, a.kind, $2, a.url, a.size, a.content
           from unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::bytea[])
                as a(debug_id, kind, url, size, content)
         on conflict (project_id, debug_id, kind) do update
            set bundle_id = excluded.bundle_id, url = excluded.url,
                size = excluded.size, content = excluded.content",
    )
    .bind(project_id)
    .bind(&bundle_id)
    .bind(&ids)
    .bind(&kinds)
    .bind(&urls)
    .bind(&sizes)
    .bind(&contents)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from upload_chunks where project_id = $1 and checksum = any($2)")
        .bind(project_id)
        .bind(chunks)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut debug_ids: Vec<DebugId> = picked.iter().map(|a| a.debug_id.clone()).collect();
    debug_ids.sort();
    debug_ids.dedup();
    Ok(StoredBundle {
        bundle_id,
        debug_ids,
    })
}

/// The source map of `debug_id` in `project_id`, inflated, and its bundle marked used (at most
/// once a day, so resolution does not write on every cache miss).
pub async fn load_map(
    pool: &PgPool,
    project_id: &str,
    debug_id: &DebugId,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let row = sqlx::query(
        "with a as (
             select bundle_id, content from artifacts
              where project_id = $1 and debug_id = $2::uuid and kind = 'source_map'),
         used as (
             update artifact_bundles b set last_used_at = now() from a
              where b.bundle_id = a.bundle_id and b.last_used_at < now() - interval '1 day')
         select content from a",
    )
    .bind(project_id)
    .bind(debug_id.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| decompress(&r.get::<Vec<u8>, _>("content"), limits.file)))
}

/// Deletes bundles (and their artifacts) unused for `days` days, and chunks never assembled
/// within a day. Returns the bundles and chunks deleted.
pub async fn purge(pool: &PgPool, days: u32) -> Result<(u64, u64), sqlx::Error> {
    let days = days.clamp(1, 36_500) as i32;
    let bundles = sqlx::query(
        "delete from artifact_bundles where last_used_at < now() - make_interval(days => $1)",
    )
    .bind(days)
    .execute(pool)
    .await?
    .rows_affected();
    let chunks =
        sqlx::query("delete from upload_chunks where created_at < now() - interval '1 day'")
            .execute(pool)
            .await?
            .rows_affected();
    sqlx::query("delete from sourcemap_waits where created_at < now() - make_interval(days => $1)")
        .bind(days)
        .execute(pool)
        .await?;
    Ok((bundles, chunks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_round_trip_through_compression_under_a_limit() {
        let map = br#"{"version":3,"sources":["a.ts"],"mappings":"AAAA"}"#.repeat(100);
        let packed = compress(&map);
        assert!(packed.len() < map.len() / 10);
        assert_eq!(decompress(&packed, map.len()).unwrap(), map);
        assert!(decompress(&packed, map.len() - 1).is_none());
        assert!(decompress(b"not zlib", 100).is_none());
    }
}

//! Releases as the upload tools announce them (`releases new`, `finalize`, `deploys new`,
//! `set-commits`): answered so a build never fails on them, and recorded per project, with the
//! commit when the version names one in full (`<sha>`, `app@<sha>`, `1.2.3+<sha>`: on Vercel the
//! bundler plugins name the release by `VERCEL_GIT_COMMIT_SHA`).

use sqlx::PgPool;

/// Longest version kept (Sentry's own limit).
pub const MAX_VERSION: usize = 200;

/// The full commit SHA a version names, lowercase: the whole version, the part after the last
/// `@`, or its build metadata after `+`.
pub fn commit_of(version: &str) -> Option<String> {
    let version = version.trim();
    let after_at = version.rsplit_once('@').map_or(version, |(_, v)| v);
    let build = after_at.rsplit_once('+').map(|(_, b)| b);
    [Some(version), Some(after_at), build]
        .into_iter()
        .flatten()
        .find(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

/// Records `version` for `project_id` (again: no change), finalized now when `finalized`.
pub async fn record(
    pool: &PgPool,
    project_id: &str,
    version: &str,
    finalized: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into releases (project_id, version, commit_sha, finalized_at)
         values ($1, $2, $3, case when $4 then now() end)
         on conflict (project_id, version) do update
            set finalized_at = coalesce(releases.finalized_at, excluded.finalized_at)",
    )
    .bind(project_id)
    .bind(version)
    .bind(commit_of(version))
    .bind(finalized)
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether `version` of `project_id` is finalized (`None`: no such release).
pub async fn finalized(
    pool: &PgPool,
    project_id: &str,
    version: &str,
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar(
        "select finalized_at is not null from releases where project_id = $1 and version = $2",
    )
    .bind(project_id)
    .bind(version)
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_name_a_commit_only_in_full() {
        let sha = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678";
        let want = Some(sha.to_ascii_lowercase());
        for v in [
            sha.to_owned(),
            format!("web@{sha}"),
            format!("1.2.3+{sha}"),
            format!("web@1.2.3+{sha}"),
        ] {
            assert_eq!(commit_of(&v), want, "{v}");
        }
        for v in ["1.2.3", "a1b2c3d", "web@a1b2c3d4", ""] {
            assert_eq!(commit_of(v), None, "{v}");
        }
    }
}

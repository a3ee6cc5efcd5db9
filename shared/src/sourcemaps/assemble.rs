//! `POST /api/0/organizations/{org}/artifactbundle/assemble/`: sentry-cli names a bundle by its
//! SHA-1 and the SHA-1s of its chunks. 3.x (and 2.x told `artifact_bundles_v2`) asks first and
//! uploads only what is reported missing, so the missing chunks are always reported before
//! anything else: answering `missingChunks: []` early would make it skip the upload.
//!
//! Assembly is synchronous: the chunks are joined, checked against the bundle's SHA-1, unzipped
//! under the [`Limits`], every source map parsed, and the whole stored in one transaction; then
//! the incidents that waited for the bundle's debug ids are located (`late`). Any
//! fault in the upload is `state: error` with a `detail` (never a 5xx, never half a bundle); a
//! bundle assembled before answers `ok` at once.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::bundle::{self, ArtifactKind};
use super::chunks::{self, is_sha1_hex};
use super::resolve::ParsedMap;
use super::store::{self, StoredBundle};
use super::tokens::TokenProject;
use super::Limits;

/// What sentry-cli posts (its `ChunkedArtifactRequest`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AssembleRequest {
    /// SHA-1 hex of the whole bundle.
    pub checksum: String,
    /// SHA-1 hex of each chunk, in order.
    pub chunks: Vec<String>,
    /// Project slugs (the repository name) or project ids; each must be the token's project.
    #[serde(default)]
    pub projects: Vec<String>,
    /// The release, if the upload named one.
    pub version: Option<String>,
    pub dist: Option<String>,
}

/// The states sentry-cli knows (its `ChunkedFileState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssembleState {
    Ok,
    NotFound,
    Created,
    Assembling,
    Error,
}

/// What sentry-cli reads back (its `AssembleArtifactsResponse`; `missingChunks` is required).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssembleResponse {
    pub state: AssembleState,
    pub missing_chunks: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AssembleResponse {
    fn state(state: AssembleState) -> Self {
        Self {
            state,
            missing_chunks: Vec::new(),
            detail: None,
        }
    }

    fn error(detail: impl Into<String>) -> Self {
        Self {
            detail: Some(detail.into()),
            ..Self::state(AssembleState::Error)
        }
    }
}

/// An assemble call that is refused outright (not a bundle fault, which is `state: error`).
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("checksum and chunks must be SHA-1 hex digests")]
    InvalidChecksum,
    #[error("dist needs a version")]
    DistWithoutVersion,
    #[error("this upload token cannot upload for project {0:?}")]
    WrongProject(String),
    #[error("the database is unavailable")]
    Database(#[from] sqlx::Error),
}

impl AssembleError {
    /// `400` for a malformed request, `403` for another project, `503` (retry) for the database.
    pub fn status(&self) -> u16 {
        match self {
            AssembleError::InvalidChecksum | AssembleError::DistWithoutVersion => 400,
            AssembleError::WrongProject(_) => 403,
            AssembleError::Database(_) => 503,
        }
    }
}

/// The outcome: the answer for sentry-cli, and the bundle stored (when this call stored one).
#[derive(Debug)]
pub struct Assembled {
    pub response: AssembleResponse,
    pub stored: Option<StoredBundle>,
}

/// Checks the request against the token's project, then assembles (see the module docs).
pub async fn assemble(
    pool: &PgPool,
    project: &TokenProject,
    req: AssembleRequest,
    limits: &Limits,
) -> Result<Assembled, AssembleError> {
    let checksum = req.checksum.trim().to_ascii_lowercase();
    let chunk_sums: Vec<String> = req
        .chunks
        .iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    if !is_sha1_hex(&checksum) || !chunk_sums.iter().all(|c| is_sha1_hex(c)) {
        return Err(AssembleError::InvalidChecksum);
    }
    if req.dist.is_some() && req.version.is_none() {
        return Err(AssembleError::DistWithoutVersion);
    }
    if let Some(other) = req.projects.iter().find(|p| !names_project(project, p)) {
        return Err(AssembleError::WrongProject(other.clone()));
    }
    let done = |response| {
        Ok(Assembled {
            response,
            stored: None,
        })
    };
    if store::find_bundle(pool, &project.project_id, &checksum)
        .await?
        .is_some()
    {
        return done(AssembleResponse::state(AssembleState::Ok));
    }
    if chunk_sums.is_empty() {
        return done(AssembleResponse::error("the bundle has no chunks"));
    }
    let missing = chunks::missing(pool, &project.project_id, &chunk_sums).await?;
    if !missing.is_empty() {
        return done(AssembleResponse {
            missing_chunks: missing,
            ..AssembleResponse::state(AssembleState::NotFound)
        });
    }
    let Some(bytes) =
        store::concat_chunks(pool, &project.project_id, &chunk_sums, limits.bundle).await?
    else {
        return done(AssembleResponse::error(format!(
            "the bundle is larger than {} bytes",
            limits.bundle
        )));
    };
    if chunks::sha1_hex(&bytes) != checksum {
        return done(AssembleResponse::error(
            "the chunks do not make up the bundle's checksum",
        ));
    }
    // Unzipping and parsing maps is CPU work: off the async threads.
    let limits_copy = *limits;
    let read = tokio::task::spawn_blocking(move || read_checked(&bytes, &limits_copy))
        .await
        .unwrap_or_else(|_| Err("the bundle could not be read".to_owned()));
    let bundle = match read {
        Ok(bundle) => bundle,
        Err(detail) => return done(AssembleResponse::error(detail)),
    };
    let stored = store::save_bundle(
        pool,
        &project.project_id,
        &checksum,
        &chunk_sums,
        &bundle,
        req.version.as_deref().filter(|v| !v.trim().is_empty()),
        req.dist.as_deref().filter(|v| !v.trim().is_empty()),
    )
    .await?;
    // Incidents whose events came before these maps are located now (module `late`).
    super::late::after_upload(
        pool,
        &project.project_id,
        &project.repo_name,
        &stored.debug_ids,
    )
    .await;
    Ok(Assembled {
        response: AssembleResponse::state(AssembleState::Ok),
        stored: Some(stored),
    })
}

/// Reads the bundle and parses each of its maps: one that does not parse refuses the bundle.
fn read_checked(bytes: &[u8], limits: &Limits) -> Result<bundle::Bundle, String> {
    let bundle = bundle::read(bytes, limits).map_err(|e| e.to_string())?;
    for a in &bundle.artifacts {
        if a.kind == ArtifactKind::SourceMap {
            ParsedMap::parse(&a.data)
                .map_err(|e| format!("{:?} is not a valid source map: {e}", a.path))?;
        }
    }
    Ok(bundle)
}

/// Whether a project named in an upload is the token's: its id, its repository name (Sentry's
/// project slug) or `owner/name`, case-insensitively.
pub fn names_project(project: &TokenProject, name: &str) -> bool {
    let name = name.trim();
    name == project.project_id
        || name.eq_ignore_ascii_case(&project.repo_name)
        || name.eq_ignore_ascii_case(&format!("{}/{}", project.repo_owner, project.repo_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> TokenProject {
        TokenProject {
            token_id: "utok_1".into(),
            project_id: "proj_abc".into(),
            repo_owner: "Acme".into(),
            repo_name: "checkout-web".into(),
        }
    }

    #[test]
    fn uploads_may_name_the_project_by_slug_id_or_full_name() {
        for ok in [
            "checkout-web",
            "Checkout-Web",
            "proj_abc",
            "acme/checkout-web",
        ] {
            assert!(names_project(&project(), ok), "{ok}");
        }
        for bad in ["other", "proj_ABC", "acme/other", ""] {
            assert!(!names_project(&project(), bad), "{bad}");
        }
    }

    #[test]
    fn answers_have_the_shape_sentry_cli_reads() {
        let v = serde_json::to_value(AssembleResponse {
            missing_chunks: vec!["ab".into()],
            ..AssembleResponse::state(AssembleState::NotFound)
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"state": "not_found", "missingChunks": ["ab"]})
        );
        let v = serde_json::to_value(AssembleResponse::error("bad zip")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"state": "error", "missingChunks": [], "detail": "bad zip"})
        );
    }

    #[test]
    fn a_bundle_with_a_broken_map_is_refused_whole() {
        let id = "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a";
        let manifest = serde_json::json!({"files": {
            "a.js.map": {"type": "source_map", "headers": {"debug-id": id}},
        }});
        let zip = super::bundle::tests::zip_of(&[
            ("manifest.json", &serde_json::to_vec(&manifest).unwrap()),
            (
                "a.js.map",
                br#"{"version":3,"sources":[],"names":[],"mappings":"AAAA"}"#,
            ),
        ]);
        let err = read_checked(&zip, &Limits::DEFAULT).unwrap_err();
        assert!(
            err.starts_with("\"a.js.map\" is not a valid source map"),
            "{err}"
        );
    }
}

//! What can go wrong on the upload routes (`/api/0/…`, the uploads function). The status and
//! code of each variant are in `crate::error` (its uploads section). A fault inside an uploaded
//! bundle is not an error here: assemble answers it as `state: error` with a `detail`.

use super::assemble::AssembleError;
use super::chunks::ChunkError;

/// Why an upload request is refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadsError {
    /// No `Authorization: Bearer …`.
    #[error("an upload token is required")]
    MissingToken,
    /// Not an upload token, unknown, revoked, or its project deleted (never which).
    #[error("the upload token is not valid")]
    InvalidToken,
    /// The chunk-upload request is larger than one chunk and its form.
    #[error("the request is larger than one chunk")]
    RequestTooLarge,
    /// A chunk-upload form cairn cannot take.
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    /// An assemble request refused outright.
    #[error(transparent)]
    Assemble(AssembleError),
    /// A release version that is empty, too long or holds a `/`.
    #[error("release version must be 1-200 characters without '/'")]
    InvalidRelease,
    /// The token's project has no release of this version.
    #[error("release not found")]
    ReleaseNotFound,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<AssembleError> for UploadsError {
    fn from(e: AssembleError) -> Self {
        match e {
            AssembleError::Database(db) => Self::Database(db),
            other => Self::Assemble(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn each_variant_keeps_its_published_status_and_code() {
        let cases: Vec<(UploadsError, u16, &str)> = vec![
            (UploadsError::MissingToken, 401, "missing_upload_token"),
            (UploadsError::InvalidToken, 401, "invalid_upload_token"),
            (UploadsError::RequestTooLarge, 413, "payload_too_large"),
            (ChunkError::NotMultipart.into(), 400, "invalid_chunk_upload"),
            (ChunkError::Malformed.into(), 400, "invalid_chunk_upload"),
            (ChunkError::Empty.into(), 400, "invalid_chunk_upload"),
            (
                ChunkError::BadName("x".into()).into(),
                400,
                "invalid_chunk_name",
            ),
            (
                ChunkError::BadGzip("x".into()).into(),
                400,
                "invalid_chunk_gzip",
            ),
            (
                ChunkError::ChecksumMismatch("x".into()).into(),
                400,
                "chunk_checksum_mismatch",
            ),
            (
                ChunkError::TooLarge("x".into()).into(),
                413,
                "chunk_too_large",
            ),
            (
                AssembleError::InvalidChecksum.into(),
                400,
                "invalid_checksum",
            ),
            (
                AssembleError::DistWithoutVersion.into(),
                400,
                "dist_without_version",
            ),
            (
                AssembleError::WrongProject("x".into()).into(),
                403,
                "wrong_project",
            ),
            (UploadsError::InvalidRelease, 400, "invalid_release"),
            (UploadsError::ReleaseNotFound, 404, "not_found"),
            (
                sqlx::Error::PoolTimedOut.into(),
                503,
                "database_unavailable",
            ),
            (
                AssembleError::Database(sqlx::Error::PoolTimedOut).into(),
                503,
                "database_unavailable",
            ),
            (sqlx::Error::RowNotFound.into(), 500, "internal_error"),
        ];
        for (e, status, code) in cases {
            let what = format!("{e:?}");
            let api = ApiError::from(e);
            assert_eq!((api.status(), api.code()), (status, code), "{what}");
        }
    }
}

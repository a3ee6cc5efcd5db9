//! Artifact bundles: the zip sentry-cli builds (symbolic's `SourceBundleWriter`), a
//! `manifest.json` beside the files it describes:
//!
//! ```json
//! {"org": "acme", "release": "…", "dist": "…", "debug_id": "…",
//!  "files": {"_/_/app.js.map": {"type": "source_map", "url": "~/app.js.map",
//!                               "headers": {"debug-id": "c941c6bd-…"}}}}
//! ```
//!
//! Only what resolution uses is taken: `source_map` and `minified_source` entries that carry a
//! debug id. Every entry name is checked first (no `..`, no absolute path); every file read is
//! cut off at the [`Limits`], counted on the bytes inflated, so a zip that lies about its sizes
//! stops at the limit rather than at the end of memory.

use std::io::{Cursor, Read};

use serde::Deserialize;

use super::{DebugId, Limits};

/// What an artifact is to resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArtifactKind {
    SourceMap,
    MinifiedSource,
}

impl ArtifactKind {
    /// The manifest's (and the database's) name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::SourceMap => "source_map",
            ArtifactKind::MinifiedSource => "minified_source",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "source_map" => Some(ArtifactKind::SourceMap),
            "minified_source" => Some(ArtifactKind::MinifiedSource),
            _ => None,
        }
    }
}

/// One file of a bundle that resolution may use.
#[derive(Debug)]
pub struct Artifact {
    pub debug_id: DebugId,
    pub kind: ArtifactKind,
    /// The file's name in the zip.
    pub path: String,
    /// The URL the uploader gave it (`~/app.js.map`), if any.
    pub url: Option<String>,
    pub data: Vec<u8>,
}

/// A bundle, read.
#[derive(Debug)]
pub struct Bundle {
    /// The bundle's own debug id, if the manifest names one.
    pub debug_id: Option<DebugId>,
    pub release: Option<String>,
    pub dist: Option<String>,
    pub artifacts: Vec<Artifact>,
}

/// Why a bundle was refused: the `detail` of assemble's `state: error`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("the bundle is not a readable zip archive: {0}")]
    NotZip(String),
    #[error("the bundle holds more than {0} files")]
    TooManyEntries(usize),
    #[error("the bundle holds a file with an unsafe name: {0:?}")]
    UnsafeName(String),
    #[error("the bundle has no manifest.json")]
    NoManifest,
    #[error("the bundle's manifest.json is invalid: {0}")]
    BadManifest(String),
    #[error("the manifest names {0:?}, which the bundle lacks")]
    MissingFile(String),
    #[error("{0:?} is larger than {1} bytes unzipped")]
    FileTooLarge(String, usize),
    #[error("the bundle's files are larger than {0} bytes unzipped together")]
    TooLargeUnzipped(usize),
    #[error("{0:?} could not be unzipped: {1}")]
    Corrupt(String, String),
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    files: std::collections::BTreeMap<String, ManifestFile>,
    release: Option<String>,
    dist: Option<String>,
    debug_id: Option<String>,
}

#[derive(Deserialize)]
struct ManifestFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
}

/// Reads a bundle's manifest and the artifacts resolution uses, under `limits`.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Bundle, BundleError> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| BundleError::NotZip(e.to_string()))?;
    if zip.len() > limits.entries {
        return Err(BundleError::TooManyEntries(limits.entries));
    }
    if let Some(bad) = zip.file_names().find(|n| !is_safe_name(n)) {
        return Err(BundleError::UnsafeName(bad.to_owned()));
    }
    let mut total = 0usize;
    let manifest =
        read_file(&mut zip, "manifest.json", limits, &mut total)?.ok_or(BundleError::NoManifest)?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest).map_err(|e| BundleError::BadManifest(e.to_string()))?;
    let mut artifacts = Vec::new();
    for (path, file) in &manifest.files {
        if zip.index_for_name(path).is_none() {
            return Err(BundleError::MissingFile(path.clone()));
        }
        let Some(kind) = file.kind.as_deref().and_then(ArtifactKind::parse) else {
            continue;
        };
        let debug_id = file
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("debug-id"))
            .and_then(|(_, v)| DebugId::parse(v));
        let Some(debug_id) = debug_id else {
            continue;
        };
        let data = read_file(&mut zip, path, limits, &mut total)?
            .ok_or_else(|| BundleError::MissingFile(path.clone()))?;
        artifacts.push(Artifact {
            debug_id,
            kind,
            path: path.clone(),
            url: file.url.clone(),
            data,
        });
    }
    Ok(Bundle {
        debug_id: manifest.debug_id.as_deref().and_then(DebugId::parse),
        release: manifest.release.filter(|s| !s.trim().is_empty()),
        dist: manifest.dist.filter(|s| !s.trim().is_empty()),
        artifacts,
    })
}

/// One file, inflated no further than the per-file limit and the bundle's remaining budget.
fn read_file(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limits: &Limits,
    total: &mut usize,
) -> Result<Option<Vec<u8>>, BundleError> {
    let mut entry = match zip.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(BundleError::Corrupt(name.to_owned(), e.to_string())),
    };
    let cap = limits.file.min(limits.total_unzipped - *total);
    let mut data = Vec::new();
    (&mut entry)
        .take(cap as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| BundleError::Corrupt(name.to_owned(), e.to_string()))?;
    if data.len() > limits.file {
        return Err(BundleError::FileTooLarge(name.to_owned(), limits.file));
    }
    if data.len() > cap {
        return Err(BundleError::TooLargeUnzipped(limits.total_unzipped));
    }
    *total += data.len();
    Ok(Some(data))
}

/// A relative name of plain segments: no `..`, no root, no drive (`C:`), no backslash, no NUL.
fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains(['\\', '\0'])
        && !name
            .split('/')
            .next()
            .is_some_and(|first| first.contains(':'))
        && !name.split('/').any(|seg| seg == "..")
}

#[cfg(test)]
#[path = "bundle_tests.rs"]
pub(crate) mod tests;

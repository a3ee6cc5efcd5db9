//! The sessions `cairn login` keeps, one per server URL, in
//! `$XDG_CONFIG_HOME/cairn/credentials` (else `~/.config/cairn/credentials`): a JSON object
//! written to a new file created 0600 in a 0700 folder and renamed over the old one, so the
//! session is never readable by others, not even for a moment.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Why the credentials file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot find your config folder: set XDG_CONFIG_HOME or HOME")]
    NoConfigFolder,
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("cannot write {path}: {error}")]
    Write {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("{path} is not a cairn credentials file (delete it and run cairn login)")]
    Corrupt { path: PathBuf },
}

/// One stored session. The token is exposed only to be written or sent.
#[derive(Serialize, Deserialize)]
pub struct Stored {
    #[serde(with = "secret")]
    pub session_token: SecretString,
    pub github_login: String,
    pub expires_at: String,
}

#[derive(Serialize, Deserialize, Default)]
struct File {
    /// Server URL (no trailing slash) → its session.
    sessions: BTreeMap<String, Stored>,
}

/// The credentials file of this user.
pub fn path() -> Result<PathBuf, CredentialsError> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".config"))
        })
        .ok_or(CredentialsError::NoConfigFolder)?;
    Ok(config.join("cairn").join("credentials"))
}

/// The session stored for `url`.
pub fn load(url: &str) -> Result<Option<Stored>, CredentialsError> {
    Ok(read(&path()?)?.sessions.remove(url))
}

/// Stores `session` for `url`, keeping the other servers' sessions.
pub fn save(url: &str, session: Stored) -> Result<(), CredentialsError> {
    let path = path()?;
    let mut file = read(&path)?;
    file.sessions.insert(url.to_owned(), session);
    write(&path, &file)
}

/// Forgets the session of `url`; true when there was one.
pub fn forget(url: &str) -> Result<bool, CredentialsError> {
    let path = path()?;
    let mut file = read(&path)?;
    let had = file.sessions.remove(url).is_some();
    if had {
        write(&path, &file)?;
    }
    Ok(had)
}

fn read(path: &Path) -> Result<File, CredentialsError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|_| CredentialsError::Corrupt {
            path: path.to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
        Err(error) => Err(CredentialsError::Read {
            path: path.to_owned(),
            error,
        }),
    }
}

fn write(path: &Path, file: &File) -> Result<(), CredentialsError> {
    let failed = |error| CredentialsError::Write {
        path: path.to_owned(),
        error,
    };
    let dir = path.parent().expect("the credentials path has a folder");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(failed)?;
    let tmp = dir.join(format!(".credentials.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let json = serde_json::to_vec_pretty(file).map_err(std::io::Error::other)?;
        f.write_all(&json)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(failed)
}

/// Serde for a `SecretString` field: the file is the one place the token is written out.
mod secret {
    use secrecy::{ExposeSecret, SecretString};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &SecretString, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose_secret())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<SecretString, D::Error> {
        String::deserialize(de).map(SecretString::from)
    }
}

//! Parse, don't validate: raw strings from clients become these types at the edge.

use secrecy::{ExposeSecret, SecretString};

use crate::crypto;

/// Why a raw value is not a valid domain value (mapped to `422`/`400` by the caller).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("repo must look like owner/name")]
    InvalidRepo,
    #[error("commit sha must be 40 hexadecimal characters")]
    InvalidCommitSha,
}

/// A GitHub repository `owner/name`, case preserved; compare with [`RepoFullName::key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFullName {
    pub owner: String,
    pub name: String,
}

fn valid_repo_part(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl RepoFullName {
    /// Parses `owner/name` (GitHub's character rules; a trailing `.git` is dropped).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        let (owner, name) = s.split_once('/').ok_or(DomainError::InvalidRepo)?;
        let name = name.strip_suffix(".git").unwrap_or(name);
        if !valid_repo_part(owner, 39) || !valid_repo_part(name, 100) {
            return Err(DomainError::InvalidRepo);
        }
        Ok(Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// `owner/name` lowercased: GitHub names are case-insensitive.
    pub fn key(&self) -> String {
        format!("{}/{}", self.owner, self.name).to_ascii_lowercase()
    }
}

impl std::fmt::Display for RepoFullName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A full 40-hex commit SHA, lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSha(String);

impl CommitSha {
    /// Parses a full SHA (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(DomainError::InvalidCommitSha)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `true` when `s` is a 7–40 character hex string (an abbreviated or full SHA).
pub fn looks_like_sha(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

macro_rules! secret_token {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $len:literal) => {
        $(#[$doc])*
        pub struct $name(SecretString);

        impl $name {
            /// The fixed prefix every token of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new random token.
            pub fn generate() -> Self {
                Self(SecretString::from(format!("{}{}", $prefix, crypto::random_alphanumeric($len))))
            }

            /// Accepts a token of the right prefix, length and alphabet; anything else is `None`.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.trim().strip_prefix($prefix)?;
                (rest.len() == $len && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .then(|| Self(SecretString::from(s.trim().to_owned())))
            }

            /// SHA-256 of the token: the only form stored and looked up.
            pub fn hash(&self) -> Vec<u8> {
                crypto::sha256(self.0.expose_secret().as_bytes())
            }

            /// The plaintext, to be shown to its owner once.
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}([redacted])", stringify!($name))
            }
        }
    };
}

secret_token!(
    /// A project's ingest key: `cairn_ik_` + 32 alphanumerics.
    IngestKey, "cairn_ik_", 32
);
secret_token!(
    /// A signed-in session: `cairn_s_` + 40 alphanumerics.
    SessionToken, "cairn_s_", 40
);

impl IngestKey {
    /// The visible prefix shown in key lists (`cairn_ik_` + 4 characters).
    pub fn visible_prefix(&self) -> String {
        self.expose()
            .chars()
            .take(IngestKey::PREFIX.len() + 4)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_keys_keep_their_prefix_and_length() {
        let key = IngestKey::generate();
        assert!(key.expose().starts_with("cairn_ik_"));
        assert_eq!(key.expose().len(), 9 + 32);
        assert!(IngestKey::parse(key.expose()).is_some());
        assert_eq!(key.hash().len(), 32);
        assert_eq!(format!("{key:?}"), "IngestKey([redacted])");
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "cairn_ik_",
            "cairn_s_abc",
            "cairn_ik_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            "Bearer x",
        ] {
            assert!(IngestKey::parse(bad).is_none(), "{bad}");
            assert!(SessionToken::parse(bad).is_none(), "{bad}");
        }
        // Another kind's token is refused too.
        assert!(IngestKey::parse(SessionToken::generate().expose()).is_none());
    }

    #[test]
    fn repo_names_parse_like_github() {
        let r = RepoFullName::parse("Acme/checkout-api.git").unwrap();
        assert_eq!(r.to_string(), "Acme/checkout-api");
        assert_eq!(r.key(), "acme/checkout-api");
        for bad in ["", "acme", "/x", "acme/", "a/b/c", "acme/..", "acme/na me"] {
            assert_eq!(
                RepoFullName::parse(bad),
                Err(DomainError::InvalidRepo),
                "{bad}"
            );
        }
    }

    #[test]
    fn commit_shas_must_be_full_hex() {
        assert!(CommitSha::parse(&"A".repeat(40)).is_ok());
        assert!(CommitSha::parse("abc1234").is_err());
        assert!(looks_like_sha("abc1234") && !looks_like_sha("release-1"));
    }
}

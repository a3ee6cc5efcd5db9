//! Hashing, random tokens, AEAD for secrets kept at rest, constant-time comparison.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::XChaCha20Poly1305;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::SecretKey;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// `n` random alphanumeric characters from the OS RNG.
pub fn random_alphanumeric(n: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..n)
        .map(|_| ALPHANUMERIC[rng.gen_range(0..ALPHANUMERIC.len())] as char)
        .collect()
}

/// A public id such as `inc_…` (lowercase alphanumerics, 20 random characters).
pub fn public_id(prefix: &str) -> String {
    let mut rng = rand::rngs::OsRng;
    let body: String = (0..20)
        .map(|_| {
            let c = ALPHANUMERIC[26 + rng.gen_range(0..36)];
            c as char
        })
        .collect();
    format!("{prefix}_{body}")
}

/// Constant-time equality of two byte strings.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Errors from opening a sealed secret (wrong key or tampered ciphertext).
#[derive(Debug, thiserror::Error)]
#[error("stored secret could not be decrypted")]
pub struct OpenError;

/// Encrypts `plaintext` with XChaCha20-Poly1305; output is nonce || ciphertext.
pub fn seal(key: &SecretKey, plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut out = nonce.to_vec();
    // Encryption with a valid key and in-memory buffer cannot fail.
    out.extend(cipher.encrypt(&nonce, plaintext).unwrap_or_default());
    out
}

/// Decrypts what [`seal`] produced.
pub fn open(key: &SecretKey, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < 24 + 16 {
        return Err(OpenError);
    }
    let (nonce, ct) = sealed.split_at(24);
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    cipher.decrypt(nonce.into(), ct).map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_round_trip_and_detect_tampering() {
        let key = SecretKey([1; 32]);
        let mut sealed = seal(&key, b"gho_secret");
        assert_eq!(open(&key, &sealed).unwrap(), b"gho_secret");
        assert!(open(&SecretKey([2; 32]), &sealed).is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(open(&key, &sealed).is_err());
        assert!(open(&key, b"short").is_err());
    }

    #[test]
    fn public_ids_have_prefix_and_are_unique() {
        let a = public_id("inc");
        assert!(a.starts_with("inc_") && a.len() == 24);
        assert_ne!(a, public_id("inc"));
    }
}

//! `x-vercel-signature`: the lowercase hex HMAC-SHA1 of the raw request body, keyed with the
//! hook's secret. Checked over the bytes as received, in constant time, before any parsing.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

use super::VercelError;

/// The header Vercel signs deliveries with.
pub const SIGNATURE_HEADER: &str = "x-vercel-signature";

fn mac(secret: &SecretString) -> Hmac<Sha1> {
    // HMAC takes keys of any length; this cannot fail.
    Hmac::<Sha1>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("hmac accepts any key length")
}

/// Checks `header` (the signature as sent, if any) against `body`. The comparison of the MAC is
/// constant-time (`Mac::verify_slice`); a header that is not 40 hex characters is refused
/// without comparing.
pub fn verify(secret: &SecretString, body: &[u8], header: Option<&str>) -> Result<(), VercelError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(VercelError::MissingSignature)?;
    let sent = hex::decode(header).map_err(|_| VercelError::BadSignature)?;
    let mut m = mac(secret);
    m.update(body);
    m.verify_slice(&sent).map_err(|_| VercelError::BadSignature)
}

/// The signature Vercel would send for `body` (lowercase hex); for tests and tools.
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SecretString {
        SecretString::from("whsec_test_0123456789")
    }

    #[test]
    fn a_signature_of_the_exact_body_is_accepted() {
        let body = br#"{"id":"evt_1","type":"deployment.created"}"#;
        let sig = sign(&secret(), body);
        assert_eq!(sig.len(), 40);
        assert!(
            sig.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "lowercase hex"
        );
        assert_eq!(verify(&secret(), body, Some(&sig)), Ok(()));
    }

    #[test]
    fn a_known_vector_matches() {
        // RFC 2202 test case 2: HMAC-SHA1 with key "Jefe".
        let sig = sign(&SecretString::from("Jefe"), b"what do ya want for nothing?");
        assert_eq!(sig, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn missing_wrong_and_malformed_signatures_are_refused() {
        let body = b"{}";
        let good = sign(&secret(), body);
        assert_eq!(
            verify(&secret(), body, None),
            Err(VercelError::MissingSignature)
        );
        assert_eq!(
            verify(&secret(), body, Some("  ")),
            Err(VercelError::MissingSignature)
        );
        let other = sign(&SecretString::from("another secret"), body);
        assert_eq!(
            verify(&secret(), body, Some(&other)),
            Err(VercelError::BadSignature)
        );
        assert_eq!(
            verify(&secret(), body, Some("not hex")),
            Err(VercelError::BadSignature)
        );
        assert_eq!(
            verify(&secret(), body, Some(&good[..38])),
            Err(VercelError::BadSignature)
        );
        assert_eq!(
            verify(&secret(), body, Some(&format!("{good}00"))),
            Err(VercelError::BadSignature)
        );
    }

    #[test]
    fn a_body_changed_after_signing_is_refused() {
        let sig = sign(&secret(), br#"{"a":1}"#);
        assert_eq!(
            verify(&secret(), br#"{"a":2}"#, Some(&sig)),
            Err(VercelError::BadSignature)
        );
        assert_eq!(
            verify(&secret(), br#"{"a": 1}"#, Some(&sig)),
            Err(VercelError::BadSignature)
        );
    }
}

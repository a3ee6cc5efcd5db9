//! Vercel webhook deliveries (`POST /v1/hooks/vercel/{hook_id}`): the `x-vercel-signature` check
//! and the delivery parser (`vercel::parse`, which runs on signed bodies only; the fuzzer cannot
//! forge an HMAC, so it is fed the input directly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use shared::vercel::{self, EventKind, VercelError};

fuzz_target!(|data: &[u8]| {
    let secret = SecretString::from("whsec_fuzz_0123456789");

    // The right signature passes, a wrong one does not, and any header text is either refused
    // or is the signature (in either case).
    let signature = vercel::sign(&secret, data);
    assert_eq!(vercel::verify(&secret, data, Some(&signature)), Ok(()));
    let mut wrong = signature.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert_eq!(
        vercel::verify(&secret, data, Some(&wrong)),
        Err(VercelError::BadSignature)
    );
    let header = String::from_utf8_lossy(&data[..data.len().min(64)]);
    if vercel::verify(&secret, data, Some(&header)).is_ok() {
        assert_eq!(header.trim().to_ascii_lowercase(), signature);
    }

    match vercel::parse(data) {
        Ok(delivery) => {
            cairn_fuzz::check_vercel_text("id", Some(&delivery.id), 128);
            cairn_fuzz::check_vercel_text("type", Some(&delivery.event_type), 128);
            cairn_fuzz::check_vercel_text("team_id", delivery.team_id.as_deref(), 128);
            if let EventKind::Deployment(d) = &delivery.kind {
                assert_eq!(
                    vercel::DeploymentState::from_event_type(&delivery.event_type),
                    Some(d.state)
                );
                cairn_fuzz::check_vercel_text("deployment.id", Some(&d.id), 128);
                cairn_fuzz::check_vercel_text("deployment.url", d.url.as_deref(), 2048);
                cairn_fuzz::check_vercel_text("deployment.name", d.name.as_deref(), 255);
                cairn_fuzz::check_vercel_text("target", d.target.as_deref(), 64);
                cairn_fuzz::check_vercel_text("project.id", d.vercel_project_id.as_deref(), 128);
                if let Some(git) = &d.git {
                    cairn_fuzz::check_vercel_text("repo", Some(&git.repo.key()), 140);
                    cairn_fuzz::check_vercel_text("ref", git.commit_ref.as_deref(), 255);
                    cairn_fuzz::check_vercel_text("repo_id", git.repo_id.as_deref(), 32);
                    if let Some(sha) = &git.commit_sha {
                        assert_eq!(sha.as_str().len(), 40);
                    }
                }
            }
        }
        Err(e) => {
            // As Vercel would see it: the mapping at the edge (shared/src/error.rs).
            let e = shared::ApiError::from(shared::hooks::HooksError::from(e));
            assert!(
                matches!(e.status(), 400 | 422),
                "status {} for {e}",
                e.status()
            );
        }
    }
});

use std::io::Write;

use super::*;

const ID: &str = "c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a";

/// A zip of `entries`, deflated.
pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn manifest(files: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "org": "acme", "release": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "dist": "",
        "debug_id": "11111111-2222-3333-4444-555555555555", "files": files,
    }))
    .unwrap()
}

fn sentry_cli_like() -> Vec<u8> {
    let m = manifest(serde_json::json!({
        "_/_/app.js": {"type": "minified_source", "url": "~/app.js",
                       "headers": {"debug-id": ID, "Sourcemap": "app.js.map"}},
        "_/_/app.js.map": {"type": "source_map", "url": "~/app.js.map", "headers": {"Debug-Id": ID.to_uppercase()}},
        "_/_/no-id.js.map": {"type": "source_map", "url": "~/no-id.js.map"},
        "_/_/readme.txt": {"type": "source", "url": "~/readme.txt", "headers": {"debug-id": ID}},
    }));
    zip_of(&[
        ("manifest.json", &m),
        (
            "_/_/app.js",
            b"throw new Error('x')\n//# debugId=c941c6bd-3a1e-4b2f-9d3c-1f2e3d4c5b6a",
        ),
        (
            "_/_/app.js.map",
            br#"{"version":3,"sources":["a.ts"],"names":[],"mappings":"AAAA"}"#,
        ),
        ("_/_/no-id.js.map", b"{}"),
        ("_/_/readme.txt", b"hello"),
    ])
}

#[test]
fn a_bundle_gives_its_maps_and_minified_sources_by_debug_id() {
    let bundle = read(&sentry_cli_like(), &Limits::DEFAULT).unwrap();
    assert_eq!(
        bundle.release.as_deref(),
        Some("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")
    );
    assert_eq!(bundle.dist, None);
    assert_eq!(
        bundle.debug_id.unwrap().as_str(),
        "11111111-2222-3333-4444-555555555555"
    );
    let got: Vec<_> = bundle
        .artifacts
        .iter()
        .map(|a| {
            (
                a.path.as_str(),
                a.kind,
                a.debug_id.as_str(),
                a.url.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "_/_/app.js",
                ArtifactKind::MinifiedSource,
                ID,
                Some("~/app.js")
            ),
            (
                "_/_/app.js.map",
                ArtifactKind::SourceMap,
                ID,
                Some("~/app.js.map")
            ),
        ]
    );
    assert!(bundle.artifacts[1].data.starts_with(b"{\"version\":3"));
}

#[test]
fn broken_bundles_are_refused_with_a_reason() {
    let m = manifest(
        serde_json::json!({"_/_/gone.js.map": {"type": "source_map", "headers": {"debug-id": ID}}}),
    );
    let good = sentry_cli_like();
    let cases: Vec<(Vec<u8>, BundleError)> = vec![
        (b"not a zip".to_vec(), BundleError::NotZip(String::new())),
        (
            good[..good.len() / 2].to_vec(),
            BundleError::NotZip(String::new()),
        ),
        (zip_of(&[("x.js", b"x")]), BundleError::NoManifest),
        (
            zip_of(&[("manifest.json", b"{nope")]),
            BundleError::BadManifest(String::new()),
        ),
        (
            zip_of(&[("manifest.json", &m)]),
            BundleError::MissingFile("_/_/gone.js.map".into()),
        ),
        (
            zip_of(&[("manifest.json", b"{}"), ("../evil.js", b"x")]),
            BundleError::UnsafeName("../evil.js".into()),
        ),
        (
            zip_of(&[("manifest.json", b"{}"), ("/etc/passwd", b"x")]),
            BundleError::UnsafeName("/etc/passwd".into()),
        ),
        (
            zip_of(&[("manifest.json", b"{}"), ("a/../../b", b"x")]),
            BundleError::UnsafeName("a/../../b".into()),
        ),
        (
            zip_of(&[("manifest.json", b"{}"), ("C:/x", b"x")]),
            BundleError::UnsafeName("C:/x".into()),
        ),
    ];
    for (bytes, want) in cases {
        let got = read(&bytes, &Limits::DEFAULT).unwrap_err();
        // Errors that carry the zip library's text are compared by kind only.
        assert_eq!(
            std::mem::discriminant(&got),
            std::mem::discriminant(&want),
            "{got}"
        );
        if !matches!(want, BundleError::NotZip(_) | BundleError::BadManifest(_)) {
            assert_eq!(got, want);
        }
    }
}

#[test]
fn a_zip_bomb_stops_at_the_file_limit_while_inflating() {
    let zeros = vec![0u8; 48 * 1024 * 1024];
    let m = manifest(
        serde_json::json!({"_/_/bomb.js.map": {"type": "source_map", "headers": {"debug-id": ID}}}),
    );
    let bomb = zip_of(&[("manifest.json", &m), ("_/_/bomb.js.map", &zeros)]);
    assert!(bomb.len() < 200 * 1024, "{}", bomb.len());
    assert_eq!(
        read(&bomb, &Limits::DEFAULT).unwrap_err(),
        BundleError::FileTooLarge("_/_/bomb.js.map".into(), Limits::DEFAULT.file)
    );
}

#[test]
fn files_that_fit_alone_are_refused_together_past_the_total() {
    let limits = Limits {
        file: 1000,
        total_unzipped: 1500,
        ..Limits::DEFAULT
    };
    let m = manifest(serde_json::json!({
        "a.map": {"type": "source_map", "headers": {"debug-id": ID}},
        "b.js": {"type": "minified_source", "headers": {"debug-id": ID}},
    }));
    let data = vec![b' '; 700];
    let bytes = zip_of(&[("manifest.json", &m), ("a.map", &data), ("b.js", &data)]);
    assert_eq!(
        read(&bytes, &limits).unwrap_err(),
        BundleError::TooLargeUnzipped(1500)
    );
    let few = Limits {
        entries: 2,
        ..Limits::DEFAULT
    };
    assert_eq!(
        read(&bytes, &few).unwrap_err(),
        BundleError::TooManyEntries(2)
    );
}

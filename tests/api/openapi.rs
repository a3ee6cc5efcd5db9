//! The OpenAPI document: generated from the handlers' annotations, served at `/openapi.json`.

use crate::helpers::TestApp;

#[test]
fn the_committed_openapi_document_is_current() {
    let generated = cairn::openapi_json();
    assert!(
        incidents::OPENAPI_JSON == generated,
        "docs/openapi.json is stale: run `cargo run -p cairn -- openapi > docs/openapi.json`"
    );
}

#[tokio::test]
async fn the_document_is_served_and_describes_every_route() {
    let app = TestApp::spawn().await;

    let r = app.send("GET", "/openapi.json", &[], "").await;

    assert_eq!(r.status, 200);
    let paths = r.body["paths"].as_object().unwrap();
    for (_, method, path) in cairn::routes() {
        let op = &paths
            .get(&path)
            .unwrap_or_else(|| panic!("{path} is described"))[method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {path} is described");
    }
}

//! Pieces of the OpenAPI document shared by every function: the error body, the security
//! schemes. Each function crate describes its own routes (`#[utoipa::path]` on its handlers) and
//! the `cairn` binary merges them into the document served at `GET /openapi.json`.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, ToSchema};

/// The uniform error body.
#[derive(ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// An error's stable code and human message.
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `invalid_commit_sha`.
    pub code: String,
    pub message: String,
}

/// Adds the security schemes: `session` (cairn session bearer), `ingest_key` (ingest key
/// bearer), `upload_token` (upload token bearer), `sentry_auth` (`X-Sentry-Auth` header) and `sentry_key` (query parameter).
pub struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        let bearer = |desc: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(desc.to_owned()))
                    .build(),
            )
        };
        c.add_security_scheme("session", bearer("a cairn session token, cairn_s_…"));
        c.add_security_scheme("ingest_key", bearer("a project ingest key, cairn_ik_…"));
        c.add_security_scheme("upload_token", bearer("a project upload token, sntrys_…"));
        c.add_security_scheme(
            "sentry_auth",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Sentry-Auth"))),
        );
        c.add_security_scheme(
            "sentry_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("sentry_key"))),
        );
    }
}

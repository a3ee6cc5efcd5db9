//! A project's upload tokens, for its admins: mint one (shown once), list them (never the
//! token), revoke one (refused from the next upload on). The tokens themselves, and how an
//! upload is authenticated with one, are `sourcemaps::tokens`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{audit, find_for, ProjectsError};
use crate::auth::{Auth, Caller};
use crate::github::Permission;
use crate::sourcemaps::tokens::{self, TokenInfo};

/// The longest name a token may be given.
pub const MAX_TOKEN_NAME: usize = 100;

/// An upload token just minted: the only answer that ever holds it. No `Debug`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewUploadToken {
    pub token_id: String,
    /// `sntrys_…`: set it as `SENTRY_AUTH_TOKEN` where the build uploads source maps.
    pub token: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Mints an upload token for a project the caller administers (`name` is a label, optional).
pub async fn new_upload_token(
    auth: &Auth,
    public_url: &str,
    caller: &Caller,
    project_id: &str,
    name: Option<&str>,
) -> Result<NewUploadToken, ProjectsError> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > MAX_TOKEN_NAME) {
        return Err(ProjectsError::InvalidParameter("name"));
    }
    let p = find_for(auth, caller, project_id, Permission::Admin).await?;
    let mut tx = auth.pool().begin().await?;
    let new = tokens::create(
        &mut *tx,
        &p.project_id,
        Some(caller.user_id),
        name,
        public_url,
        &p.repo.owner,
    )
    .await?;
    audit(
        &mut tx,
        Some(&p.project_id),
        Some(caller.user_id),
        "upload_token.created",
        Some(&new.token_id),
    )
    .await?;
    tx.commit().await?;
    Ok(NewUploadToken {
        token: new.token.expose().to_owned(),
        token_id: new.token_id,
        name: name.map(str::to_owned),
        created_at: new.created_at,
    })
}

/// The live upload tokens of a project the caller administers, newest first.
pub async fn upload_tokens(
    auth: &Auth,
    caller: &Caller,
    project_id: &str,
) -> Result<Vec<TokenInfo>, ProjectsError> {
    let p = find_for(auth, caller, project_id, Permission::Admin).await?;
    Ok(tokens::list(auth.pool(), &p.project_id).await?)
}

/// Revokes an upload token of a project the caller administers: uploads with it are refused
/// from the next request on. An unknown or already revoked token is
/// [`ProjectsError::UploadTokenNotFound`].
pub async fn revoke_upload_token(
    auth: &Auth,
    caller: &Caller,
    project_id: &str,
    token_id: &str,
) -> Result<(), ProjectsError> {
    let p = find_for(auth, caller, project_id, Permission::Admin).await?;
    let mut tx = auth.pool().begin().await?;
    if !tokens::revoke(&mut *tx, &p.project_id, token_id).await? {
        return Err(ProjectsError::UploadTokenNotFound);
    }
    audit(
        &mut tx,
        Some(&p.project_id),
        Some(caller.user_id),
        "upload_token.revoked",
        Some(token_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

//! What handlers take from a request, each read and refused the same way on every route: the body
//! under [`MAX_BODY_BYTES`], a JSON body, the query string, path parameters. The signed-in
//! caller is an extractor too (`auth::Caller`), and so is the project of an ingest key
//! (`ingest::KeyedProject`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use http_body_util::{BodyExt, Limited};

use super::{parse_json, too_large, MAX_BODY_BYTES};
use crate::error::ApiError;

/// The whole body as sent, at most [`MAX_BODY_BYTES`] (`413 payload_too_large` past it).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let body = req.into_body();
        if axum::body::HttpBody::size_hint(&body).lower() > MAX_BODY_BYTES as u64 {
            return Err(too_large());
        }
        match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => Ok(Self(collected.to_bytes())),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(too_large())
            }
            Err(_) => Err(ApiError::bad_request(
                "invalid_body",
                "the request body could not be read",
            )),
        }
    }
}

/// A JSON body of type `T`: `400 empty_body`, `400 invalid_json` or `400 json_too_deep` when it
/// cannot be read as JSON, `422 invalid_body` when it has the wrong shape, `413` past
/// [`MAX_BODY_BYTES`]. The content type is not checked: SDKs and curl send all kinds.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(Self)
    }
}

/// Query parameters, decoded; the first value of a repeated name wins. A NUL byte anywhere
/// (`%00`) is `422 invalid_query_parameter`: no parameter cairn reads may hold one, and
/// PostgreSQL text cannot.
pub struct QueryMap(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut out = HashMap::new();
        if let Some(q) = parts.uri.query() {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                if k.contains('\0') || v.contains('\0') {
                    return Err(ApiError::unprocessable(
                        "invalid_query_parameter",
                        "a query parameter holds a NUL byte",
                    ));
                }
                out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
            }
        }
        Ok(Self(out))
    }
}

/// The address a connection came from, put in the request's extensions by a server that
/// accepts connections itself (`cairn serve`).
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// The client's address, when known: the peer of the connection under `cairn serve`
/// ([`PeerAddr`]); on Lambda, the last `X-Forwarded-For` entry, which API Gateway appends (the
/// address that connected to it; entries before it are whatever the client sent).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(PeerAddr(addr)) = parts.extensions.get::<PeerAddr>() {
            return Ok(Self(Some(addr.ip())));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .next_back()
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        Ok(Self(forwarded))
    }
}

/// A header value as text, if present and printable.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The bearer credential from `Authorization`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = header(headers, "authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Path parameters (`{project_id}`…), percent-decoded; a path that does not decode (not UTF-8)
/// is the uniform `404`, as a path nothing serves.
pub struct Param<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for Param<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(_) => Err(ApiError::not_found("route")),
        }
    }
}

//! The filters of `GET /v1/incidents`, parsed from the query string, and the keyset cursor of
//! its pages.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};

use super::IncidentsError;
use crate::domain::{CommitSha, RepoFullName};

/// The filters of `GET /v1/incidents`, parsed.
pub struct ListQuery {
    pub repo: RepoFullName,
    pub commit: Option<CommitSha>,
    /// Locate each incident at this commit (the IDE's checkout).
    pub at: Option<CommitSha>,
    pub status: String,
    pub environment: Option<String>,
    pub limit: i64,
    pub cursor: Option<(DateTime<Utc>, String)>,
}

impl ListQuery {
    /// Parses the query string parameters; each bad one is a `422` naming it.
    pub fn parse(q: &HashMap<String, String>) -> Result<Self, IncidentsError> {
        let repo = q.get("repo").ok_or(IncidentsError::MissingRepo)?;
        let repo = RepoFullName::parse(repo).map_err(IncidentsError::InvalidRepo)?;
        let commit = match q.get("commit").filter(|c| !c.is_empty()) {
            Some(c) => Some(CommitSha::parse(c).map_err(IncidentsError::InvalidCommitSha)?),
            None => None,
        };
        let at = match q.get("at").filter(|c| !c.is_empty()) {
            Some(c) => Some(CommitSha::parse(c).map_err(IncidentsError::InvalidCommitSha)?),
            None => None,
        };
        let status = match q.get("status").map(String::as_str).unwrap_or("open") {
            s @ ("open" | "resolved") => s.to_owned(),
            _ => return Err(IncidentsError::InvalidStatus),
        };
        let environment = q.get("environment").filter(|e| !e.is_empty()).cloned();
        let limit = match q.get("limit") {
            None => 50,
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=200).contains(n))
                .ok_or(IncidentsError::InvalidLimit)?,
        };
        let cursor = match q.get("cursor").filter(|c| !c.is_empty()) {
            Some(c) => Some(decode_cursor(c).ok_or(IncidentsError::InvalidCursor)?),
            None => None,
        };
        Ok(Self {
            repo,
            commit,
            at,
            status,
            environment,
            limit,
            cursor,
        })
    }
}

pub(super) fn encode_cursor(ts: DateTime<Utc>, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", ts.timestamp_micros()))
}

fn decode_cursor(c: &str) -> Option<(DateTime<Utc>, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let (ts, id) = raw.split_once('|')?;
    // An incident id is `inc_` and hex: anything else (a NUL byte PostgreSQL cannot take) is not
    // a cursor cairn gave.
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    Some((
        DateTime::from_timestamp_micros(ts.parse().ok()?)?,
        id.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let ts = DateTime::from_timestamp_micros(1_700_000_000_000_000).unwrap();
        let c = encode_cursor(ts, "inc_0123abcd");
        assert_eq!(decode_cursor(&c), Some((ts, "inc_0123abcd".to_owned())));
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("1|inc_\0")), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("1|")), None);
    }
}

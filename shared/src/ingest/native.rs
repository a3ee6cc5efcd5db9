//! cairn's own event format (`POST /v1/events`): one event object or an array of them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::IngestError;
use crate::event::{storable_as_sent, ErrorEvent, Frame, Payload};
use crate::http::{json_depth_exceeds, MAX_EVENT_BYTES, MAX_JSON_DEPTH};

/// Most events accepted in one array.
pub const MAX_BATCH: usize = 1000;

/// A structured frame as clients send it (oldest call first).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NativeFrame {
    #[serde(alias = "filename", alias = "abs_path", alias = "file")]
    file_path: Option<String>,
    module: Option<String>,
    function: Option<String>,
    #[serde(alias = "lineno", alias = "line")]
    line_number: Option<u32>,
    #[serde(alias = "colno", alias = "column")]
    column_number: Option<u32>,
    in_app: Option<bool>,
}

/// The body of one native event. `error_message` is required, and
/// `commit_sha` and `environment` unless `deployment_id` is given (the deployment's commit and
/// environment are used, now or when a Vercel hook reports it); checked after parsing, as `422`s.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NativeEvent {
    #[schema(required = true)]
    error_message: Option<String>,
    error_type: Option<String>,
    stack_trace: Option<String>,
    frames: Option<Vec<NativeFrame>>,
    #[schema(pattern = "^[0-9a-fA-F]{40}$")]
    commit_sha: Option<String>,
    environment: Option<String>,
    occurred_at: Option<DateTime<Utc>>,
    deployment_id: Option<String>,
    release: Option<String>,
    user_id: Option<String>,
    fingerprint: Option<Vec<String>>,
    level: Option<String>,
    #[schema(value_type = Option<Object>)]
    tags: Option<BTreeMap<String, serde_json::Value>>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    event_id: Option<String>,
    platform: Option<String>,
}

fn one(raw: &RawValue, index: Option<usize>) -> Result<ErrorEvent, IngestError> {
    let at = |field: &str| match index {
        Some(i) => format!("events[{i}].{field}"),
        None => field.to_owned(),
    };
    let text = raw.get();
    if !text.starts_with('{') {
        return Err(IngestError::NotAnObject {
            at: at("event").trim_end_matches(".event").to_owned(),
        });
    }
    if text.len() > MAX_EVENT_BYTES {
        return Err(IngestError::EventTooLarge);
    }
    let invalid = |source| IngestError::InvalidEvent {
        at: at("event"),
        source,
    };
    // Nearly every event is read straight from its text and kept as sent; only one holding an
    // escape or an unusual number is parsed into a document first (and cleaned when stored).
    let (ev, payload) = if storable_as_sent(text) {
        let ev: NativeEvent = serde_json::from_str(text).map_err(invalid)?;
        (ev, Payload::Text(text.to_owned()))
    } else {
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid_json)?;
        let ev = NativeEvent::deserialize(&value).map_err(invalid)?;
        (ev, Payload::Parsed(value))
    };
    let error_message = ev
        .error_message
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| IngestError::MissingErrorMessage {
            at: at("error_message"),
        })?;
    // With a deployment id, the environment may come from the deployment (see `resolve`).
    let environment = ev.environment.filter(|e| !e.trim().is_empty());
    if environment.is_none()
        && ev
            .deployment_id
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
    {
        return Err(IngestError::MissingEnvironment {
            at: at("environment"),
        });
    }
    let commit_sha = ev.commit_sha.filter(|c| !c.trim().is_empty());
    if let Some(c) = &commit_sha {
        crate::domain::CommitSha::parse(c).map_err(|_| IngestError::InvalidCommitSha {
            at: at("commit_sha"),
        })?;
    }
    let deployment_id = ev.deployment_id.filter(|d| !d.trim().is_empty());
    if commit_sha.is_none() && deployment_id.is_none() {
        return Err(IngestError::MissingCommitSha {
            at: at("commit_sha"),
        });
    }
    let tags = ev
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            (
                k,
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string()),
            )
        })
        .collect();
    Ok(ErrorEvent {
        debug_images: Vec::new(),
        event_id: ev.event_id,
        error_type: ev.error_type,
        error_message,
        stack_trace: ev.stack_trace,
        frames: ev
            .frames
            .unwrap_or_default()
            .into_iter()
            .map(|f| Frame {
                file_path: f.file_path,
                module: f.module,
                function: f.function,
                line_number: f.line_number,
                column_number: f.column_number,
                in_app: f.in_app,
            })
            .collect(),
        commit_sha,
        release: ev.release,
        deployment_id,
        environment,
        occurred_at: ev.occurred_at,
        user_id: ev.user_id,
        fingerprint: ev.fingerprint,
        level: ev.level,
        tags,
        metadata: ev
            .metadata
            .map(serde_json::Value::Object)
            .unwrap_or(serde_json::Value::Null),
        platform: ev.platform,
        payload,
    })
}

fn invalid_json(e: serde_json::Error) -> IngestError {
    IngestError::InvalidJson(e)
}

/// Parses a native body: `(events, was_array)`. The body is split into each event's JSON text
/// without building a document (see [`one`]).
pub fn parse(body: &[u8]) -> Result<(Vec<ErrorEvent>, bool), IngestError> {
    // The checks of every JSON body (`http::check_json_text`), as ingest's own errors.
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::EmptyBody);
    }
    if json_depth_exceeds(body, MAX_JSON_DEPTH) {
        return Err(IngestError::JsonTooDeep {
            limit: MAX_JSON_DEPTH,
        });
    }
    // One pass over the body: as an array of events' texts, or as one event's.
    if body.trim_ascii_start().first() != Some(&b'[') {
        let raw: &RawValue = serde_json::from_slice(body).map_err(invalid_json)?;
        return Ok((vec![one(raw, None)?], false));
    }
    let items: Vec<&RawValue> = serde_json::from_slice(body).map_err(invalid_json)?;
    if items.is_empty() {
        return Err(IngestError::EmptyBatch);
    }
    if items.len() > MAX_BATCH {
        return Err(IngestError::TooManyEvents { max: MAX_BATCH });
    }
    let events = items
        .into_iter()
        .enumerate()
        .map(|(i, v)| one(v, Some(i)))
        .collect::<Result<_, _>>()?;
    Ok((events, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> String {
        parse(body.as_bytes())
            .err()
            .map(|e| crate::ApiError::from(e).code().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn native_events_need_message_environment_and_a_commit_or_deployment() {
        let sha = "a".repeat(40);
        assert_eq!(
            code(&format!(r#"{{"environment":"p","commit_sha":"{sha}"}}"#)),
            "missing_error_message"
        );
        assert_eq!(
            code(&format!(r#"{{"error_message":"x","commit_sha":"{sha}"}}"#)),
            "missing_environment"
        );
        assert_eq!(
            code(r#"{"error_message":"x","environment":"p"}"#),
            "missing_commit_sha"
        );
        assert_eq!(
            code(r#"{"error_message":"x","environment":"p","commit_sha":"abc"}"#),
            "invalid_commit_sha"
        );
        assert_eq!(
            code(r#"{"error_message":5,"environment":"p","commit_sha":"abc"}"#),
            "invalid_event"
        );
        assert_eq!(code("[]"), "empty_batch");
        assert_eq!(code("{"), "invalid_json");
        assert_eq!(code(""), "empty_body");
        assert_eq!(code("7"), "invalid_event");
        let ok = parse(r#"{"error_message":"x","environment":"p","deployment_id":"dpl_1","frames":[{"filename":"a.js","lineno":3}]}"#.as_bytes()).unwrap();
        assert_eq!(ok.0[0].frames[0].line_number, Some(3));
        assert!(!ok.1);
        let only_deployment = parse(br#"{"error_message":"x","deployment_id":"dpl_1"}"#).unwrap();
        assert_eq!(
            only_deployment.0[0].environment, None,
            "filled in from the deployment"
        );
        assert_eq!(
            code(
                r#"{"error_message":"x","deployment_id":" ","commit_sha":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#
            ),
            "missing_environment"
        );
    }

    #[test]
    fn payloads_are_kept_as_sent_unless_parsing_would_refuse_or_change_them() {
        // Errors as clients see them (their stable code).
        let one = |body: &str| {
            parse(body.as_bytes())
                .map(|(mut e, _)| e.remove(0).payload)
                .map_err(crate::ApiError::from)
        };
        let plain = r#"{"error_message":"x é \"q\"","environment":"p","deployment_id":"d","n":[1.5,-2,true,null]}"#;
        assert_eq!(one(plain).unwrap(), Payload::Text(plain.to_owned()));
        // A NUL (refused by jsonb, removed by cairn) and escapes in general: parsed, then cleaned.
        let nul = r#"{"error_message":"x","environment":"p","deployment_id":"d","m":"a\u0000b"}"#;
        assert!(matches!(one(nul).unwrap(), Payload::Parsed(_)));
        // Refused by the parser, so still a 400 (never a statement PostgreSQL would refuse).
        let lone = r#"{"error_message":"x","environment":"p","deployment_id":"d","m":"\ud800"}"#;
        assert_eq!(one(lone).unwrap_err().code(), "invalid_json");
        let huge = r#"{"error_message":"x","environment":"p","deployment_id":"d","m":1e400}"#;
        assert_eq!(one(huge).unwrap_err().code(), "invalid_json");
        let long = format!(
            r#"{{"error_message":"x","environment":"p","deployment_id":"d","m":{}}}"#,
            "9".repeat(100)
        );
        assert!(matches!(one(&long).unwrap(), Payload::Parsed(_)));
    }

    #[test]
    fn what_can_be_stored_as_sent() {
        use crate::event::storable_as_sent as ok;
        assert!(ok(r#"{"a":[1,-2.5,true,false,null,"e\"\\n"],"\"k":{}}"#));
        assert!(!ok(r#"{"a":"\u0041"}"#));
        assert!(!ok(r#"{"\u0000":1}"#));
        // An escaped backslash followed by `u0041` is text, not an escape.
        assert!(ok(r#"{"a":"\\u0041"}"#));
        assert!(!ok(r#"{"a":1e5}"#));
        assert!(!ok(r#"{"a":-1.5E-3}"#));
        assert!(ok(r#"{"e":"1e5","E":true}"#));
        assert!(ok(&format!(r#"{{"a":{}}}"#, "1".repeat(64))));
        assert!(!ok(&format!(r#"{{"a":{}}}"#, "1".repeat(65))));
    }
}

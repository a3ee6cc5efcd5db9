//! A webhook delivery, parsed: `{id, type, createdAt (ms), region, payload}`. Deployment events
//! carry `payload.deployment.{id, url, name, meta}`, `payload.target`, `payload.project.id` and
//! `payload.team.id`; `meta` holds the GitHub source of GitHub-linked deployments. Event types
//! cairn does not use (legacy `deployment-ready`, `project.created`, …) parse as
//! [`EventKind::Ignored`] and are acknowledged.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::VercelError;
use crate::domain::{CommitSha, RepoFullName};

/// The states a deployment reports, ordered by [`DeploymentState::rank`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentState {
    Created,
    Succeeded,
    Error,
    Canceled,
    Promoted,
}

impl DeploymentState {
    /// The state for an event type, `None` for types that are not deployment states.
    pub fn from_event_type(t: &str) -> Option<Self> {
        Some(match t {
            "deployment.created" => Self::Created,
            "deployment.succeeded" => Self::Succeeded,
            "deployment.error" => Self::Error,
            "deployment.canceled" => Self::Canceled,
            "deployment.promoted" => Self::Promoted,
            _ => return None,
        })
    }

    /// Position in the life of a deployment: deliveries arrive in any order and a state only
    /// replaces one of lower rank (equal ranks: the later webhook `createdAt` wins). A deployment
    /// is created, then ends once (error, canceled or succeeded), and a succeeded one may be
    /// promoted afterwards.
    pub fn rank(self) -> i16 {
        match self {
            Self::Created => 1,
            Self::Succeeded | Self::Error | Self::Canceled => 2,
            Self::Promoted => 3,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Succeeded => "succeeded",
            Self::Error => "error",
            Self::Canceled => "canceled",
            Self::Promoted => "promoted",
        }
    }
}

/// The GitHub commit a deployment was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// The repo the Vercel project is linked to (`githubOrg/githubRepo`, else the commit's repo).
    pub repo: RepoFullName,
    pub commit_sha: Option<CommitSha>,
    pub commit_ref: Option<String>,
    pub repo_id: Option<String>,
}

/// A deployment as one delivery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentEvent {
    pub id: String,
    pub state: DeploymentState,
    pub url: Option<String>,
    pub name: Option<String>,
    /// `production`, `staging`, or `None` (a preview).
    pub target: Option<String>,
    pub vercel_project_id: Option<String>,
    /// `None` for deployments not built from GitHub (CLI uploads, other providers).
    pub git: Option<GitSource>,
}

/// What a delivery asks cairn to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Deployment(Box<DeploymentEvent>),
    /// A type cairn does not use; acknowledged and otherwise ignored.
    Ignored,
}

/// One webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Vercel's event id: the same for every redelivery of this event.
    pub id: String,
    /// `type` as sent.
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    /// The Vercel team, when the payload names one (for every event type).
    pub team_id: Option<String>,
    pub kind: EventKind,
}

#[derive(Deserialize)]
struct RawDelivery {
    id: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    #[serde(rename = "createdAt")]
    created_at: Option<i64>,
    #[serde(default)]
    payload: serde_json::Value,
}

#[derive(Deserialize)]
struct RawPayload {
    deployment: Option<RawDeployment>,
    target: Option<String>,
    project: Option<IdOnly>,
    team: Option<IdOnly>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

#[derive(Deserialize)]
struct RawDeployment {
    id: Option<String>,
    url: Option<String>,
    name: Option<String>,
    #[serde(default)]
    meta: serde_json::Map<String, serde_json::Value>,
}

/// A trimmed, non-empty string of at most `max` bytes without NUL, or `None`. (Postgres text
/// cannot hold a NUL: storing one would fail the delivery with a 500; found by fuzzing.)
fn text(s: Option<&str>, max: usize) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= max && !s.contains('\0'))
        .map(str::to_owned)
}

fn meta<'a>(m: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> Option<&'a str> {
    m.get(key)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn git_source(m: &serde_json::Map<String, serde_json::Value>) -> Option<GitSource> {
    let repo_of = |org: &str, repo: &str| {
        let (org, repo) = (meta(m, org)?, meta(m, repo)?);
        RepoFullName::parse(&format!("{org}/{repo}")).ok()
    };
    let repo = repo_of("githubOrg", "githubRepo")
        .or_else(|| repo_of("githubCommitOrg", "githubCommitRepo"))?;
    Some(GitSource {
        repo,
        commit_sha: meta(m, "githubCommitSha").and_then(|s| CommitSha::parse(s).ok()),
        commit_ref: text(meta(m, "githubCommitRef"), 255),
        repo_id: text(meta(m, "githubRepoId"), 32),
    })
}

fn id_of(o: Option<IdOnly>) -> Option<String> {
    text(o.and_then(|p| p.id).as_deref(), 128)
}

/// Parses a delivery whose signature has already been checked.
pub fn parse(body: &[u8]) -> Result<Delivery, VercelError> {
    let raw: RawDelivery = match serde_json::from_slice::<serde_json::Value>(body) {
        Err(e) => return Err(VercelError::InvalidJson(e.to_string())),
        Ok(v) => {
            serde_json::from_value(v).map_err(|e| VercelError::InvalidPayload(e.to_string()))?
        }
    };
    let id = text(raw.id.as_deref(), 128)
        .ok_or_else(|| VercelError::InvalidPayload("id is required".into()))?;
    let event_type = text(raw.event_type.as_deref(), 128)
        .ok_or_else(|| VercelError::InvalidPayload("type is required".into()))?;
    let created_at = match raw.created_at {
        Some(ms) => DateTime::from_timestamp_millis(ms).ok_or_else(|| {
            VercelError::InvalidPayload("createdAt is not a time in milliseconds".into())
        })?,
        None => Utc::now(),
    };
    let Some(state) = DeploymentState::from_event_type(&event_type) else {
        // Only the team is read from other events; their payloads are not ours to validate.
        let team_id = raw
            .payload
            .get("team")
            .and_then(|t| t.get("id"))
            .and_then(|i| text(i.as_str(), 128));
        return Ok(Delivery {
            id,
            event_type,
            created_at,
            team_id,
            kind: EventKind::Ignored,
        });
    };
    let payload: RawPayload = serde_json::from_value(raw.payload)
        .map_err(|e| VercelError::InvalidPayload(format!("payload: {e}")))?;
    let dep = payload
        .deployment
        .ok_or_else(|| VercelError::InvalidPayload("payload.deployment is required".into()))?;
    let dep_id = text(dep.id.as_deref(), 128)
        .ok_or_else(|| VercelError::InvalidPayload("payload.deployment.id is required".into()))?;
    let team_id = id_of(payload.team);
    let event = DeploymentEvent {
        id: dep_id,
        state,
        url: text(dep.url.as_deref(), 2048),
        name: text(dep.name.as_deref(), 255),
        target: text(payload.target.as_deref(), 64),
        vercel_project_id: id_of(payload.project),
        git: git_source(&dep.meta),
    };
    Ok(Delivery {
        id,
        event_type,
        created_at,
        team_id,
        kind: EventKind::Deployment(Box::new(event)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SHA: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";

    fn delivery(event_type: &str, meta: serde_json::Value, target: serde_json::Value) -> Vec<u8> {
        json!({
            "id": "Ad8ZPj1FZqyMhwLO9X4hVjZy",
            "type": event_type,
            "createdAt": 1_717_000_000_123_i64,
            "region": "sfo1",
            "payload": {
                "deployment": {"id": "dpl_2euZBFqxiCuj3mnwgq6pT1Ce8Ywu", "url": "checkout-api-git-main-acme.vercel.app", "name": "checkout-api", "meta": meta},
                "target": target,
                "project": {"id": "prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB"},
                "team": {"id": "team_1a2b3c4d5e6f7g8h9i0j1k2l"},
                "user": {"id": "Nb7Y4wXfK3bQdM"},
                "links": {"deployment": "https://vercel.com/acme/checkout-api/2euZBFqxiCuj3mnwgq6pT1Ce8Ywu"}
            }
        })
        .to_string()
        .into_bytes()
    }

    fn github_meta() -> serde_json::Value {
        json!({
            "githubCommitSha": SHA.to_ascii_uppercase(), "githubCommitRef": "main", "githubCommitOrg": "Acme",
            "githubCommitRepo": "checkout-api", "githubRepoId": "123456789", "githubOrg": "Acme", "githubRepo": "checkout-api",
            "githubCommitMessage": "fix: rounding", "githubDeployment": "1"
        })
    }

    #[test]
    fn each_deployment_event_type_parses_to_its_state() {
        for (t, state) in [
            ("deployment.created", DeploymentState::Created),
            ("deployment.succeeded", DeploymentState::Succeeded),
            ("deployment.error", DeploymentState::Error),
            ("deployment.canceled", DeploymentState::Canceled),
            ("deployment.promoted", DeploymentState::Promoted),
        ] {
            let d = parse(&delivery(t, github_meta(), json!("production"))).unwrap();
            let EventKind::Deployment(dep) = d.kind else {
                panic!("{t} is a deployment event")
            };
            assert_eq!(dep.state, state, "{t}");
            assert_eq!(dep.id, "dpl_2euZBFqxiCuj3mnwgq6pT1Ce8Ywu");
            assert_eq!(d.created_at.timestamp_millis(), 1_717_000_000_123);
        }
    }

    #[test]
    fn a_github_deployment_carries_its_repo_and_commit() {
        let d = parse(&delivery(
            "deployment.succeeded",
            github_meta(),
            json!(null),
        ))
        .unwrap();
        let EventKind::Deployment(dep) = d.kind else {
            panic!()
        };
        let git = dep.git.unwrap();
        assert_eq!(git.repo.to_string(), "Acme/checkout-api");
        assert_eq!(git.commit_sha.unwrap().as_str(), SHA, "lowercased");
        assert_eq!(git.commit_ref.as_deref(), Some("main"));
        assert_eq!(git.repo_id.as_deref(), Some("123456789"));
        assert_eq!(dep.target, None, "a preview");
        assert_eq!(
            dep.vercel_project_id.as_deref(),
            Some("prj_12HKQaOmR5t5Uy6vdcQsNIiZgHGB")
        );
        assert_eq!(d.team_id.as_deref(), Some("team_1a2b3c4d5e6f7g8h9i0j1k2l"));
    }

    #[test]
    fn the_commit_repo_is_used_when_the_project_repo_is_absent() {
        let meta =
            json!({"githubCommitSha": SHA, "githubCommitOrg": "acme", "githubCommitRepo": "web"});
        let EventKind::Deployment(dep) =
            parse(&delivery("deployment.created", meta, json!("staging")))
                .unwrap()
                .kind
        else {
            panic!()
        };
        assert_eq!(dep.git.unwrap().repo.to_string(), "acme/web");
        assert_eq!(dep.target.as_deref(), Some("staging"));
    }

    #[test]
    fn deployments_without_github_meta_have_no_source() {
        for meta in [
            json!({}),
            json!({"gitlabProjectId": "7", "gitlabCommitSha": SHA}),
            json!({"githubOrg": "acme"}),
        ] {
            let EventKind::Deployment(dep) =
                parse(&delivery("deployment.created", meta.clone(), json!(null)))
                    .unwrap()
                    .kind
            else {
                panic!()
            };
            assert_eq!(dep.git, None, "{meta}");
        }
    }

    #[test]
    fn legacy_and_unknown_types_are_ignored_not_refused() {
        for t in [
            "deployment-ready",
            "deployment-prepared",
            "deployment",
            "project.created",
            "deployment.check-rerequested",
        ] {
            let d = parse(&delivery(t, github_meta(), json!(null))).unwrap();
            assert_eq!(d.kind, EventKind::Ignored, "{t}");
            assert_eq!(d.event_type, t);
        }
        let odd = br#"{"id": "e1", "type": "integration-configuration.removed", "payload": {"configuration": [1, 2]}}"#;
        assert_eq!(parse(odd).unwrap().kind, EventKind::Ignored);
    }

    #[test]
    fn malformed_deliveries_are_refused_with_the_field() {
        assert!(matches!(
            parse(b"{not json"),
            Err(VercelError::InvalidJson(_))
        ));
        assert!(matches!(parse(b"[1]"), Err(VercelError::InvalidPayload(_))));
        let no_id =
            br#"{"type": "deployment.created", "payload": {"deployment": {"id": "dpl_1"}}}"#;
        assert_eq!(
            parse(no_id),
            Err(VercelError::InvalidPayload("id is required".into()))
        );
        let no_dep = br#"{"id": "e1", "type": "deployment.created", "payload": {}}"#;
        assert_eq!(
            parse(no_dep),
            Err(VercelError::InvalidPayload(
                "payload.deployment is required".into()
            ))
        );
        let no_dep_id = br#"{"id": "e1", "type": "deployment.created", "payload": {"deployment": {"url": "x"}}}"#;
        assert_eq!(
            parse(no_dep_id),
            Err(VercelError::InvalidPayload(
                "payload.deployment.id is required".into()
            ))
        );
    }

    #[test]
    fn strings_with_a_nul_are_refused_or_dropped() {
        // Found by fuzzing (fuzz target `vercel`): a `\u0000` reached Postgres and made a 500.
        let with_nul = |field: &str| {
            let mut v: serde_json::Value = serde_json::from_slice(&delivery(
                "deployment.created",
                github_meta(),
                json!("production"),
            ))
            .unwrap();
            v.pointer_mut(field).map(|s| *s = json!("a\u{0}b")).unwrap();
            parse(v.to_string().as_bytes())
        };
        assert_eq!(
            with_nul("/id"),
            Err(VercelError::InvalidPayload("id is required".into()))
        );
        assert!(matches!(
            with_nul("/payload/deployment/id"),
            Err(VercelError::InvalidPayload(_))
        ));
        let d = with_nul("/payload/deployment/url").unwrap();
        let EventKind::Deployment(dep) = d.kind else {
            panic!()
        };
        assert_eq!(dep.url, None);
        let d = with_nul("/payload/deployment/meta/githubCommitRef").unwrap();
        let EventKind::Deployment(dep) = d.kind else {
            panic!()
        };
        assert_eq!(dep.git.unwrap().commit_ref, None);
        assert_eq!(with_nul("/payload/team/id").unwrap().team_id, None);
    }

    #[test]
    fn states_are_ranked_in_the_order_a_deployment_lives() {
        use DeploymentState::*;
        assert!(Created.rank() < Succeeded.rank());
        assert_eq!(Succeeded.rank(), Error.rank());
        assert_eq!(Error.rank(), Canceled.rank());
        assert!(Succeeded.rank() < Promoted.rank());
    }
}

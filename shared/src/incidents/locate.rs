//! Incidents located at the IDE's commit (`at=`, issue 20): each incident's location and frames
//! carried to `at` by [`crate::translate`], the recorded ones kept beside them.

use super::{Incident, IncidentsError};
use crate::auth::{Auth, Caller};
use crate::domain::{CommitSha, RepoFullName};
use crate::translate::{self, Located, Locator, Position, Subject, Translation};

/// Locates `incidents` (of `repo`) at `at` with the caller's GitHub token; GitHub's failures
/// are in the returned [`Translation`], only the database's fail this.
pub async fn at(
    auth: &Auth,
    locator: &Locator,
    caller: &Caller,
    repo: &RepoFullName,
    at: &CommitSha,
    incidents: &mut [Incident],
) -> Result<Translation, IncidentsError> {
    let subjects: Vec<Subject> = incidents.iter().map(subject).collect();
    let t = locator.at(
        auth.pool().clone(),
        caller.github_token.clone(),
        repo.clone(),
        at.clone(),
    );
    let (located, translation) = translate::locate(t, &subjects).await?;
    for (incident, located) in incidents.iter_mut().zip(located) {
        apply(incident, located);
    }
    Ok(translation)
}

fn number(n: Option<i32>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok())
}

/// The incident's location first (its top in-app frame), then every frame.
fn subject(i: &Incident) -> Subject {
    let top = Position {
        file_path: i.file_path.clone(),
        line_number: number(i.line_number),
        column_number: number(i.column_number),
        in_app: true,
    };
    let frames = i.frames.iter().map(|f| Position {
        file_path: f.frame.file_path.clone(),
        line_number: f.frame.line_number,
        column_number: f.frame.column_number,
        in_app: f.frame.in_app,
    });
    Subject {
        seen: i
            .commit_sha
            .as_deref()
            .and_then(|c| CommitSha::parse(c).ok()),
        positions: std::iter::once(top).chain(frames).collect(),
    }
}

fn apply(i: &mut Incident, located: Located) {
    let signed = |n: Option<u32>| n.and_then(|n| i32::try_from(n).ok());
    i.seen_commit_sha = i.commit_sha.clone();
    i.seen_file_path = i.file_path.clone();
    i.seen_line_number = i.line_number;
    i.relation = Some(located.relation);
    let mut placed = located.positions.into_iter();
    if let Some(top) = placed.next() {
        i.file_path = top.file_path;
        i.line_number = signed(top.line_number);
        i.column_number = signed(top.column_number);
        i.line_state = Some(top.line_state);
    }
    for (frame, p) in i.frames.iter_mut().zip(placed) {
        frame.frame.file_path = p.file_path;
        frame.frame.line_number = p.line_number;
        frame.frame.column_number = p.column_number;
        frame.line_state = Some(p.line_state);
    }
}

//! `cairn incidents`: the open incidents of the checkout, located at its `HEAD`, printed as
//! compiler diagnostics (`path:line:col: error: …`) that Vim's quickfix, Emacs' compilation
//! mode and VS Code problem matchers read; and `cairn resolve` / `cairn reopen`.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::api::Api;
use super::{git, note, Error, Out};
use crate::args::IncidentsArgs;

/// Lists the incidents `args` asks for.
pub fn run(
    api: &Api,
    args: &IncidentsArgs,
    out: &mut Out<impl std::io::Write>,
) -> Result<(), Error> {
    let repo = match &args.repo {
        Some(r) => r.clone(),
        None => git::origin_repo()?,
    };
    let at = match &args.at {
        Some(rev) if is_full_sha(rev) => Some(rev.to_ascii_lowercase()),
        Some(rev) => Some(git::commit(rev)?),
        // Another repo than this checkout's: HEAD means nothing there; latest locations.
        None if args.repo.is_some()
            && !git::origin_repo().is_ok_and(|o| o.eq_ignore_ascii_case(&repo)) =>
        {
            None
        }
        None => Some(git::commit("HEAD")?),
    };
    let root = if args.absolute {
        Some(git::toplevel()?)
    } else {
        None
    };
    let mut query = vec![("repo", repo.as_str())];
    for (name, value) in [
        ("status", &args.status),
        ("environment", &args.environment),
        ("limit", &args.limit),
    ] {
        if let Some(v) = value {
            query.push((name, v.as_str()));
        }
    }
    let page = match &at {
        None => page(api, &repo, &query)?,
        Some(sha) => {
            // The line-translation API answers `at=` with a `translation`; a server without it
            // ignores the parameter, and then `commit=` gives the incidents seen at HEAD.
            let translated = page(api, &repo, &[&query[..], &[("at", sha)]].concat())?;
            if translated.get("translation").is_some() {
                translated
            } else {
                page(api, &repo, &[&query[..], &[("commit", sha)]].concat())?
            }
        }
    };
    if args.json {
        return out.json(&page);
    }
    let now = Utc::now();
    for incident in page["incidents"].as_array().into_iter().flatten() {
        for line in lines(incident, args.frames, root.as_deref(), now) {
            out.line(&line)?;
        }
    }
    let translation = &page["translation"];
    if let (Some(status @ ("partial" | "none")), Some(sha)) = (translation["status"].as_str(), &at)
    {
        let reason = translation["reason"].as_str().unwrap_or("no reason given");
        let some = if status == "partial" { "some " } else { "" };
        note(&format!(
            "{some}lines are where they were seen, not translated to {}: {reason}",
            short(sha)
        ));
    }
    if !page["next_cursor"].is_null() {
        note("more incidents than listed: raise --limit (at most 200)");
    }
    Ok(())
}

fn page(api: &Api, repo: &str, query: &[(&str, &str)]) -> Result<Value, Error> {
    let answer = api.call("GET", "/v1/incidents", query, None)?;
    if answer.status == 404 {
        return Err(Error::NoProject {
            repo: repo.to_owned(),
            url: api.url().to_owned(),
        });
    }
    api.success(answer)
}

/// `cairn resolve` / `cairn reopen`: sets the status and prints the incident's line.
pub fn set_status(
    api: &Api,
    id: &str,
    status: &str,
    out: &mut Out<impl std::io::Write>,
) -> Result<(), Error> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::Usage(format!(
            "{id:?} is not an incident id (inc_…)"
        )));
    }
    let path = format!("/v1/incidents/{id}");
    let answer = api.call("PATCH", &path, &[], Some(&json!({ "status": status })))?;
    if answer.status == 404 {
        return Err(Error::NoIncident {
            id: id.to_owned(),
            url: api.url().to_owned(),
        });
    }
    let incident = api.success(answer)?;
    let what = summary(&incident);
    let now = if status == "open" {
        "open again"
    } else {
        "resolved"
    };
    out.line(&format!("{id} is {now}: {what}"))
}

/// The lines of one incident: its location and summary, then (with `frames`) its in-app
/// frames as notes. Paths are the API's, from the repository root, or under `root`. Notes are
/// not indented (as GCC's are not): Emacs' compilation mode would take the indent for part of
/// the file name.
pub fn lines(
    incident: &Value,
    frames: bool,
    root: Option<&Path>,
    now: DateTime<Utc>,
) -> Vec<String> {
    let seen = incident["seen_commit_sha"].as_str();
    let level = incident["level"]
        .as_str()
        .filter(|l| !l.is_empty())
        .unwrap_or("error");
    let count = incident["occurrence_count"].as_i64().unwrap_or(0);
    let last_seen = incident["last_seen_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| ago(t.with_timezone(&Utc), now))
        .unwrap_or_else(|| "at an unknown time".to_owned());
    let mut first = format!(
        "{}{level}: {} [{}, {count} event{}, last seen {last_seen}]",
        location(incident, root),
        summary(incident),
        incident["incident_id"].as_str().unwrap_or("?"),
        if count == 1 { "" } else { "s" },
    );
    if let Some(state) = state_note(incident, seen) {
        first = format!("{first} {state}");
    }
    let mut out = vec![first];
    if frames {
        let in_app = incident["frames"].as_array().into_iter().flatten();
        for f in in_app.filter(|f| f["in_app"] == true && f["file_path"].is_string()) {
            let function = f["function"].as_str().unwrap_or("?");
            let mut line = format!("{}note: in {function}", location(f, root));
            if let Some(state) = state_note(f, seen) {
                line = format!("{line} {state}");
            }
            out.push(line);
        }
    }
    out
}

/// `type: message` on one line (or the message alone).
fn summary(incident: &Value) -> String {
    let message = incident["error_message"].as_str().unwrap_or_default();
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    match incident["error_type"].as_str().filter(|t| !t.is_empty()) {
        Some(t) => format!("{t}: {message}"),
        None => message,
    }
}

/// `path:line:col: `, `path:line: ` or `path: ` as far as it is known; nothing without a path.
fn location(v: &Value, root: Option<&Path>) -> String {
    let Some(path) = v["file_path"].as_str().filter(|p| !p.is_empty()) else {
        return String::new();
    };
    let path = match root {
        Some(r) => r.join(path).display().to_string(),
        None => path.to_owned(),
    };
    let positive = |k: &str| v[k].as_i64().filter(|n| *n > 0);
    match (positive("line_number"), positive("column_number")) {
        (Some(l), Some(c)) => format!("{path}:{l}:{c}: "),
        (Some(l), None) => format!("{path}:{l}: "),
        _ => format!("{path}: "),
    }
}

/// What the line-translation API says of a line that is not the one recorded.
fn state_note(v: &Value, seen: Option<&str>) -> Option<String> {
    let state = v["line_state"].as_str().filter(|s| *s != "unchanged")?;
    let since = seen
        .map(|s| format!(" since {}", short(s)))
        .unwrap_or_default();
    Some(match state {
        "changed" => format!("(line changed{since})"),
        "deleted" => format!("(line deleted{since}; nearest line shown)"),
        "file_deleted" => format!("(file deleted{since})"),
        "unknown" => match seen {
            Some(s) => format!("(line as seen at {}, not translated)", short(s)),
            None => "(line not translated)".to_owned(),
        },
        other => format!("(line {other}{since})"),
    })
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `3m ago`, in the largest whole unit.
fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - then).num_seconds().max(0);
    match s {
        0..60 => format!("{s}s ago"),
        60..3600 => format!("{}m ago", s / 60),
        3600..86400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    fn incident() -> Value {
        json!({
            "incident_id": "inc_abc", "level": "error", "error_type": "ZeroDivisionError",
            "error_message": "division by zero", "file_path": "app/payments.py",
            "line_number": 2, "column_number": 5, "occurrence_count": 3,
            "last_seen_at": "2025-06-01T11:57:00Z",
            "frames": [
                {"file_path": "app/payments.py", "line_number": 2, "column_number": 5, "function": "charge", "in_app": true},
                {"file_path": "lib/site.py", "line_number": 80, "function": "run", "in_app": false},
                {"file_path": "app/main.py", "line_number": 9, "function": "main", "in_app": true}
            ]
        })
    }

    #[test]
    fn an_incident_is_one_compiler_style_line_and_its_frames_are_notes() {
        assert_eq!(
            lines(&incident(), true, None, now()),
            [
                "app/payments.py:2:5: error: ZeroDivisionError: division by zero [inc_abc, 3 events, last seen 3m ago]",
                "app/payments.py:2:5: note: in charge",
                "app/main.py:9: note: in main",
            ]
        );
    }

    #[test]
    fn the_level_missing_parts_and_multiline_messages_keep_one_line() {
        let mut i = incident();
        i["level"] = json!("warning");
        i["error_type"] = Value::Null;
        i["error_message"] = json!("first\n  second\tthird");
        i["column_number"] = Value::Null;
        i["occurrence_count"] = json!(1);
        i["last_seen_at"] = json!("2025-06-01T09:59:00Z");
        assert_eq!(
            lines(&i, false, Some(Path::new("/src/api")), now()),
            ["/src/api/app/payments.py:2: warning: first second third [inc_abc, 1 event, last seen 2h ago]"]
        );
        i["file_path"] = Value::Null;
        assert_eq!(
            lines(&i, false, None, now())[0],
            "warning: first second third [inc_abc, 1 event, last seen 2h ago]"
        );
    }

    #[test]
    fn translated_lines_say_when_they_are_not_the_line_that_threw() {
        let mut i = incident();
        i["seen_commit_sha"] = json!("0123456789abcdef0123456789abcdef01234567");
        i["line_state"] = json!("changed");
        i["frames"][0]["line_state"] = json!("unchanged");
        i["frames"][2]["line_state"] = json!("deleted");
        let l = lines(&i, true, None, now());
        assert!(
            l[0].ends_with("last seen 3m ago] (line changed since 0123456)"),
            "{}",
            l[0]
        );
        assert_eq!(l[1], "app/payments.py:2:5: note: in charge");
        assert_eq!(
            l[2],
            "app/main.py:9: note: in main (line deleted since 0123456; nearest line shown)"
        );
        i["line_state"] = json!("unchanged");
        assert!(lines(&i, false, None, now())[0].ends_with(']'));
        i["line_state"] = json!("unknown");
        assert!(
            lines(&i, false, None, now())[0].ends_with("(line as seen at 0123456, not translated)")
        );
    }

    #[test]
    fn ages_are_in_the_largest_whole_unit() {
        let t = |s: &str| ago(s.parse().unwrap(), now());
        assert_eq!(t("2025-06-01T11:59:30Z"), "30s ago");
        assert_eq!(t("2025-06-01T11:00:01Z"), "59m ago");
        assert_eq!(t("2025-05-30T12:00:00Z"), "2d ago");
        assert_eq!(t("2025-06-01T12:00:10Z"), "0s ago");
    }
}

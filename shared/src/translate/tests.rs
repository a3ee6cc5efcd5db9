//! GitHub's comparison as cairn reads it, and each listed file as a cached row.

use serde_json::json;

use super::cache::FileRow;
use super::pair::across;
use super::{CompareStatus, Comparison};
use crate::linemap::{FileChange, Hunk};

fn file(v: serde_json::Value) -> FileRow {
    FileRow::from_compared(&serde_json::from_value(v).unwrap())
}

#[test]
fn a_comparison_keeps_the_status_merge_base_and_files_github_documents() {
    let c: Comparison = serde_json::from_value(json!({
        "status": "diverged", "ahead_by": 2, "behind_by": 1, "total_commits": 2,
        "merge_base_commit": {"sha": "A".repeat(40), "commit": {"message": "m"}},
        "commits": [{"sha": "b".repeat(40)}],
        "files": [{"sha": "c", "filename": "app/a.py", "status": "modified", "additions": 1,
                   "deletions": 0, "changes": 1, "patch": "@@ -1,0 +2 @@\n+x"}]
    }))
    .unwrap();
    assert_eq!(c.status, CompareStatus::Diverged);
    assert_eq!(c.merge_base_commit, "a".repeat(40));
    assert_eq!(c.files.len(), 1);
    assert!(c.complete());
}

#[test]
fn a_comparison_at_githubs_file_cap_is_incomplete() {
    let files: Vec<_> = (0..300)
        .map(|i| json!({"filename": format!("f{i}"), "status": "added"}))
        .collect();
    let c: Comparison = serde_json::from_value(json!({
        "status": "ahead", "merge_base_commit": {"sha": "a".repeat(40)}, "files": files
    }))
    .unwrap();
    assert!(!c.complete());
}

#[test]
fn each_listed_file_becomes_its_paths_and_its_change() {
    let modified = file(
        json!({"filename": "a.py", "status": "modified", "changes": 2,
        "patch": "@@ -3 +3 @@\n-old\n+new"}),
    );
    assert_eq!(modified.old_path.as_deref(), Some("a.py"));
    assert_eq!(modified.new_path.as_deref(), Some("a.py"));
    assert_eq!(
        modified.change,
        Some(FileChange::Modified {
            hunks: vec![Hunk {
                old_start: 3,
                old_len: 1,
                new_start: 3,
                new_len: 1
            }]
        })
    );
    let added = file(json!({"filename": "b.py", "status": "added", "patch": "@@ -0,0 +1 @@\n+x"}));
    assert_eq!(
        (added.old_path, added.change),
        (None, Some(FileChange::Added))
    );
    let removed = file(json!({"filename": "c.py", "status": "removed"}));
    assert_eq!(
        (removed.new_path, removed.change),
        (None, Some(FileChange::Deleted))
    );
    let copied = file(json!({"filename": "d.py", "previous_filename": "a.py", "status": "copied"}));
    assert_eq!(
        (copied.old_path, copied.change),
        (None, Some(FileChange::Added))
    );
}

#[test]
fn a_pure_rename_needs_no_patch_but_a_file_without_one_is_fetched() {
    let renamed = file(json!({"filename": "new.py", "previous_filename": "old.py",
        "status": "renamed", "changes": 0}));
    assert_eq!(renamed.old_path.as_deref(), Some("old.py"));
    assert_eq!(renamed.new_path.as_deref(), Some("new.py"));
    assert_eq!(renamed.change, Some(FileChange::unchanged()));
    let edited = file(json!({"filename": "new.py", "previous_filename": "old.py",
        "status": "renamed", "changes": 4}));
    assert_eq!(edited.change, None, "renamed with changes but no patch");
    let binary = file(json!({"filename": "logo.png", "status": "modified", "changes": 0}));
    assert_eq!(binary.change, None);
    let garbled = file(json!({"filename": "a.py", "status": "modified", "patch": "@@ nonsense"}));
    assert_eq!(garbled.change, None);
}

#[test]
fn a_file_is_followed_across_a_rename_in_either_direction() {
    let hunks = vec![Hunk {
        old_start: 2,
        old_len: 0,
        new_start: 2,
        new_len: 3,
    }];
    let row = FileRow {
        old_path: Some("old.py".into()),
        new_path: Some("new.py".into()),
        change: Some(FileChange::Modified { hunks }),
    };
    let (path, change) = across(&row, "old.py", false);
    assert_eq!(path, "new.py");
    assert_eq!(change.map_line(5).line, Some(8));
    let (path, change) = across(&row, "new.py", true);
    assert_eq!(path, "old.py");
    assert_eq!(change.map_line(8).line, Some(5));
    let gone = FileRow {
        old_path: Some("x.py".into()),
        new_path: None,
        change: Some(FileChange::Deleted),
    };
    assert_eq!(
        across(&gone, "x.py", false),
        ("x.py".into(), FileChange::Deleted)
    );
}

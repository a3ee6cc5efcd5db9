//! The mapping rules, one test each, on hand-written patches.

use super::*;

fn at(line: u32, state: LineState) -> LineMapping {
    LineMapping {
        line: Some(line),
        state,
    }
}

fn unchanged(line: u32) -> LineMapping {
    at(line, LineState::Unchanged)
}

fn hunks(patch: &str) -> Vec<Hunk> {
    parse_patch(patch).expect("a valid patch")
}

fn hunk(old_start: u32, old_len: u32, new_start: u32, new_len: u32) -> Hunk {
    Hunk {
        old_start,
        old_len,
        new_start,
        new_len,
    }
}

/// Two lines inserted after line 2, with git's three lines of context.
const INSERT_ABOVE: &str = "@@ -1,5 +1,7 @@\n a\n b\n+x\n+y\n c\n d\n e\n";

#[test]
fn a_line_below_an_insertion_moves_down_by_the_inserted_lines() {
    let hunks = hunks(INSERT_ABOVE);
    assert_eq!(hunks, [hunk(3, 0, 3, 2)]);
    assert_eq!(map_line(&hunks, 2), unchanged(2));
    assert_eq!(map_line(&hunks, 3), unchanged(5));
    assert_eq!(map_line(&hunks, 40), unchanged(42));
}

#[test]
fn an_insertion_only_hunk_names_the_line_it_follows_and_leaves_it_in_place() {
    let hunks = hunks("@@ -5,0 +6,2 @@\n+x\n+y\n");
    assert_eq!(hunks, [hunk(6, 0, 6, 2)]);
    assert_eq!(map_line(&hunks, 5), unchanged(5));
    assert_eq!(map_line(&hunks, 6), unchanged(8));
}

#[test]
fn an_edited_line_is_changed_at_the_same_offset_in_its_hunk() {
    let hunks = hunks("@@ -9,4 +9,5 @@ fn main() {\n a\n-b\n-c\n+B\n+C\n+D\n e\n");
    assert_eq!(hunks, [hunk(10, 2, 10, 3)]);
    assert_eq!(map_line(&hunks, 10), at(10, LineState::Changed));
    assert_eq!(map_line(&hunks, 11), at(11, LineState::Changed));
    assert_eq!(map_line(&hunks, 12), unchanged(13));
}

#[test]
fn a_change_that_loses_lines_maps_its_extra_lines_to_its_last_new_line() {
    let hunks = hunks("@@ -3,3 +3 @@\n-a\n-b\n-c\n+abc\n");
    assert_eq!(map_line(&hunks, 5), at(3, LineState::Changed));
    assert_eq!(map_line(&hunks, 6), unchanged(4));
}

#[test]
fn a_header_without_counts_means_one_line() {
    let hunks = hunks("@@ -3 +3 @@\n-old\n+new\n");
    assert_eq!(hunks, [hunk(3, 1, 3, 1)]);
    assert_eq!(map_line(&hunks, 3), at(3, LineState::Changed));
}

#[test]
fn a_deleted_line_points_at_the_surviving_line_above_the_gap() {
    let hunks = hunks("@@ -9,2 +8,0 @@\n-a\n-b\n");
    assert_eq!(hunks, [hunk(9, 2, 9, 0)]);
    assert_eq!(map_line(&hunks, 9), at(8, LineState::Deleted));
    assert_eq!(map_line(&hunks, 10), at(8, LineState::Deleted));
    assert_eq!(map_line(&hunks, 11), unchanged(9));
}

#[test]
fn a_deletion_at_the_top_of_the_file_points_at_line_one() {
    let hunks = hunks("@@ -1,2 +0,0 @@\n-a\n-b\n");
    assert_eq!(map_line(&hunks, 1), at(1, LineState::Deleted));
    assert_eq!(map_line(&hunks, 3), unchanged(1));
}

#[test]
fn a_deletion_ending_a_hunk_is_deleted_not_changed() {
    // An edit, context, then a removal with nothing added before the hunk ends (end of file).
    let patch = "@@ -1,6 +1,4 @@\n-a\n+A\n b\n c\n d\n-e\n-f\n";
    let hunks = hunks(patch);
    assert_eq!(hunks, [hunk(1, 1, 1, 1), hunk(5, 2, 5, 0)]);
    assert_eq!(map_line(&hunks, 1), at(1, LineState::Changed));
    assert_eq!(map_line(&hunks, 6), at(4, LineState::Deleted));
}

#[test]
fn a_context_line_inside_a_hunk_is_unchanged() {
    let hunks = hunks("@@ -2,5 +2,6 @@\n-a\n+A\n+A2\n b\n c\n-d\n+D\n e\n");
    assert_eq!(map_line(&hunks, 3), unchanged(4));
    assert_eq!(map_line(&hunks, 4), unchanged(5));
    assert_eq!(map_line(&hunks, 5), at(6, LineState::Changed));
    assert_eq!(map_line(&hunks, 6), unchanged(7));
}

#[test]
fn lines_between_and_after_hunks_move_by_the_hunks_above_them_only() {
    let patch = "@@ -2,0 +3,3 @@\n+x\n+y\n+z\n@@ -20,2 +23 @@\n-a\n-b\n+ab\n";
    let hunks = hunks(patch);
    assert_eq!(map_line(&hunks, 2), unchanged(2));
    assert_eq!(map_line(&hunks, 10), unchanged(13));
    assert_eq!(map_line(&hunks, 21), at(23, LineState::Changed));
    assert_eq!(map_line(&hunks, 22), unchanged(24));
}

#[test]
fn a_newline_added_at_the_end_of_the_file_leaves_the_last_line_unchanged() {
    let appended = "@@ -2,2 +2,3 @@\n b\n-c\n\\ No newline at end of file\n+c\n+d\n";
    assert_eq!(hunks(appended), [hunk(4, 0, 4, 1)]);
    assert_eq!(map_line(&hunks(appended), 3), unchanged(3));
    let edited = "@@ -3 +3 @@\n-c\n\\ No newline at end of file\n+C\n\\ No newline at end of file";
    assert_eq!(map_line(&hunks(edited), 3), at(3, LineState::Changed));
}

#[test]
fn git_diff_headers_before_the_first_hunk_are_skipped() {
    let patch = "diff --git a/f.py b/g.py\nsimilarity index 90%\nrename from f.py\n\
                 rename to g.py\nindex 1..2 100644\n--- a/f.py\n+++ b/g.py\n"
        .to_owned()
        + INSERT_ABOVE;
    assert_eq!(hunks(&patch), hunks(INSERT_ABOVE));
}

#[test]
fn an_empty_patch_moves_nothing() {
    assert_eq!(hunks(""), []);
    assert_eq!(FileChange::unchanged().map_line(7), unchanged(7));
}

#[test]
fn malformed_patches_are_refused_with_the_offending_line() {
    let cases = [
        ("@@ -1,2 +1,2\n a\n b\n", PatchError::BadHeader { line: 1 }),
        (
            "@@ -0,2 +1,2 @@\n a\n b\n",
            PatchError::BadHeader { line: 1 },
        ),
        ("@@ -+1 +1 @@\n a\n", PatchError::BadHeader { line: 1 }),
        ("@@@ -1 -1 +1 @@@\n a\n", PatchError::BadHeader { line: 1 }),
        (
            "@@ -1,3 +1,3 @@\n a\n b\n",
            PatchError::Truncated { line: 1 },
        ),
        (
            "@@ -1,2 +1,2 @@\n a\n*b\n",
            PatchError::UnexpectedLine { line: 3 },
        ),
        (
            "@@ -1 +1 @@\n-a\n-b\n",
            PatchError::UnexpectedLine { line: 3 },
        ),
        (
            "@@ -1 +1 @@\n a\ndiff --git a/g b/g\n",
            PatchError::UnexpectedLine { line: 3 },
        ),
        (
            "@@ -5 +5 @@\n a\n@@ -4 +4 @@\n b\n",
            PatchError::OutOfOrder { line: 3 },
        ),
        (
            "@@ -1 +1,2 @@\n a\n+b\n@@ -9 +9 @@\n c\n",
            PatchError::Inconsistent { line: 4 },
        ),
    ];
    for (patch, error) in cases {
        assert_eq!(parse_patch(patch), Err(error), "{patch:?}");
    }
}

#[test]
fn an_inverted_diff_maps_the_new_lines_back() {
    let forward = hunks("@@ -2,0 +3,2 @@\n+x\n+y\n@@ -5 +7 @@\n-e\n+E\n");
    let back = invert(&forward);
    assert_eq!(invert(&back), forward);
    assert_eq!(map_line(&back, 5), unchanged(3));
    assert_eq!(map_line(&back, 3), at(2, LineState::Deleted));
    assert_eq!(map_line(&back, 7), at(5, LineState::Changed));
}

#[test]
fn composing_maps_through_each_diff_and_keeps_the_worse_state() {
    let first = FileChange::from_patch("@@ -1 +1 @@\n-a\n+A\n").unwrap();
    let second = FileChange::from_patch("@@ -0,0 +1 @@\n+top\n").unwrap();
    let steps = [first.clone(), second.clone()];
    assert_eq!(map_through(&steps, 1), at(2, LineState::Changed));
    assert_eq!(map_through(&steps, 4), unchanged(5));
    let gone = [second, FileChange::Deleted, first];
    assert_eq!(map_through(&gone, 4), LineMapping::FILE_DELETED);
    assert_eq!(map_through(&[], 4), unchanged(4));
    assert_eq!(map_through(&[], 0), LineMapping::UNKNOWN);
}

#[test]
fn file_level_changes_map_every_line_alike() {
    assert_eq!(FileChange::Deleted.map_line(3), LineMapping::FILE_DELETED);
    assert_eq!(FileChange::Added.inverse(), FileChange::Deleted);
    assert_eq!(FileChange::Deleted.inverse(), FileChange::Added);
    assert_eq!(FileChange::Added.map_line(3), LineMapping::UNKNOWN);
}

#[test]
fn line_zero_is_unknown() {
    assert_eq!(map_line(&[], 0), LineMapping::UNKNOWN);
}

#[test]
fn columns_are_kept_only_on_unchanged_lines() {
    assert_eq!(unchanged(3).column(Some(7)), Some(7));
    assert_eq!(at(3, LineState::Changed).column(Some(7)), None);
    assert_eq!(at(3, LineState::Deleted).column(Some(7)), None);
    assert_eq!(LineMapping::UNKNOWN.column(Some(7)), None);
}

#[test]
fn states_and_changes_serialise_as_the_api_and_cache_spell_them() {
    let states = [
        LineState::Unchanged,
        LineState::Changed,
        LineState::Deleted,
        LineState::FileDeleted,
        LineState::Unknown,
    ];
    for state in states {
        assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
    }
    let change = FileChange::Modified {
        hunks: vec![hunk(6, 0, 6, 2)],
    };
    let json = serde_json::json!({"status": "modified", "hunks": [
        {"old_start": 6, "old_len": 0, "new_start": 6, "new_len": 2}]});
    assert_eq!(serde_json::to_value(&change).unwrap(), json);
    assert_eq!(serde_json::from_value::<FileChange>(json).unwrap(), change);
    let deleted = serde_json::json!({"status": "deleted"});
    assert_eq!(serde_json::to_value(FileChange::Deleted).unwrap(), deleted);
}

#[test]
fn the_fallback_finds_the_hunks_git_prints() {
    let old = "a\nb\nc\nd\ne\nf\n";
    let new = "a\nx\ny\nb\nc\nD\ne\n";
    // `git diff -U0` of these two files.
    let git = "@@ -1,0 +2,2 @@\n+x\n+y\n@@ -4 +6 @@\n-d\n+D\n@@ -6 +7,0 @@\n-f\n";
    assert_eq!(diff_texts(old, new), hunks(git));
    assert_eq!(diff_texts("c", "c\nd\n"), [hunk(2, 0, 2, 1)]);
    assert_eq!(diff_texts("", ""), []);
}

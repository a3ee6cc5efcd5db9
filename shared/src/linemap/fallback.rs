//! The in-process diff, for a file GitHub lists without a patch or a comparison past GitHub's
//! 300-file cap: both versions of the file in, the same hunks as [`super::parse_patch`] out.

use similar::{capture_diff_slices, Algorithm, DiffTag};

use super::Hunk;

/// The hunks turning `old` into `new`, line by line.
///
/// Lines are compared without their `\n` (a `\r` stays part of the line, as in git), so a
/// newline added or removed at the end of the file moves nothing, as [`super::parse_patch`]
/// reads git's `\ No newline at end of file`. The algorithm is `similar`'s Myers with git's
/// bounded search, so a huge rewrite costs bounded time (and may come out coarser than git's).
/// Where a diff is ambiguous (a duplicated line inserted) it may pick another copy than git
/// does; unchanged lines still land on identical text.
pub fn diff_texts(old: &str, new: &str) -> Vec<Hunk> {
    let old: Vec<&str> = old.split_terminator('\n').collect();
    let new: Vec<&str> = new.split_terminator('\n').collect();
    let number = |index: usize| u32::try_from(index).unwrap_or(u32::MAX);
    let mut hunks: Vec<Hunk> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &old, &new) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            continue;
        }
        let hunk = Hunk {
            old_start: number(old_range.start).saturating_add(1),
            old_len: number(old_range.len()),
            new_start: number(new_range.start).saturating_add(1),
            new_len: number(new_range.len()),
        };
        // A deletion right before an insertion is one change.
        match hunks.last_mut() {
            Some(last)
                if last.old_start + last.old_len == hunk.old_start
                    && last.new_start + last.new_len == hunk.new_start =>
            {
                last.old_len += hunk.old_len;
                last.new_len += hunk.new_len;
            }
            _ => hunks.push(hunk),
        }
    }
    hunks
}

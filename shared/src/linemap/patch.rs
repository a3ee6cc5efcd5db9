//! Reading one file's unified diff (GitHub's per-file `patch`, or `git diff` output for one
//! file) into context-free [`Hunk`]s.

use super::Hunk;

/// Why a patch could not be read; `line` is the 1-based line of the patch text. The caller
/// falls back to diffing both versions of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("patch line {line}: malformed hunk header")]
    BadHeader { line: usize },
    #[error("patch line {line}: not a context, removed, added or no-newline line")]
    UnexpectedLine { line: usize },
    #[error("patch line {line}: the hunk ends before its header's line counts")]
    Truncated { line: usize },
    #[error("patch line {line}: the hunk overlaps or precedes the previous one")]
    OutOfOrder { line: usize },
    #[error("patch line {line}: the hunk's new start disagrees with the hunks above it")]
    Inconsistent { line: usize },
}

/// Reads the hunks of one file's unified diff, any context size (`-U3` as GitHub sends,
/// `-U0` as an editor may run), headers `@@ -a,b +c,d @@` with counts omitted when 1.
///
/// - Lines before the first hunk header (`diff --git`, `index`, `---`, `+++`, `rename from`)
///   are skipped, so `git diff` output for a single file is read as is; after it, only hunks
///   and blank lines may follow.
/// - `\ No newline at end of file` is skipped. Lines whose text is identical on both sides of
///   one change (only git's way of showing that a newline was added or removed at the end of
///   the file) are paired as unchanged, as [`super::diff_texts`] does.
/// - Each run of removed and added lines between context lines becomes one [`Hunk`].
/// - Every header is checked against the hunks before it; an empty patch has no hunks.
pub fn parse_patch(patch: &str) -> Result<Vec<Hunk>, PatchError> {
    let mut lines = patch
        .split_terminator('\n')
        .enumerate()
        .map(|(i, text)| (i + 1, text))
        .peekable();
    let mut hunks = Vec::new();
    let mut in_preamble = true;
    let mut old_next = 1u32; // the first old line not covered by a previous hunk
    let mut delta = 0i64; // new minus old numbering below the previous hunk
    while let Some((number, line)) = lines.next() {
        if !line.starts_with("@@") {
            if in_preamble || line.is_empty() {
                continue;
            }
            return Err(PatchError::UnexpectedLine { line: number });
        }
        in_preamble = false;
        let header_line = number;
        let header = Header::parse(line).ok_or(PatchError::BadHeader { line: header_line })?;
        if header.old_start < old_next {
            return Err(PatchError::OutOfOrder { line: header_line });
        }
        if i64::from(header.new_start) != i64::from(header.old_start) + delta {
            return Err(PatchError::Inconsistent { line: header_line });
        }
        let mut run = Run::at(header.old_start, header.new_start);
        let (mut old_left, mut new_left) = (header.old_len, header.new_len);
        while old_left > 0 || new_left > 0 {
            let truncated = PatchError::Truncated { line: header_line };
            let (number, body) = lines.next().ok_or(truncated)?;
            let unexpected = PatchError::UnexpectedLine { line: number };
            match body.as_bytes().first() {
                // Some tools strip the space of an empty context line.
                Some(b' ') | None if old_left > 0 && new_left > 0 => {
                    run.flush(&mut hunks);
                    run.old_start += 1;
                    run.new_start += 1;
                    old_left -= 1;
                    new_left -= 1;
                }
                Some(b'-') if old_left > 0 => {
                    run.removed.push(&body[1..]);
                    old_left -= 1;
                }
                Some(b'+') if new_left > 0 => {
                    run.added.push(&body[1..]);
                    new_left -= 1;
                }
                Some(b'\\') => {}
                _ => return Err(unexpected),
            }
        }
        while lines.next_if(|(_, l)| l.starts_with('\\')).is_some() {}
        run.flush(&mut hunks);
        old_next = header.old_start + header.old_len;
        delta = i64::from(header.new_start) + i64::from(header.new_len) - i64::from(old_next);
    }
    Ok(hunks)
}

/// A hunk header's ranges, starts in [`Hunk`]'s convention (an empty side starts at the line
/// after the gap).
struct Header {
    old_start: u32,
    old_len: u32,
    new_start: u32,
    new_len: u32,
}

impl Header {
    fn parse(line: &str) -> Option<Self> {
        let rest = line.strip_prefix("@@ -")?;
        let (ranges, _section) = rest.split_once(" @@")?;
        let (old, new) = ranges.split_once(" +")?;
        let (old_start, old_len) = range(old)?;
        let (new_start, new_len) = range(new)?;
        // The ends must be representable too.
        old_start.checked_add(old_len)?;
        new_start.checked_add(new_len)?;
        Some(Self {
            old_start,
            old_len,
            new_start,
            new_len,
        })
    }
}

/// `start[,len]` (len 1 when omitted), the start moved past the gap for an empty range.
fn range(text: &str) -> Option<(u32, u32)> {
    let (start, len) = text.split_once(',').unwrap_or((text, "1"));
    let number = |s: &str| {
        let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| s.parse::<u32>().ok()).flatten()
    };
    let (start, len) = (number(start)?, number(len)?);
    match len {
        0 => Some((start.checked_add(1)?, 0)),
        _ if start == 0 => None,
        _ => Some((start, len)),
    }
}

/// The removed and added lines since the last context line, and where they start.
struct Run<'a> {
    old_start: u32,
    new_start: u32,
    removed: Vec<&'a str>,
    added: Vec<&'a str>,
}

impl<'a> Run<'a> {
    fn at(old_start: u32, new_start: u32) -> Self {
        Self {
            old_start,
            new_start,
            removed: Vec::new(),
            added: Vec::new(),
        }
    }

    /// Emits the run as a hunk, less the identical lines at its ends, and starts a new one
    /// right after it.
    fn flush(&mut self, hunks: &mut Vec<Hunk>) {
        let (removed, added) = (&self.removed, &self.added);
        let prefix = removed
            .iter()
            .zip(added)
            .take_while(|(a, b)| a == b)
            .count();
        let suffix = removed[prefix..]
            .iter()
            .rev()
            .zip(added[prefix..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        let (old_len, new_len) = (
            removed.len() - prefix - suffix,
            added.len() - prefix - suffix,
        );
        if old_len > 0 || new_len > 0 {
            // Within the header's counts, which are u32.
            let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
            hunks.push(Hunk {
                old_start: self.old_start + n(prefix),
                old_len: n(old_len),
                new_start: self.new_start + n(prefix),
                new_len: n(new_len),
            });
        }
        self.old_start += u32::try_from(removed.len()).unwrap_or(u32::MAX);
        self.new_start += u32::try_from(added.len()).unwrap_or(u32::MAX);
        self.removed.clear();
        self.added.clear();
    }
}

//! The shared vectors (`tests/linemap/vectors.json`, real `git diff` output, also read by the
//! editor clients' ports) and properties of the fallback diff on random edits.

use serde::Deserialize;

use super::*;

const VECTORS: &str = include_str!("../../../tests/linemap/vectors.json");

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    op: String,
    patches: Vec<FilePatch>,
    checks: Vec<Check>,
}

/// One entry of GitHub's compare `files[]`, as far as the mapping cares.
#[derive(Deserialize)]
struct FilePatch {
    status: String,
    patch: String,
}

#[derive(Deserialize)]
struct Check {
    line: u32,
    expected: LineMapping,
}

fn file_change(case: &str, file: &FilePatch) -> FileChange {
    match file.status.as_str() {
        "removed" => FileChange::Deleted,
        "added" => FileChange::Added,
        _ => FileChange::from_patch(&file.patch).unwrap_or_else(|e| panic!("{case}: {e}")),
    }
}

#[test]
fn every_vector_maps_its_lines_where_git_put_them() {
    let vectors: Vectors = serde_json::from_str(VECTORS).expect("vectors.json parses");
    assert!(vectors.cases.len() >= 30, "the vectors were truncated");
    for case in &vectors.cases {
        let changes: Vec<FileChange> = case
            .patches
            .iter()
            .map(|file| file_change(&case.name, file))
            .collect();
        let steps = match (case.op.as_str(), changes.as_slice()) {
            ("forward", [change]) => vec![change.clone()],
            ("inverse", [change]) => vec![change.inverse()],
            ("compose", [to_base, to_head]) => vec![to_base.inverse(), to_head.clone()],
            (op, _) => panic!("{}: op {op} with {} patches", case.name, changes.len()),
        };
        for check in &case.checks {
            let got = map_through(&steps, check.line);
            assert_eq!(got, check.expected, "{} line {}", case.name, check.line);
        }
    }
}

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// A few lines from a tiny alphabet, so that duplicates make the diff ambiguous.
fn random_rows(rng: &mut Rng) -> Vec<&'static str> {
    const ALPHABET: [&str; 6] = ["a", "b", "c", "d", "", "}"];
    (0..rng.below(12)).map(|_| ALPHABET[rng.below(6)]).collect()
}

fn random_edit(rng: &mut Rng, rows: &[&'static str]) -> Vec<&'static str> {
    let mut rows = rows.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(rows.len() + 1);
        let line = ["x", "a", "b", ""][rng.below(4)];
        match rng.below(3) {
            0 => rows.insert(at, line),
            _ if at == rows.len() => {}
            1 => {
                rows.remove(at);
            }
            _ => rows[at] = line,
        }
    }
    rows
}

fn text(rng: &mut Rng, rows: &[&str]) -> String {
    // Without its newline, a last empty row would not be a line at all.
    let newline_at_end = rows
        .last()
        .is_some_and(|row| row.is_empty() || rng.below(4) > 0);
    rows.join("\n") + if newline_at_end { "\n" } else { "" }
}

/// Renders hunks as `git diff -U0` would, to check that the reader reads them back.
fn render_u0(old: &[&str], new: &[&str], hunks: &[Hunk]) -> String {
    let side = |start: u32, len: u32| match len {
        0 => format!("{},0", start - 1),
        1 => start.to_string(),
        _ => format!("{start},{len}"),
    };
    let mut out = String::new();
    for h in hunks {
        let header = (side(h.old_start, h.old_len), side(h.new_start, h.new_len));
        out += &format!("@@ -{} +{} @@\n", header.0, header.1);
        let (o, n) = ((h.old_start - 1) as usize, (h.new_start - 1) as usize);
        for row in &old[o..o + h.old_len as usize] {
            out += &format!("-{row}\n");
        }
        for row in &new[n..n + h.new_len as usize] {
            out += &format!("+{row}\n");
        }
    }
    out
}

#[test]
fn on_random_edits_unchanged_lines_land_on_identical_text() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..3000 {
        let old = random_rows(&mut rng);
        let new = random_edit(&mut rng, &old);
        let (old_text, new_text) = (text(&mut rng, &old), text(&mut rng, &new));
        let hunks = diff_texts(&old_text, &new_text);
        let back = invert(&hunks);
        let context = format!("round {round}: {old_text:?} -> {new_text:?}: {hunks:?}");
        assert_eq!(
            parse_patch(&render_u0(&old, &new, &hunks)),
            Ok(hunks.clone())
        );
        let mut previous = 0;
        for line in 1..=old.len() as u32 {
            let mapped = map_line(&hunks, line);
            let to = mapped.line.expect("a line") as usize;
            match mapped.state {
                LineState::Unchanged => {
                    assert_eq!(new[to - 1], old[line as usize - 1], "{context}");
                    assert!(to > previous, "order kept: {context}");
                    previous = to;
                    assert_eq!(map_line(&back, to as u32).line, Some(line), "{context}");
                }
                LineState::Changed => assert!(to <= new.len(), "{context}"),
                LineState::Deleted => assert!(to <= new.len().max(1), "{context}"),
                _ => panic!("{context}: {mapped:?}"),
            }
        }
    }
}

#[test]
fn on_random_diverged_edits_unchanged_lines_land_on_identical_text() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for round in 0..3000 {
        let merge_base = random_rows(&mut rng);
        let (base, head) = (
            random_edit(&mut rng, &merge_base),
            random_edit(&mut rng, &merge_base),
        );
        let texts = [&merge_base, &base, &head].map(|rows| text(&mut rng, rows));
        let steps = [
            FileChange::from_texts(&texts[0], &texts[1]).inverse(),
            FileChange::from_texts(&texts[0], &texts[2]),
        ];
        for line in 1..=base.len() as u32 {
            let mapped = map_through(&steps, line);
            if mapped.state == LineState::Unchanged {
                let to = mapped.line.expect("a line") as usize;
                assert_eq!(
                    head[to - 1],
                    base[line as usize - 1],
                    "round {round}: {texts:?}"
                );
            }
        }
    }
}

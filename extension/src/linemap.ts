// Where a line of one version of a file is in another: the hunk-mapping rules the server uses to
// translate production's lines to the checkout (issue 20), ported for the editor's own "edits
// since HEAD" (`git diff HEAD -- file`, then every live edit). Pure: no `vscode`.
//
// Rules (shared with the server's test vectors, tests/linemap/vectors.json):
// - hunks are walked in order, each one before the line shifting it by `newLines - oldLines`;
// - `@@ -5,0 +6,2 @@` (no old lines) inserts after old line 5: lines up to 5 stay put;
// - a line inside a hunk: a context line is `unchanged` at its new number; the i-th removed line
//   of a change block (removed lines followed by added lines) is `changed`, at the block's i-th
//   added line (its last one when fewer were added); a removed line with no added line after it
//   in its block is `deleted`, at the surviving line just above the gap (line 1 at the start);
// - a removed and an added line with the same text at the start or end of a change block are
//   paired as context (`unchanged`), so `-U0` and `-U3` patches give the same answers;
// - inverted diffs swap the two sides; composed diffs map through each in turn, and a `changed`
//   or `deleted` from any step wins over `unchanged` (`deleted` over `changed`).

/** How a line fared between two versions. */
export type LineState = 'unchanged' | 'changed' | 'deleted';

/** A line's place in the new version (1-based) and how it fared. */
export interface Mapped {
  line: number;
  state: LineState;
}

/** A run of a hunk's body: context lines, or removed lines followed by added lines. */
export type Segment = { kind: 'context'; count: number } | { kind: 'change'; removed: number; added: number };

/** One `@@ -oldStart,oldLines +newStart,newLines @@` hunk with its body as segments. */
export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  segments: Segment[];
}

/** One file of a `git diff`. */
export interface FileDiff {
  oldPath: string | null;
  newPath: string | null;
  hunks: Hunk[];
}

const HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** A hunk whose body is not known (a live edit): every old line replaced by every new line. */
export function hunk(oldStart: number, oldLines: number, newStart: number, newLines: number): Hunk {
  const segments: Segment[] = oldLines + newLines > 0 ? [{ kind: 'change', removed: oldLines, added: newLines }] : [];
  return { oldStart, oldLines, newStart, newLines, segments };
}

/** Parses the hunks of one file's patch (the text from the first `@@` on, as GitHub's `patch`). */
export function parseHunks(patch: string): Hunk[] {
  const at = patch.indexOf('@@');
  return at < 0 ? [] : (parseGitDiff(patch.slice(at))[0]?.hunks ?? []);
}

/** Parses `git diff` output (any context size, several files, renames, additions, deletions). */
export function parseGitDiff(text: string): FileDiff[] {
  const files: FileDiff[] = [];
  let file: FileDiff | undefined;
  let current: Hunk | undefined;
  const texts = new Map<Segment, { removed: string[]; added: string[] }>();
  const push = (seg: 'context' | '-' | '+', text: string) => {
    if (!current) return;
    const last = current.segments[current.segments.length - 1];
    if (seg === 'context') {
      if (last?.kind === 'context') last.count++;
      else current.segments.push({ kind: 'context', count: 1 });
    } else if (last?.kind === 'change') {
      // `-` and `+` lines between two context lines are one change, in whatever order.
      if (seg === '-') last.removed++;
      else last.added++;
      texts.get(last)![seg === '-' ? 'removed' : 'added'].push(text);
    } else {
      const s: Segment = { kind: 'change', removed: seg === '-' ? 1 : 0, added: seg === '+' ? 1 : 0 };
      texts.set(s, { removed: seg === '-' ? [text] : [], added: seg === '+' ? [text] : [] });
      current.segments.push(s);
    }
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.startsWith('diff --git ')) {
      file = { oldPath: null, newPath: null, hunks: [] };
      files.push(file);
      current = undefined;
      const m = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
      if (m) [file.oldPath, file.newPath] = [m[1]!, m[2]!];
      continue;
    }
    const h = HEADER.exec(line);
    if (h) {
      if (!file) {
        file = { oldPath: null, newPath: null, hunks: [] };
        files.push(file);
      }
      current = {
        oldStart: Number(h[1]),
        oldLines: h[2] === undefined ? 1 : Number(h[2]),
        newStart: Number(h[3]),
        newLines: h[4] === undefined ? 1 : Number(h[4]),
        segments: [],
      };
      file.hunks.push(current);
      continue;
    }
    if (current) {
      const c = line[0];
      if (c === ' ' || (line === '' && i < lines.length - 1 && bodyRemaining(current) > 0)) push('context', '');
      else if (c === '-') push('-', line.slice(1));
      else if (c === '+') push('+', line.slice(1));
      else if (c === '\\') continue; // "\ No newline at end of file"
      else current = undefined;
      if (current && bodyRemaining(current) === 0) current = undefined;
      continue;
    }
    if (!file) continue;
    if (line.startsWith('--- ')) file.oldPath = line === '--- /dev/null' ? null : stripPrefix(line.slice(4));
    else if (line.startsWith('+++ ')) file.newPath = line === '+++ /dev/null' ? null : stripPrefix(line.slice(4));
    else if (line.startsWith('rename from ')) file.oldPath = line.slice('rename from '.length);
    else if (line.startsWith('rename to ')) file.newPath = line.slice('rename to '.length);
    else if (line.startsWith('new file mode')) file.oldPath = null;
    else if (line.startsWith('deleted file mode')) file.newPath = null;
  }
  for (const f of files) for (const h of f.hunks) h.segments = pairEqualEdges(h.segments, texts);
  return files;
}

/** Splits each change's leading and trailing removed/added pairs of equal text off as context. */
function pairEqualEdges(segments: Segment[], texts: Map<Segment, { removed: string[]; added: string[] }>): Segment[] {
  const out: Segment[] = [];
  const context = (n: number) => {
    if (n === 0) return;
    const last = out[out.length - 1];
    if (last?.kind === 'context') last.count += n;
    else out.push({ kind: 'context', count: n });
  };
  for (const s of segments) {
    const t = s.kind === 'change' ? texts.get(s) : undefined;
    if (s.kind === 'context' || !t) {
      if (s.kind === 'context') context(s.count);
      else out.push(s);
      continue;
    }
    let head = 0;
    while (head < s.removed && head < s.added && t.removed[head] === t.added[head]) head++;
    let tail = 0;
    while (tail < s.removed - head && tail < s.added - head && t.removed[s.removed - 1 - tail] === t.added[s.added - 1 - tail]) tail++;
    context(head);
    if (s.removed - head - tail + (s.added - head - tail) > 0) out.push({ kind: 'change', removed: s.removed - head - tail, added: s.added - head - tail });
    context(tail);
  }
  return out;
}

function stripPrefix(p: string): string {
  return p.replace(/^[ab]\//, '');
}

/** How many body lines (old plus new, context counted once) the hunk still expects. */
function bodyRemaining(h: Hunk): number {
  let old = 0;
  let neu = 0;
  for (const s of h.segments) {
    if (s.kind === 'context') {
      old += s.count;
      neu += s.count;
    } else {
      old += s.removed;
      neu += s.added;
    }
  }
  return h.oldLines - old + (h.newLines - neu);
}

/** Where old line `line` (1-based) of a file is after the hunks (in order) are applied. */
export function mapLine(hunks: readonly Hunk[], line: number): Mapped {
  let delta = 0;
  for (const h of hunks) {
    if (h.oldLines === 0) {
      // A pure insertion after old line `oldStart`.
      if (line <= h.oldStart) break;
      delta += h.newLines;
      continue;
    }
    if (line < h.oldStart) break;
    if (line >= h.oldStart + h.oldLines) {
      delta += h.newLines - h.oldLines;
      continue;
    }
    return walk(h, line);
  }
  return { line: line + delta, state: 'unchanged' };
}

function walk(h: Hunk, line: number): Mapped {
  let old = h.oldStart;
  let neu = h.newLines === 0 ? h.newStart + 1 : h.newStart;
  for (const s of h.segments) {
    if (s.kind === 'context') {
      if (line < old + s.count) return { line: neu + (line - old), state: 'unchanged' };
      old += s.count;
      neu += s.count;
      continue;
    }
    if (line < old + s.removed) {
      const i = line - old;
      if (s.added > 0) return { line: neu + Math.min(i, s.added - 1), state: 'changed' };
      return { line: Math.max(1, neu - 1), state: 'deleted' };
    }
    old += s.removed;
    neu += s.added;
  }
  // A body shorter than its header (a malformed patch): keep the hunk's overall shift.
  return { line: line + (h.newLines - h.oldLines), state: 'changed' };
}

/** The same diff read backwards (new → old). */
export function invert(hunks: readonly Hunk[]): Hunk[] {
  return hunks.map((h) => ({
    oldStart: h.newStart,
    oldLines: h.newLines,
    newStart: h.oldStart,
    newLines: h.oldLines,
    segments: h.segments.map((s) => (s.kind === 'context' ? { ...s } : { kind: 'change', removed: s.added, added: s.removed })),
  }));
}

const RANK: Record<LineState, number> = { unchanged: 0, changed: 1, deleted: 2 };

/** Maps through several diffs in turn (e.g. HEAD → disk, then each live edit). */
export function mapThrough(steps: readonly (readonly Hunk[])[], line: number): Mapped {
  let out: Mapped = { line, state: 'unchanged' };
  for (const step of steps) {
    const next = mapLine(step, out.line);
    out = { line: next.line, state: RANK[next.state] > RANK[out.state] ? next.state : out.state };
  }
  return out;
}

/** A change to a document: a range (0-based lines and characters, end exclusive) and its new text. */
export interface TextChange {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  text: string;
}

/**
 * Applies one edit to a document's lines, returning the new lines and the edit as one minimal
 * hunk (lines equal before and after are trimmed from both ends, so typing Enter at the start of
 * a line is an insertion above it, not a change of it), or no hunk when no line changed.
 */
export function applyChange(lines: readonly string[], c: TextChange): { lines: string[]; hunks: Hunk[] } {
  const first = lines[c.startLine] ?? '';
  const last = lines[c.endLine] ?? '';
  const replaced = (first.slice(0, c.startCharacter) + c.text + last.slice(c.endCharacter)).split(/\r\n|\r|\n/);
  const oldRegion = lines.slice(c.startLine, c.endLine + 1);
  const next = [...lines.slice(0, c.startLine), ...replaced, ...lines.slice(c.endLine + 1)];
  let head = 0;
  while (head < oldRegion.length && head < replaced.length && oldRegion[head] === replaced[head]) head++;
  let tail = 0;
  while (
    tail < oldRegion.length - head &&
    tail < replaced.length - head &&
    oldRegion[oldRegion.length - 1 - tail] === replaced[replaced.length - 1 - tail]
  ) {
    tail++;
  }
  const removed = oldRegion.length - head - tail;
  const added = replaced.length - head - tail;
  if (removed === 0 && added === 0) return { lines: next, hunks: [] };
  const start = c.startLine + head + 1; // 1-based first differing line
  // Unified-diff convention: an empty side's start is the line before it.
  return { lines: next, hunks: [hunk(removed === 0 ? start - 1 : start, removed, added === 0 ? start - 1 : start, added)] };
}

/** How a line fared across commits: the hunk states, or its file gone. */
export type CommitLineState = LineState | 'file_deleted';

/** One file entry of a comparison, as GitHub's compare API lists it. */
export interface FilePatch {
  status: string;
  patch: string;
}

/**
 * Where base line `line` is at the head, given the comparison's patches of its file (the
 * server's translation, issue 20): `forward` (head descends from base: one patch base → head),
 * `inverse` (head is behind: one patch head → base, read backwards) or `compose` (diverged:
 * merge base → base read backwards, then merge base → head). A file removed on the way (or
 * added, read backwards) is `file_deleted`; the worst state of the steps wins.
 */
export function mapAcross(op: 'forward' | 'inverse' | 'compose', patches: readonly FilePatch[], line: number): { line: number | null; state: CommitLineState } {
  const steps: { patch: FilePatch; backwards: boolean }[] =
    op === 'forward'
      ? [{ patch: patches[0]!, backwards: false }]
      : op === 'inverse'
        ? [{ patch: patches[0]!, backwards: true }]
        : [
            { patch: patches[0]!, backwards: true },
            { patch: patches[1]!, backwards: false },
          ];
  const hunks: Hunk[][] = [];
  for (const { patch, backwards } of steps) {
    if (patch.status === (backwards ? 'added' : 'removed')) return { line: null, state: 'file_deleted' };
    const h = parseHunks(patch.patch);
    hunks.push(backwards ? invert(h) : h);
  }
  return mapThrough(hunks, line);
}

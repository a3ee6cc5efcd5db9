// The hunk mapping against real `git diff` output of a real repository: every expected line is
// found in the files themselves (each line's text is unique), never written down by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyChange, invert, mapAcross, mapLine, mapThrough, parseGitDiff, parseHunks, type FilePatch, type Hunk, type Mapped } from '../../src/linemap';

const v1 = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);

/** v2: two lines inserted above 5, 10 edited, 20 deleted, 30–31 deleted (ending a hunk), 34–35 replaced by three, two lines appended. */
function edit(lines: string[]): { v2: string[]; changed: Map<string, string> } {
  const out: string[] = [];
  const changed = new Map<string, string>();
  for (const l of lines) {
    const n = Number(l.split(' ')[1]);
    if (n === 5) out.push('inserted a', 'inserted b');
    if (n === 10) {
      out.push('line 10 edited');
      changed.set(l, 'line 10 edited');
      continue;
    }
    if (n === 20 || n === 30 || n === 31) continue;
    if (n === 34) {
      out.push('new 34 a', 'new 34 b', 'new 34 c');
      changed.set(l, 'new 34 a');
      continue;
    }
    if (n === 35) {
      changed.set(l, 'new 34 b');
      continue;
    }
    out.push(l);
  }
  out.push('appended 1', 'appended 2');
  return { v2: out, changed };
}

/** The line where `l` of `from` is in `to`: same text (unchanged), its edit (changed), else the surviving line above (deleted). */
function truth(from: string[], to: string[], changed: Map<string, string>, l: number): Mapped {
  const text = from[l - 1]!;
  const same = to.indexOf(text);
  if (same >= 0) return { line: same + 1, state: 'unchanged' };
  const edited = changed.get(text);
  if (edited !== undefined) return { line: to.indexOf(edited) + 1, state: 'changed' };
  // Deleted: the surviving line just above the gap (line 1 when the gap starts the file).
  for (let k = l - 2; k >= 0; k--) {
    const above = to.indexOf(from[k]!);
    if (above >= 0) return { line: above + 1, state: 'deleted' };
  }
  return { line: 1, state: 'deleted' };
}

function gitDiff(a: string[], b: string[], context: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-linemap-'));
  try {
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' });
    git('init', '-q');
    writeFileSync(join(dir, 'app.py'), a.join('\n') + '\n');
    git('add', '.');
    git('commit', '-qm', 'v1');
    writeFileSync(join(dir, 'app.py'), b.join('\n') + '\n');
    return git('diff', '--no-color', '--no-ext-diff', `-U${context}`, 'HEAD', '--', 'app.py');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const context of [0, 3]) {
  test(`every line maps to where git put it (git diff -U${context})`, () => {
    const { v2, changed } = edit(v1);
    const files = parseGitDiff(gitDiff(v1, v2, context));
    assert.equal(files.length, 1);
    assert.equal(files[0]!.newPath, 'app.py');
    const hunks = files[0]!.hunks;
    assert.ok(hunks.length >= (context === 0 ? 6 : 3), `hunks: ${hunks.length}`);
    for (let l = 1; l <= v1.length; l++) {
      assert.deepEqual(mapLine(hunks, l), truth(v1, v2, changed, l), `line ${l}`);
    }
  });
}

test('an insertion-only hunk (-5,0) leaves line 5 in place and moves line 6', () => {
  const v2 = [...v1.slice(0, 5), 'new a', 'new b', ...v1.slice(5)];
  const hunks = parseHunks(gitDiff(v1, v2, 0));
  assert.equal(hunks[0]!.oldLines, 0);
  assert.deepEqual(mapLine(hunks, 5), { line: 5, state: 'unchanged' });
  assert.deepEqual(mapLine(hunks, 6), { line: v2.indexOf('line 6') + 1, state: 'unchanged' });
});

test('the inverted diff maps the new file back to the old one', () => {
  const { v2 } = edit(v1);
  const back = invert(parseGitDiff(gitDiff(v1, v2, 0))[0]!.hunks);
  const reverseChanged = new Map([
    ['line 10 edited', 'line 10'],
    ['new 34 a', 'line 34'],
    ['new 34 b', 'line 35'],
  ]);
  for (let l = 1; l <= v2.length - 2; l++) {
    const text = v2[l - 1]!;
    if (text.startsWith('inserted') || text === 'new 34 c') continue; // added lines: checked below
    assert.deepEqual(mapLine(back, l), truth(v2, v1, reverseChanged, l), `new line ${l} (${text})`);
  }
  assert.deepEqual(mapLine(back, v2.indexOf('inserted a') + 1), { line: 4, state: 'deleted' });
});

test('composed diffs map through both, and a change in either step wins', () => {
  const { v2 } = edit(v1);
  const v3 = ['header', ...v2.map((l) => (l === 'line 15' ? 'line 15 edited' : l))];
  const steps: Hunk[][] = [parseHunks(gitDiff(v1, v2, 0)), parseHunks(gitDiff(v2, v3, 0))];
  assert.deepEqual(mapThrough(steps, 15), { line: v3.indexOf('line 15 edited') + 1, state: 'changed' });
  assert.deepEqual(mapThrough(steps, 10), { line: v3.indexOf('line 10 edited') + 1, state: 'changed' });
  assert.deepEqual(mapThrough(steps, 12), { line: v3.indexOf('line 12') + 1, state: 'unchanged' });
  assert.deepEqual(mapThrough(steps, 20), { line: v3.indexOf('line 19') + 1, state: 'deleted' });
});

/** A deterministic pseudo-random sequence (tests must not be flaky). */
function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test('live edits (typing, Enter, pasting, deleting) move every untouched line to its text', () => {
  const rand = rng(21);
  const seen = new Set<string>();
  for (let round = 0; round < 200; round++) {
    let lines = [...v1];
    const steps: Hunk[][] = [];
    for (let e = 0; e < 5; e++) {
      const startLine = Math.floor(rand() * lines.length);
      const endLine = Math.min(lines.length - 1, startLine + Math.floor(rand() * 3));
      const startCharacter = Math.floor(rand() * (lines[startLine]!.length + 1));
      const endCharacter = startLine === endLine ? startCharacter + Math.floor(rand() * (lines[endLine]!.length - startCharacter + 1)) : Math.floor(rand() * (lines[endLine]!.length + 1));
      const text = ['', '\n', 'x', `\nfresh ${round}.${e}\n`, 'y\nz'][Math.floor(rand() * 5)]!;
      const r = applyChange(lines, { startLine, startCharacter, endLine, endCharacter, text });
      lines = r.lines;
      steps.push(r.hunks);
    }
    for (let l = 1; l <= v1.length; l++) {
      const m = mapThrough(steps, l);
      const at = lines.indexOf(v1[l - 1]!);
      if (m.state === 'unchanged') assert.equal(m.line, at + 1, `round ${round}: line ${l} said unchanged`);
      else assert.ok(m.line >= 1 && m.line <= lines.length + 1, `round ${round}: line ${l} out of range`);
      if (at < 0) assert.notEqual(m.state, 'unchanged', `round ${round}: line ${l} is gone but said unchanged`);
      seen.add(m.state);
    }
  }
  assert.deepEqual([...seen].sort(), ['changed', 'deleted', 'unchanged']);
});

test('Enter at the start of a line inserts above it; typing inside a line changes it', () => {
  const enter = applyChange(v1, { startLine: 4, startCharacter: 0, endLine: 4, endCharacter: 0, text: '\n\n' });
  assert.deepEqual(mapLine(enter.hunks, 5), { line: 7, state: 'unchanged' });
  assert.deepEqual(mapLine(enter.hunks, 4), { line: 4, state: 'unchanged' });
  const typed = applyChange(v1, { startLine: 4, startCharacter: 2, endLine: 4, endCharacter: 2, text: 'zz' });
  assert.deepEqual(mapLine(typed.hunks, 5), { line: 5, state: 'changed' });
  assert.deepEqual(mapLine(typed.hunks, 6), { line: 6, state: 'unchanged' });
  const joined = applyChange(v1, { startLine: 4, startCharacter: 6, endLine: 5, endCharacter: 6, text: '' });
  assert.equal(joined.lines[4], 'line 5');
  assert.deepEqual(mapLine(joined.hunks, 7), { line: 6, state: 'unchanged' });
  assert.deepEqual(mapLine(joined.hunks, 6), { line: 5, state: 'deleted' });
});

// The shared vectors of issue 20 (tests/linemap/vectors.json, generated from real `git diff`
// output by the server's side; CAIRN_LINEMAP_VECTORS may name another copy): checked whenever
// the file exists, so the two ports cannot drift apart.
const shared = process.env.CAIRN_LINEMAP_VECTORS ?? join(__dirname, '..', '..', '..', '..', 'tests', 'linemap', 'vectors.json');
test('the shared test vectors of the server (tests/linemap/vectors.json)', { skip: !existsSync(shared) && 'tests/linemap/vectors.json is not in this checkout yet' }, () => {
  const doc = JSON.parse(readFileSync(shared, 'utf8')) as {
    cases: { name: string; op: 'forward' | 'inverse' | 'compose'; patches: FilePatch[]; checks: { line: number; expected: { line: number | null; state: string } }[] }[];
  };
  assert.ok(Array.isArray(doc.cases) && doc.cases.length > 0, 'vectors.json: no cases');
  let checked = 0;
  for (const c of doc.cases) {
    for (const check of c.checks) {
      assert.deepEqual(mapAcross(c.op, c.patches, check.line), { line: check.expected.line, state: check.expected.state }, `${c.name}: line ${check.line}`);
      checked++;
    }
  }
  assert.ok(checked > 0);
});

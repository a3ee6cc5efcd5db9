// Diagnostics and hover text built from incidents, with lines moved by edits since HEAD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Incident } from '../../src/api';
import { mapLine, parseHunks } from '../../src/linemap';
import { buildDiagnostics, hoverMarkdown, severityOf, translationNote } from '../../src/present';

const base: Incident = {
  incident_id: 'inc_1',
  project_id: 'prj_1',
  repo: 'acme/api',
  status: 'open',
  level: 'error',
  error_type: 'ZeroDivisionError',
  error_message: 'division by zero',
  file_path: 'app/payments.py',
  line_number: 12,
  column_number: 5,
  function: 'charge',
  frames: [
    { file_path: 'app/main.py', line_number: 9, function: 'main', in_app: true },
    { file_path: 'lib/site.py', line_number: 1, function: 'x', in_app: false },
    { file_path: 'app/payments.py', line_number: 12, function: 'charge', in_app: true },
  ],
  occurrence_count: 3,
  affected_users: 1,
  first_seen_at: '2024-05-01T10:00:00Z',
  last_seen_at: '2024-05-02T11:30:00Z',
  environment: 'production',
  commit_sha: 'abc1234def5678901234567890abcdef12345678',
  deployment_id: 'dpl_9',
  deployment_url: 'web-1-acme.vercel.app',
};

test('levels become severities', () => {
  assert.deepEqual(['fatal', 'error', 'warning', 'info', 'debug', 'weird'].map(severityOf), ['Error', 'Error', 'Warning', 'Information', 'Hint', 'Error']);
});

test('a diagnostic sits on the incident line moved by the edits since HEAD, with source cairn and the id as code', () => {
  const edits = parseHunks('@@ -3,0 +4,2 @@\n+a\n+b\n');
  const [d] = buildDiagnostics([base], (_file, line) => mapLine(edits, line));
  assert.equal(d!.line, 13); // HEAD line 12, two lines inserted above, 0-based
  assert.equal(d!.startColumn, 4);
  assert.equal(d!.source, 'cairn');
  assert.equal(d!.code, 'inc_1');
  assert.equal(d!.severity, 'Error');
  assert.equal(d!.message, 'ZeroDivisionError: division by zero (3 events, 1 user in production)');
});

test('an edited line keeps its diagnostic without the column, and says so', () => {
  const edits = parseHunks('@@ -12 +12 @@\n-old\n+new\n');
  const [d] = buildDiagnostics([base], (_f, l) => mapLine(edits, l));
  assert.equal(d!.line, 11);
  assert.equal(d!.startColumn, null);
  assert.match(d!.message, /you edited this line since HEAD/);
});

test('incidents without a line, outside the workspace, or in a deleted file get no diagnostic', () => {
  const specs = buildDiagnostics(
    [
      { ...base, incident_id: 'inc_noline', line_number: null },
      { ...base, incident_id: 'inc_elsewhere', file_path: 'vendor/x.py' },
      { ...base, incident_id: 'inc_gone', line_state: 'file_deleted' },
      base,
    ],
    (file, line) => (file.startsWith('vendor/') ? undefined : { line, state: 'unchanged' }),
  );
  assert.deepEqual(specs.map((s) => s.code), ['inc_1']);
});

test('a translated line that changed since production names production\'s commit', () => {
  const moved = { ...base, line_state: 'changed', seen_commit_sha: 'abc1234ffffffffffffffffffffffffffffffff0' };
  assert.equal(translationNote(moved), "this line changed since production's commit abc1234");
  assert.equal(translationNote({ ...moved, line_state: 'unchanged' }), null);
  assert.equal(translationNote(base), null);
  const [d] = buildDiagnostics([moved], (_f, line) => ({ line, state: 'unchanged' }));
  assert.match(d!.message, /this line changed since production's commit abc1234$/);
  assert.equal(d!.startColumn, null);
});

test('the hover has type, message, counts, dates, deploy and the in-app stack as links', () => {
  const text = hoverMarkdown(base, {
    file: (path, line) => `file:///w/${path}#L${line}`,
    resolve: (id) => `command:cairn.resolve?${id}`,
    details: (id) => `https://cairn.example/${id}`,
  });
  assert.match(text, /\*\*ZeroDivisionError\*\*: division by zero/);
  assert.match(text, /3 occurrences · 1 affected user · environment production/);
  assert.match(text, /First seen 2024-05-01 10:00 UTC · last seen 2024-05-02 11:30 UTC/);
  assert.match(text, /Seen in deploy \[dpl\\_9\]\(https:\/\/web-1-acme\.vercel\.app\) at commit `abc1234`/);
  assert.match(text, /- \[app\/main\.py:9\]\(file:\/\/\/w\/app\/main\.py#L9\) in `main`/);
  assert.match(text, /- \[app\/payments\.py:12\]\(file:\/\/\/w\/app\/payments\.py#L12\) in `charge`/);
  assert.doesNotMatch(text, /lib\/site\.py/);
  assert.match(text, /\[Resolve\]\(command:cairn\.resolve\?inc_1\)/);
});

// The API client against a real `cairn serve` (with a fake GitHub whose compare API answers from
// a real git repository): sign-in, the IDE's listing at its checkout with lines translated from
// the commits production ran, resolve and reopen, and the errors the extension turns into states.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, CairnClient, type Incident } from '../../src/api';
import { CairnServer } from '../support/cairnServer';
import { FakeGitHub } from '../support/fakeGithub';

const REPO = 'acme/checkout-api';
let github: FakeGitHub;
let server: CairnServer;
let session: string;
let dir: string;
/** Production's commit, and the developer's: B puts four lines on top of payments.py and adds `mod`. */
let A: string;
let B: string;

const PAYMENTS_A = 'def charge(amount):\n    return 100 / amount\n\ndef ratio(amount):\n    return 1.0 / amount\n';
const PAYMENTS_B = `import logging\n\nlog = logging.getLogger(__name__)\n\n${PAYMENTS_A}\ndef mod(amount):\n    return 7 % amount\n`;

function git(...args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { encoding: 'utf8' }).trim();
}

function commit(payments: string): string {
  writeFileSync(join(dir, 'app', 'payments.py'), payments);
  git('add', '-A');
  git('commit', '-qm', 'change');
  return git('rev-parse', 'HEAD');
}

/** The 1-based line of `payments.py` at `rev` that holds `text`. */
function lineOf(rev: string, text: string): number {
  return git('show', `${rev}:app/payments.py`).split('\n').findIndex((l) => l.includes(text)) + 1;
}

function pyError(commit: string, message: string, line: number) {
  return {
    error_message: message,
    error_type: 'ZeroDivisionError',
    stack_trace: `Traceback (most recent call last):\n  File "/srv/checkout-api/app/main.py", line 9, in main\n    charge(0)\n  File "/srv/checkout-api/app/payments.py", line ${line}, in charge\n    return 100 / amount\nZeroDivisionError: ${message}\n`,
    commit_sha: commit,
    environment: 'production',
    user_id: 'u1',
  };
}

function byMessage(incidents: Incident[], message: string): Incident {
  const found = incidents.find((i) => i.error_message === message);
  assert.ok(found, `no incident "${message}" in ${JSON.stringify(incidents.map((i) => i.error_message))}`);
  return found;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-api-git-'));
  git('init', '-q', '-b', 'main');
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'main.py'), 'from app.payments import charge\n'.repeat(12));
  A = commit(PAYMENTS_A);
  B = commit(PAYMENTS_B);

  github = await FakeGitHub.start();
  github.addUser(7, 'octocat', 'gho_octocat');
  github.grant('octocat', REPO, 'admin');
  github.serveGit(REPO, dir);
  server = await CairnServer.start(github.url);
  session = await new CairnClient({ baseUrl: server.url }).exchangeGitHubToken('gho_octocat').then((s) => s.session_token);
  const key = await server.createProject(session, REPO);
  await server.ingest(key, [
    pyError(A, 'division by zero', lineOf(A, '100 / amount')),
    pyError(A, 'float division by zero', lineOf(A, '1.0 / amount')),
    pyError(B, 'modulo by zero', lineOf(B, '7 % amount')),
  ]);
});

after(async () => {
  await server?.stop();
  await github?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a GitHub token is traded for a session that /v1/me knows', async () => {
  const issued = await new CairnClient({ baseUrl: server.url }).exchangeGitHubToken('gho_octocat');
  assert.equal(issued.user.github_login, 'octocat');
  const me = await new CairnClient({ baseUrl: server.url, token: issued.session_token }).me();
  assert.equal(me.user.github_login, 'octocat');
  assert.equal(me.user.github_id, 7);
});

test("the open incidents at the developer's checkout are on the lines that hold the code production ran", async () => {
  const client = new CairnClient({ baseUrl: server.url, token: session });
  const atB = await client.openIncidentsAt(REPO, B);
  assert.equal(atB.mode, 'at');
  assert.deepEqual(atB.translation, { status: 'complete', reason: null });
  assert.equal(atB.incidents.length, 3);

  // Seen at A, line 2; at B the same code is four lines lower.
  const zero = byMessage(atB.incidents, 'division by zero');
  assert.equal(zero.relation, 'ahead');
  assert.equal(zero.seen_commit_sha, A);
  assert.equal(zero.seen_line_number, lineOf(A, '100 / amount'));
  assert.equal(zero.file_path, 'app/payments.py');
  assert.equal(zero.line_number, lineOf(B, '100 / amount'));
  assert.notEqual(zero.line_number, zero.seen_line_number);
  assert.equal(zero.line_state, 'unchanged');
  assert.equal(zero.level, 'error');
  const top = zero.frames.find((f) => f.file_path === 'app/payments.py')!;
  assert.equal(top.line_number, lineOf(B, '100 / amount'));
  assert.ok(zero.frames.some((f) => f.in_app && f.file_path === 'app/main.py' && f.line_number === 9 && f.line_state === 'unchanged'));
  assert.equal(byMessage(atB.incidents, 'float division by zero').line_number, lineOf(B, '1.0 / amount'));

  const mod = byMessage(atB.incidents, 'modulo by zero');
  assert.equal(mod.relation, 'same');
  assert.equal(mod.line_number, lineOf(B, '7 % amount'));

  // Back at A, the line B added is gone: the incident seen at B says so.
  const atA = await client.openIncidentsAt(REPO, A);
  assert.equal(byMessage(atA.incidents, 'division by zero').line_number, lineOf(A, '100 / amount'));
  const modAtA = byMessage(atA.incidents, 'modulo by zero');
  assert.equal(modAtA.relation, 'behind');
  assert.equal(modAtA.line_state, 'deleted');
});

test('an incident whose commit GitHub does not know keeps the location it was seen at', async () => {
  const client = new CairnClient({ baseUrl: server.url, token: session });
  const unknown = 'c'.repeat(40);
  const listing = await client.openIncidentsAt(REPO, unknown);
  assert.equal(listing.mode, 'at');
  assert.equal(listing.translation?.status, 'none');
  const zero = byMessage(listing.incidents, 'division by zero');
  assert.equal(zero.line_state, 'unknown');
  assert.equal(zero.line_number, lineOf(A, '100 / amount'));
});

test('resolving takes an incident off the open list and reopening puts it back', async () => {
  const client = new CairnClient({ baseUrl: server.url, token: session });
  const incident = byMessage((await client.openIncidentsAt(REPO, B)).incidents, 'modulo by zero');
  const resolved = await client.setStatus(incident.incident_id, 'resolved');
  assert.equal(resolved.status, 'resolved');
  const open = (await client.openIncidentsAt(REPO, B)).incidents;
  assert.deepEqual(open.map((i) => i.error_message).sort(), ['division by zero', 'float division by zero']);
  const reopened = await client.setStatus(incident.incident_id, 'open');
  assert.equal(reopened.status, 'open');
  assert.equal((await client.openIncidentsAt(REPO, B)).incidents.length, 3);
  const detail = await client.incident(incident.incident_id);
  assert.equal(detail.recent_events[0]?.commit_sha, B);
});

test('a bad session is a 401 and a repo without a project is a 404, neither retried', async () => {
  const bad = new CairnClient({ baseUrl: server.url, token: 'not-a-session' });
  await assert.rejects(bad.openIncidentsAt(REPO, A), (e: ApiError) => e.status === 401 && !e.retryable);
  const client = new CairnClient({ baseUrl: server.url, token: session });
  await assert.rejects(client.openIncidentsAt('acme/no-such-project', A), (e: ApiError) => e.status === 404);
  await assert.rejects(new CairnClient({ baseUrl: server.url }).exchangeGitHubToken('gho_unknown'), (e: ApiError) => e.status === 401);
});

test('signing out ends the session on the server', async () => {
  const token = (await new CairnClient({ baseUrl: server.url }).exchangeGitHubToken('gho_octocat')).session_token;
  const client = new CairnClient({ baseUrl: server.url, token });
  await client.signOut();
  await assert.rejects(client.me(), (e: ApiError) => e.status === 401);
});

// The API client against a real `cairn serve` (with a fake GitHub): sign-in, the IDE's listing
// at a commit (today's server ignores `at=`, so the client must fall back to `commit=`), resolve
// and reopen, and the errors the extension turns into states.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, CairnClient } from '../../src/api';
import { CairnServer } from '../support/cairnServer';
import { FakeGitHub } from '../support/fakeGithub';

const REPO = 'acme/checkout-api';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
let github: FakeGitHub;
let server: CairnServer;
let session: string;

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

before(async () => {
  github = await FakeGitHub.start();
  github.addUser(7, 'octocat', 'gho_octocat');
  github.grant('octocat', REPO, 'admin');
  server = await CairnServer.start(github.url);
  session = await new CairnClient({ baseUrl: server.url }).exchangeGitHubToken('gho_octocat').then((s) => s.session_token);
  const key = await server.createProject(session, REPO);
  await server.ingest(key, [pyError(A, 'division by zero', 2), pyError(A, 'float division by zero', 4), pyError(B, 'modulo by zero', 3)]);
});

after(async () => {
  await server?.stop();
  await github?.stop();
});

test('a GitHub token is traded for a session that /v1/me knows', async () => {
  const issued = await new CairnClient({ baseUrl: server.url }).exchangeGitHubToken('gho_octocat');
  assert.equal(issued.user.github_login, 'octocat');
  const me = await new CairnClient({ baseUrl: server.url, token: issued.session_token }).me();
  assert.equal(me.user.github_login, 'octocat');
  assert.equal(me.user.github_id, 7);
});

test('the open incidents at a commit are those seen there, when the server does not know at=', async () => {
  const client = new CairnClient({ baseUrl: server.url, token: session });
  const atA = await client.openIncidentsAt(REPO, A);
  assert.equal(atA.mode, 'commit');
  assert.equal(atA.translation, null);
  assert.deepEqual(atA.incidents.map((i) => i.error_message).sort(), ['division by zero', 'float division by zero']);
  const zero = atA.incidents.find((i) => i.error_message === 'division by zero')!;
  assert.equal(zero.file_path, 'app/payments.py');
  assert.equal(zero.line_number, 2);
  assert.equal(zero.level, 'error');
  assert.ok(zero.frames.some((f) => f.in_app && f.file_path === 'app/main.py' && f.line_number === 9));
  const atB = await client.openIncidentsAt(REPO, B);
  assert.deepEqual(atB.incidents.map((i) => i.error_message), ['modulo by zero']);
});

test('resolving takes an incident off the open list and reopening puts it back', async () => {
  const client = new CairnClient({ baseUrl: server.url, token: session });
  const [incident] = (await client.openIncidentsAt(REPO, B)).incidents;
  const resolved = await client.setStatus(incident!.incident_id, 'resolved');
  assert.equal(resolved.status, 'resolved');
  assert.deepEqual((await client.openIncidentsAt(REPO, B)).incidents, []);
  const reopened = await client.setStatus(incident!.incident_id, 'open');
  assert.equal(reopened.status, 'open');
  assert.equal((await client.openIncidentsAt(REPO, B)).incidents.length, 1);
  const detail = await client.incident(incident!.incident_id);
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

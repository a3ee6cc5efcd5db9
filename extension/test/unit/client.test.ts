// The API client's transport rules against small local HTTP servers: timeouts, cancellation,
// backoff on 429/503 (honouring Retry-After), no retry of client errors, and the `at=` contract
// of issue 20 (a translated listing is used as it is).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, CairnClient } from '../../src/api';

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const s = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  // A test that fails before close() must not keep the process (and CI) waiting forever.
  s.on('connection', (socket) => socket.unref());
  s.unref();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    hits,
    close: () => {
      s.closeAllConnections();
      return new Promise((r) => s.close(() => r()));
    },
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const incident = (id: string) => ({ incident_id: id, project_id: 'p', repo: 'acme/api', status: 'open', level: 'error', error_message: 'x', frames: [], occurrence_count: 1, affected_users: 0, first_seen_at: '2024-01-01T00:00:00Z', last_seen_at: '2024-01-01T00:00:00Z' });

test('a server that does not answer in time fails each attempt with a timeout', async () => {
  const s = await serve(() => undefined);
  const started = Date.now();
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  const client = new CairnClient({ baseUrl: s.url, token: 't', timeoutMs: 150, attempts: 2, backoffMs: 10, sleep });
  await assert.rejects(client.me(), (e: ApiError) => e.status === 0 && e.code === 'timeout');
  // Two attempts, one wait between them. On a loaded machine the first request may time out
  // before the server has even read it, so the server's count is only bounded.
  assert.equal(waits.length, 1);
  assert.ok(s.hits.length <= 2);
  // Far below what a request without a timeout would take (forever), far above 2 × 150 ms.
  assert.ok(Date.now() - started < 10_000);
  await s.close();
});

test('a cancelled request stops at once and is not retried', async () => {
  const s = await serve(() => undefined);
  const client = new CairnClient({ baseUrl: s.url, token: 't', timeoutMs: 10_000, attempts: 3 });
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 100);
  const started = Date.now();
  await assert.rejects(client.me(ctl.signal), (e: ApiError) => e.code === 'cancelled');
  assert.ok(Date.now() - started < 1000);
  assert.equal(s.hits.length, 1);
  await s.close();
});

test('503 and 429 are retried after Retry-After, then the answer is used', async () => {
  let n = 0;
  const s = await serve((_req, res) => {
    n++;
    if (n === 1) return json(res, 503, { error: { code: 'database_unavailable', message: 'down' } }, { 'retry-after': '0' });
    if (n === 2) return json(res, 429, { error: { code: 'rate_limited', message: 'slow' } }, { 'retry-after': '0' });
    json(res, 200, { user: { github_login: 'octocat', github_id: 1 }, expires_at: '2030-01-01T00:00:00Z' });
  });
  const waits: number[] = [];
  const client = new CairnClient({ baseUrl: s.url, token: 't', attempts: 3, sleep: async (ms) => void waits.push(ms) });
  assert.equal((await client.me()).user.github_login, 'octocat');
  assert.deepEqual(waits, [0, 0]);
  await s.close();
});

test('without Retry-After the waits grow; after the last attempt the error is thrown', async () => {
  const s = await serve((_req, res) => json(res, 502, { error: { code: 'bad_gateway', message: 'no' } }));
  const waits: number[] = [];
  const client = new CairnClient({ baseUrl: s.url, attempts: 4, backoffMs: 100, sleep: async (ms) => void waits.push(ms) });
  await assert.rejects(client.me(), (e: ApiError) => e.status === 502 && e.code === 'bad_gateway');
  assert.equal(s.hits.length, 4);
  assert.equal(waits.length, 3);
  assert.ok(waits[0]! >= 50 && waits[0]! <= 100 && waits[1]! >= 100 && waits[1]! <= 200 && waits[2]! >= 200 && waits[2]! <= 400, `${waits}`);
  await s.close();
});

test('client errors are not retried and keep the API code', async () => {
  const s = await serve((_req, res) => json(res, 422, { error: { code: 'invalid_commit_sha', message: 'bad sha' } }));
  const client = new CairnClient({ baseUrl: s.url, token: 't', attempts: 3 });
  await assert.rejects(client.openIncidentsAt('acme/api', 'zz'), (e: ApiError) => e.code === 'invalid_commit_sha' && e.message === 'bad sha');
  assert.equal(s.hits.length, 1);
  await s.close();
});

test('a server with line translation answers at= with a translation object, used as it is', async () => {
  const s = await serve((req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    if (q.has('at')) return json(res, 200, { incidents: [incident('inc_at')], next_cursor: null, translation: { status: 'complete', reason: null } });
    json(res, 200, { incidents: [incident('inc_commit')], next_cursor: null });
  });
  const client = new CairnClient({ baseUrl: s.url, token: 't' });
  const r = await client.openIncidentsAt('acme/api', 'a'.repeat(40));
  assert.equal(r.mode, 'at');
  assert.deepEqual(r.translation, { status: 'complete', reason: null });
  assert.deepEqual(r.incidents.map((i) => i.incident_id), ['inc_at']);
  assert.equal(s.hits.length, 1);
  assert.match(s.hits[0]!, /[?&]at=a{40}/);
  await s.close();
});

test('a server without line translation is asked with commit= and not asked with at= again', async () => {
  const s = await serve((req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    if (q.has('commit')) return json(res, 200, { incidents: [incident('inc_seen_here')], next_cursor: null });
    // Today's server ignores the unknown parameter: the repo's whole listing, no translation.
    json(res, 200, { incidents: [incident('inc_seen_here'), incident('inc_elsewhere')], next_cursor: 'more' });
  });
  const client = new CairnClient({ baseUrl: s.url, token: 't' });
  const sha = 'b'.repeat(40);
  const first = await client.openIncidentsAt('acme/api', sha);
  assert.equal(first.mode, 'commit');
  assert.deepEqual(first.incidents.map((i) => i.incident_id), ['inc_seen_here']);
  await client.openIncidentsAt('acme/api', sha);
  assert.deepEqual(s.hits.map((h) => (h.includes('at=') ? 'at' : 'commit')), ['at', 'commit', 'commit']);
  await s.close();
});

test('pages are followed through next_cursor', async () => {
  const s = await serve((req, res) => {
    const cursor = new URL(req.url!, 'http://x').searchParams.get('cursor');
    if (!cursor) return json(res, 200, { incidents: [incident('inc_1')], next_cursor: 'c2' });
    json(res, 200, { incidents: [incident('inc_2')], next_cursor: null });
  });
  const r = await new CairnClient({ baseUrl: s.url, token: 't' }).openIncidentsAt('acme/api', 'c'.repeat(40));
  assert.deepEqual(r.incidents.map((i) => i.incident_id), ['inc_1', 'inc_2']);
  await s.close();
});

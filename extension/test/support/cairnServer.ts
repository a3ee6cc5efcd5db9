// A real `cairn serve` for the extension's tests: the binary cargo built, on a free loopback
// port, with its own throwaway PostgreSQL (DATABASE_URL unset) in a temporary folder, and GitHub
// pointed at a fake. Plus the API calls a test needs to set the scene (sign-in, project, events).

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository's root (extension/out/test/support → ../../../..). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

/** The `cairn` binary: `CAIRN_BIN`, else cargo's debug build. */
export function cairnBin(): string {
  const bin = process.env.CAIRN_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(REPO_ROOT, 'target'), 'debug', 'cairn');
  if (!existsSync(bin)) throw new Error(`no cairn binary at ${bin}: run \`cargo build -p cairn\` or set CAIRN_BIN`);
  return bin;
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** A running `cairn serve`. */
export class CairnServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    readonly output: string[],
  ) {}

  static async start(githubUrl: string): Promise<CairnServer> {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-serve-'));
    // mkdtemp makes it 0700; as root, cairn's PostgreSQL runs as the postgres user, which must
    // reach its cluster in here (else cairn keeps the cluster elsewhere, past this test's cleanup).
    chmodSync(dir, 0o755);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CAIRN_ADDR: `127.0.0.1:${port}`,
      GITHUB_API_URL: githubUrl,
      GITHUB_OAUTH_URL: githubUrl,
      GITHUB_CLIENT_ID: 'test-client-id',
      GITHUB_CLIENT_SECRET: 'test-client-secret',
      GITHUB_TIMEOUT_SECONDS: '5',
      RUST_LOG: 'warn',
    };
    delete env.DATABASE_URL;
    delete env.CAIRN_PUBLIC_URL;
    delete env.CAIRN_SECRET_KEY;
    const child = spawn(cairnBin(), ['serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    const server = new CairnServer(child, dir, `http://127.0.0.1:${port}`, output);
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`cairn serve exited (${child.exitCode}):\n${output.join('')}`);
      try {
        if ((await fetch(`${server.url}/healthz`)).ok) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`cairn serve did not become healthy:\n${output.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** A JSON call with an optional bearer token; throws on a non-2xx answer. */
  async call<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const res = await fetch(this.url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Trades a fake GitHub token for a cairn session token. */
  async signIn(githubToken: string): Promise<string> {
    return (await this.call<{ session_token: string }>('POST', '/v1/auth/token', undefined, { github_token: githubToken })).session_token;
  }

  /** Creates the project of `repo` and returns its ingest key. */
  async createProject(session: string, repo: string): Promise<string> {
    return (await this.call<{ ingest_key: string }>('POST', '/v1/projects', session, { repo })).ingest_key;
  }

  /** Ingests native events (`POST /v1/events`), waiting until the listing shows them. */
  async ingest(ingestKey: string, events: unknown[]): Promise<void> {
    await this.call('POST', '/v1/events', ingestKey, events);
  }

  /** Stops the server (it stops its PostgreSQL) and removes its folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

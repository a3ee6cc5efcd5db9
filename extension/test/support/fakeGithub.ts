// A fake GitHub on 127.0.0.1 for the extension's tests, answering what cairn's server asks of
// GitHub's REST API as GitHub documents it: `GET /user`, `GET /user/emails`, and
// `GET /repos/{owner}/{repo}` with the caller's `permissions` (404 without access). The Rust
// tests' fake (tests/api/fake_github.rs) answers the same calls the same way.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface User {
  id: number;
  login: string;
}

/** A running fake GitHub. */
export class FakeGitHub {
  private readonly users = new Map<string, User>();
  /** `login owner/repo` (lowercase repo) → "admin" | "write" | "read". */
  private readonly perms = new Map<string, string>();
  /** Requests seen, as `METHOD path`. */
  readonly seen: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeGitHub> {
    let fake: FakeGitHub | undefined;
    const server = createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      req.resume();
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        fake!.seen.push(`${req.method} ${path}`);
        const token = (req.headers.authorization ?? '').replace(/^(Bearer|token) /i, '');
        const user = fake!.users.get(token);
        if (!user) return reply(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
        if (req.method === 'GET' && path === '/user') {
          return reply(200, { login: user.login, id: user.id, avatar_url: `https://avatars.example/${user.id}`, email: null, type: 'User' });
        }
        if (req.method === 'GET' && path === '/user/emails') {
          return reply(200, [{ email: `${user.login}@example.com`, primary: true, verified: true, visibility: 'private' }]);
        }
        const repo = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path);
        if (req.method === 'GET' && repo) {
          const level = fake!.perms.get(`${user.login} ${`${repo[1]}/${repo[2]}`.toLowerCase()}`);
          if (!level) return reply(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/repos#get-a-repository' });
          const admin = level === 'admin';
          return reply(200, {
            id: 1296269,
            name: repo[2],
            full_name: `${repo[1]}/${repo[2]}`,
            private: true,
            owner: { login: repo[1], id: 1 },
            permissions: { admin, maintain: admin, push: admin || level === 'write', triage: true, pull: true },
          });
        }
        reply(404, { message: 'Not Found' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeGitHub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return fake;
  }

  /** A user with an access token. */
  addUser(id: number, login: string, token: string): void {
    this.users.set(token, { id, login });
  }

  /** Grants `login` a permission on `repo` ("admin", "write" or "read"). */
  grant(login: string, repo: string, permission: 'admin' | 'write' | 'read'): void {
    this.perms.set(`${login} ${repo.toLowerCase()}`, permission);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// A fake GitHub on 127.0.0.1 for the extension's tests, answering what cairn's server asks of
// GitHub's REST API as GitHub documents it: `GET /user`, `GET /user/emails`, and
// `GET /repos/{owner}/{repo}` with the caller's `permissions` (404 without access), and for a
// repository backed by a real git repository, the compare API
// (`GET /repos/{owner}/{repo}/compare/{base}...{head}`) answered from git itself. The Rust
// tests' fakes (tests/api/fake_github.rs, tests/api/git_json.rs) answer the same calls the same way.

import { execFileSync } from 'node:child_process';
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
  /** lowercase `owner/repo` → the git repository whose history the compare API answers from. */
  private readonly gitDirs = new Map<string, string>();
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
        const cmp = /^\/repos\/([^/]+)\/([^/]+)\/compare\/([^/]+)\.\.\.([^/]+)$/.exec(path);
        if (req.method === 'GET' && cmp) {
          const name = `${cmp[1]}/${cmp[2]}`.toLowerCase();
          const dir = fake!.gitDirs.get(name);
          if (!dir || !fake!.perms.get(`${user.login} ${name}`)) return reply(404, { message: 'Not Found' });
          const answer = compare(dir, cmp[3]!, cmp[4]!);
          return answer ? reply(200, answer) : reply(404, { message: 'Not Found' });
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

  /** Answers the compare API of `repo` from the git repository in `dir`. */
  serveGit(repo: string, dir: string): void {
    this.gitDirs.set(repo.toLowerCase(), dir);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function git(dir: string, ...args: string[]): string | null {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

/**
 * GitHub's three-dot comparison `base...head` made by git: status and counts from the merge
 * base, and each changed file (renames followed) with git's own hunks as `patch`. Only the
 * fields cairn reads are filled. `null` for an unknown commit or unrelated histories (GitHub's 404).
 */
function compare(dir: string, base: string, head: string): unknown {
  const full = (rev: string) => (/^[0-9a-f]{4,40}$/.test(rev) ? git(dir, 'rev-parse', '--verify', '--quiet', `${rev}^{commit}`)?.trim() : undefined);
  const b = full(base);
  const h = full(head);
  if (!b || !h) return null;
  const mb = git(dir, 'merge-base', b, h)?.trim();
  if (!mb) return null;
  const count = (range: string) => Number(git(dir, 'rev-list', '--count', range));
  const ahead = count(`${mb}..${h}`);
  const behind = count(`${mb}..${b}`);
  const status = ahead === 0 ? (behind === 0 ? 'identical' : 'behind') : behind === 0 ? 'ahead' : 'diverged';
  const names = (git(dir, 'diff', '-M', '--name-status', '-z', mb, h) ?? '').split('\0').filter((x) => x);
  const files: object[] = [];
  for (let i = 0; i < names.length; ) {
    const code = names[i++]!;
    const previous = code.startsWith('R') || code.startsWith('C') ? names[i++] : undefined;
    const filename = names[i++]!;
    const kind = { R: 'renamed', C: 'copied', A: 'added', D: 'removed' }[code[0]!] ?? 'modified';
    const diff = git(dir, 'diff', '-M', '--no-color', '--no-ext-diff', mb, h, '--', ...(previous ? [previous, filename] : [filename])) ?? '';
    const at = diff.indexOf('\n@@ ');
    const patch = at < 0 ? undefined : diff.slice(at + 1).replace(/\n+$/, '');
    files.push({ filename, status: kind, ...(previous ? { previous_filename: previous } : {}), ...(patch ? { patch } : {}) });
  }
  return { status, ahead_by: ahead, behind_by: behind, base_commit: { sha: b }, merge_base_commit: { sha: mb }, files };
}

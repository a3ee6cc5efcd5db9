// Which GitHub repository a git remote URL names. Pure: no `vscode`, unit-tested in plain Node.

/** A GitHub repository as cairn names it (`owner/name`, the `repo=` of the API). */
export interface GitHubRepo {
  owner: string;
  name: string;
}

/** `owner/name`, the form the API takes. */
export function fullName(repo: GitHubRepo): string {
  return `${repo.owner}/${repo.name}`;
}

// GitHub's rules: owners are alphanumeric with single inner hyphens (up to 39); repository
// names are letters, digits, `.`, `-` and `_` (never `.` or `..` alone).
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;
const HOSTS = new Set(['github.com', 'www.github.com', 'ssh.github.com']);

/**
 * The GitHub repository of a remote URL in any form git accepts for github.com:
 * `https://github.com/o/r(.git)`, with credentials or a trailing slash, `git@github.com:o/r.git`
 * (scp-like), `ssh://git@github.com(:22|:443)/o/r.git`, `git://github.com/o/r.git`,
 * `git+ssh://…`. Anything else (another host, a local path, a malformed path) is `undefined`.
 */
export function parseGitHubRemote(url: string): GitHubRepo | undefined {
  const raw = url.trim();
  let host: string;
  let path: string;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(raw);
  if (scheme) {
    const proto = scheme[1]!.toLowerCase();
    if (!['https', 'http', 'ssh', 'git', 'git+ssh', 'ssh+git'].includes(proto)) {
      return undefined;
    }
    const rest = scheme[2]!;
    const slash = rest.indexOf('/');
    if (slash < 0) return undefined;
    const authority = rest.slice(0, slash);
    path = rest.slice(slash + 1);
    host = authority.slice(authority.lastIndexOf('@') + 1).replace(/:\d*$/, '');
  } else {
    // scp-like: [user@]host:path — but not a Windows drive ("C:\…") or a local path.
    const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.*)$/.exec(raw);
    if (!scp || scp[1]!.length === 1) return undefined;
    host = scp[1]!;
    path = scp[2]!;
  }
  if (!HOSTS.has(host.toLowerCase())) return undefined;
  path = path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/i, '');
  const parts = path.split('/');
  if (parts.length !== 2) return undefined;
  const [owner, name] = parts as [string, string];
  if (!OWNER.test(owner) || !NAME.test(name) || name === '.' || name === '..') return undefined;
  return { owner, name };
}

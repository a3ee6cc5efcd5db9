// Remote URLs of every form git accepts for github.com, and what is not a GitHub repo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullName, parseGitHubRemote } from '../../src/remote';

const repo = (url: string) => {
  const r = parseGitHubRemote(url);
  return r ? fullName(r) : undefined;
};

test('https remotes name their repository, with or without .git, slash or credentials', () => {
  assert.equal(repo('https://github.com/acme/checkout-api.git'), 'acme/checkout-api');
  assert.equal(repo('https://github.com/acme/checkout-api'), 'acme/checkout-api');
  assert.equal(repo('https://github.com/acme/checkout-api/'), 'acme/checkout-api');
  assert.equal(repo('https://x-access-token:ghs_abc@github.com/Acme/web.site.git'), 'Acme/web.site');
  assert.equal(repo('http://www.github.com/acme/api'), 'acme/api');
  assert.equal(repo('  https://github.com/acme/api.git\n'), 'acme/api');
});

test('ssh remotes in scp and url forms name their repository', () => {
  assert.equal(repo('git@github.com:acme/checkout-api.git'), 'acme/checkout-api');
  assert.equal(repo('git@github.com:acme/checkout-api'), 'acme/checkout-api');
  assert.equal(repo('ssh://git@github.com/acme/checkout-api.git'), 'acme/checkout-api');
  assert.equal(repo('ssh://git@github.com:22/acme/checkout-api.git'), 'acme/checkout-api');
  assert.equal(repo('ssh://git@ssh.github.com:443/acme/checkout-api.git'), 'acme/checkout-api');
  assert.equal(repo('git+ssh://git@github.com/acme/my_repo.git'), 'acme/my_repo');
  assert.equal(repo('git://github.com/acme/checkout-api.git'), 'acme/checkout-api');
  assert.equal(repo('github.com:acme/checkout-api.git'), 'acme/checkout-api');
});

test('other hosts, local paths and malformed paths are not GitHub repositories', () => {
  assert.equal(repo('https://gitlab.com/acme/api.git'), undefined);
  assert.equal(repo('git@gitlab.com:acme/api.git'), undefined);
  assert.equal(repo('https://github.com.evil.example/acme/api'), undefined);
  assert.equal(repo('/srv/git/api.git'), undefined);
  assert.equal(repo('../api'), undefined);
  assert.equal(repo('C:\\repos\\api'), undefined);
  assert.equal(repo('file:///github.com/acme/api'), undefined);
  assert.equal(repo('https://github.com/acme'), undefined);
  assert.equal(repo('https://github.com/acme/api/tree/main'), undefined);
  assert.equal(repo('https://github.com/-acme/api'), undefined);
  assert.equal(repo('https://github.com/acme/..'), undefined);
  assert.equal(repo(''), undefined);
});

// End to end in a real VS Code: code-server (VS Code's workbench and extension host, from npm)
// opened in Debian's chromium through playwright-core, the built cairn.vsix installed, a
// workspace that is a real git repository with a GitHub origin, a real `cairn serve` (fake
// GitHub) with events ingested at the workspace's HEAD. Signs in through the token command and
// checks the Problems rows, a hover, lines inserted above a diagnostic, and a resolve round trip.
// Leaves a screenshot per run in extension/test-artifacts/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CairnServer, freePort } from '../test/support/cairnServer';
import { FakeGitHub } from '../test/support/fakeGithub';

const EXT_DIR = resolve(__dirname, '..', '..');
const ARTIFACTS = join(EXT_DIR, 'test-artifacts');
const VSIX = join(EXT_DIR, 'cairn.vsix');
const CODE_SERVER =
  process.env.CODE_SERVER ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cairn-ci', 'code-server-4.139.1', 'node_modules', '.bin', 'code-server');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const REPO = 'acme/shop';

const PAYMENTS = ['import math', '', '', 'def charge(amount):', '    return 100 / amount', '', '', 'def refund(amount):', '    return -amount', ''];
const MAIN = ['from app.payments import charge', '', '', 'def main():', '    charge(0)', ''];

let github: FakeGitHub;
let server: CairnServer;
let tmp: string;
let workspace: string;
let stateFile: string;
let head: string;
let session: string;
let codeServer: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const started = Date.now();
const since = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

function git(...args: string[]): string {
  return execFileSync('git', ['-C', workspace, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { encoding: 'utf8' }).trim();
}

/** The extension's state file (CAIRN_TEST_STATE_FILE), once `ok(state)` holds. */
async function waitForState(what: string, ok: (s: { state: string; diagnostics: { file: string; line: number; code: string; message: string }[] }) => boolean, ms = 60_000) {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    if (existsSync(stateFile)) {
      last = readFileSync(stateFile, 'utf8');
      try {
        const s = JSON.parse(last);
        if (ok(s)) return s;
      } catch {
        // written while we read: try again
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; last state: ${last}`);
}

/** Runs a command through the command palette (F1). */
async function palette(text: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${text}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** Opens a workspace file through quick open, at a line. */
async function openAt(path: string, line: number): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(path);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: path.split('/').pop()! }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator(`.tab[aria-label*="${path.split('/').pop()}"]`).first().waitFor();
  await page.keyboard.press('F1');
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  // Keys typed before the palette has gone and the editor has focus would be lost.
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  await page.locator('.editor-instance .monaco-editor.focused').waitFor();
  await page.locator('.statusbar-item', { hasText: `Ln ${line},` }).waitFor();
}

async function problemRows(): Promise<string[]> {
  return page.locator('.markers-panel .monaco-list-row').allInnerTexts();
}

async function screenshot(name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

before(async () => {
  assert.ok(existsSync(VSIX), `${VSIX} is missing: run npm run package first`);
  assert.ok(existsSync(CODE_SERVER), `no code-server at ${CODE_SERVER} (set CODE_SERVER)`);
  assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM} (set CHROMIUM)`);
  tmp = mkdtempSync(join(tmpdir(), 'cairn-e2e-'));
  stateFile = join(tmp, 'state.json');

  // The server, its GitHub, a user who administers the repo, its project.
  github = await FakeGitHub.start();
  github.addUser(42, 'dev', 'gho_dev');
  github.grant('dev', REPO, 'admin');
  server = await CairnServer.start(github.url);
  session = await server.signIn('gho_dev');
  const ingestKey = await server.createProject(session, REPO);

  // The workspace: a real repository whose origin is on GitHub.
  workspace = join(tmp, 'shop');
  mkdirSync(join(workspace, 'app'), { recursive: true });
  writeFileSync(join(workspace, 'app', 'payments.py'), PAYMENTS.join('\n'));
  writeFileSync(join(workspace, 'app', 'main.py'), MAIN.join('\n'));
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-qm', 'shop');
  git('remote', 'add', 'origin', `https://github.com/${REPO}.git`);
  head = git('rev-parse', 'HEAD');

  // Production errors at that commit: one incident seen twice, and a warning elsewhere.
  const traceback = `Traceback (most recent call last):\n  File "/srv/shop/app/main.py", line 5, in main\n    charge(0)\n  File "/srv/shop/app/payments.py", line 5, in charge\n    return 100 / amount\nZeroDivisionError: division by zero\n`;
  await server.ingest(ingestKey, [
    { error_message: 'division by zero', error_type: 'ZeroDivisionError', stack_trace: traceback, commit_sha: head, environment: 'production', user_id: 'alice' },
    { error_message: 'division by zero', error_type: 'ZeroDivisionError', stack_trace: traceback, commit_sha: head, environment: 'production', user_id: 'bob' },
    {
      error_message: "unknown refund 'r_1'",
      error_type: 'KeyError',
      level: 'warning',
      commit_sha: head,
      environment: 'production',
      frames: [{ file_path: 'app/payments.py', line_number: 9, function: 'refund', in_app: true }],
    },
  ]);

  // VS Code: its own folders (never ~/.config), the extension from the .vsix, quiet settings.
  const userData = join(tmp, 'user-data');
  const extensions = join(tmp, 'extensions');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'chat.disableAIFeatures': true,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.ignoreRecommendations': true,
      'git.autofetch': false,
      'editor.hover.delay': 300,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'cairn.serverUrl': server.url,
      'cairn.refreshIntervalSeconds': 0,
    }),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: join(tmp, 'xdg-config'), XDG_DATA_HOME: join(tmp, 'xdg-data'), CAIRN_TEST_STATE_FILE: stateFile };
  delete env.CAIRN_TOKEN; // sign in through the command, as a user without GitHub sign-in would
  execFileSync(CODE_SERVER, ['--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', VSIX], { env, stdio: 'pipe' });
  const port = await freePort();
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = createWriteStream(join(ARTIFACTS, 'code-server.log'));
  codeServer = spawn(
    CODE_SERVER,
    ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', userData, '--extensions-dir', extensions, workspace],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  codeServer.stdout!.pipe(log);
  codeServer.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      if (i > 300) throw new Error('code-server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  console.log(`# ${since()} server, workspace and code-server up`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  console.log(`# ${since()} workbench on screen`);
});

after(async () => {
  if (page) await screenshot('last').catch(() => undefined);
  await browser?.close().catch(() => undefined);
  if (codeServer?.pid && codeServer.exitCode === null) {
    try {
      process.kill(-codeServer.pid, 'SIGTERM'); // its own process group: the server and its extension host
    } catch {
      // already gone
    }
  }
  await server?.stop();
  await github?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('signed out, the extension says so; signed in with a token, the incidents are in the Problems panel', async () => {
  await waitForState('the extension to activate signed out', (s) => s.state === 'signed-out');
  await page.locator('.statusbar-item', { hasText: 'cairn: signed out' }).waitFor();

  await palette('cairn: Sign in with a cairn session token');
  const input = page.locator('.quick-input-widget input[type="password"]');
  await input.waitFor({ state: 'visible' });
  await input.fill(session);
  await page.keyboard.press('Enter');
  const s = await waitForState('two diagnostics', (st) => st.state === 'ok' && st.diagnostics.length === 2);
  console.log(`# ${since()} signed in, diagnostics: ${JSON.stringify(s.diagnostics.map((d: { file: string; line: number }) => `${d.file}:${d.line}`))}`);
  await page.locator('.statusbar-item', { hasText: 'cairn: 2' }).waitFor();

  await openAt('app/payments.py', 5);
  await page.keyboard.press('Control+Shift+M');
  // Lines without a column start at their first non-blank character once the file is open.
  await page.locator('.markers-panel .monaco-list-row', { hasText: /ZeroDivisionError[\s\S]*\[Ln 5, Col 5\]/ }).waitFor();
  const rows = await problemRows();
  const zero = rows.find((r) => r.includes('ZeroDivisionError: division by zero'));
  const key = rows.find((r) => r.includes("KeyError: unknown refund 'r_1'"));
  assert.ok(zero, `Problems rows: ${JSON.stringify(rows)}`);
  assert.ok(key, `Problems rows: ${JSON.stringify(rows)}`);
  assert.match(zero, /2 events, 2 users in production/);
  assert.match(zero, /cairn\s*\(?inc_[A-Za-z0-9_]+\)?/);
  assert.match(zero, /\[Ln 5, Col 5\]/);
  assert.match(key, /\[Ln 9, Col 5\]/);
  const incidentId = /cairn\s*\(?(inc_[A-Za-z0-9_]+)/.exec(zero)![1]!;
  assert.equal(s.diagnostics.find((d: { message: string }) => d.message.startsWith('ZeroDivisionError'))?.code, incidentId);
});

test('the hover on the line shows the error, its counts, the deploy commit and the in-app stack', async () => {
  await openAt('app/payments.py', 5);
  await palette('Show or Focus Hover');
  const hover = page.locator('.monaco-hover', { hasText: 'ZeroDivisionError' }).first();
  await hover.waitFor({ state: 'visible', timeout: 20_000 });
  const text = await hover.innerText();
  assert.match(text, /ZeroDivisionError: division by zero/);
  assert.match(text, /2 occurrences · 2 affected users · environment production/);
  assert.match(text, new RegExp(`at commit ${head.slice(0, 7)}`));
  assert.match(text, /app\/main\.py:5 in main/);
  assert.match(text, /app\/payments\.py:5 in charge/);
  assert.match(text, /Resolve/);
  await screenshot(`run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await screenshot('latest');
  await page.keyboard.press('Escape');
});

test('lines inserted above a diagnostic move it down while typing, before any save', async () => {
  await openAt('app/payments.py', 1);
  await page.keyboard.press('Home');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await screenshot('after-insert');
  const s = await waitForState('the diagnostic to move to line 8', (st) => st.diagnostics.some((d) => d.message.startsWith('ZeroDivisionError') && d.line === 8));
  assert.ok(s.diagnostics.some((d: { message: string; line: number }) => d.message.startsWith('KeyError') && d.line === 12));
  await page.keyboard.press('Control+Shift+M');
  await page.locator('.markers-panel .monaco-list-row', { hasText: /ZeroDivisionError.*\[Ln 8, Col 5\]/ }).waitFor();
  const untouched = s.diagnostics.find((d: { message: string }) => d.message.startsWith('ZeroDivisionError'));
  assert.doesNotMatch(untouched.message, /edited/);
});

test('resolving from the editor resolves on the server and takes the diagnostic away; reopening brings it back', async () => {
  await openAt('app/payments.py', 8);
  const before = await waitForState('two diagnostics', (st) => st.diagnostics.length === 2);
  const id = before.diagnostics.find((d: { message: string }) => d.message.startsWith('ZeroDivisionError')).code as string;
  await palette('cairn: Resolve incident');
  await waitForState('the resolved incident to leave', (st) => st.diagnostics.length === 1 && st.diagnostics[0]!.code !== id);
  const onServer = await server.call<{ status: string }>('GET', `/v1/incidents/${id}`, session);
  assert.equal(onServer.status, 'resolved');
  await page.locator('.notifications-toasts', { hasText: `${id} is resolved` }).waitFor();
  await page.keyboard.press('Control+Shift+M');
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'KeyError' }).waitFor();
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'ZeroDivisionError' }).waitFor({ state: 'detached' });
  assert.deepEqual((await problemRows()).filter((r) => r.includes('ZeroDivisionError')), []);

  await palette('cairn: Reopen incident');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: id }).waitFor();
  await page.keyboard.press('Enter');
  const back = await waitForState('the reopened incident to return', (st) => st.diagnostics.some((d) => d.code === id));
  assert.equal(back.diagnostics.find((d: { code: string }) => d.code === id).line, 8);
  assert.equal((await server.call<{ status: string }>('GET', `/v1/incidents/${id}`, session)).status, 'open');
  console.log(`# ${since()} done`);
});

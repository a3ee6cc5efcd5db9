// The extension's entry point: sign-in, which repos and commits are checked out, fetching their
// open incidents, and showing them (diagnostics, hovers, decorations, tree, status bar). The
// logic lives in modules without `vscode` (remote.ts, api.ts, linemap.ts, present.ts).

import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { ApiError, CairnClient, type Incident } from './api';
import { EditTracker } from './edits';
import type { API as GitAPI, GitExtension, Repository } from './git';
import { buildDiagnostics, hoverMarkdown, type DiagnosticSpec } from './present';
import { fullName, parseGitHubRemote } from './remote';
import { IncidentTree, type Placed } from './tree';

const SECRET = 'cairn.session';

/** One workspace repository with a GitHub `origin`, and what was last fetched for it. */
interface Checkout {
  repo: Repository;
  github: string | null;
  head: string | null;
  tracker: EditTracker;
  incidents: Incident[];
  mode: 'at' | 'commit' | null;
}

type State = 'signed-out' | 'offline' | 'no-project' | 'ok' | 'loading' | 'no-repo';

class Cairn implements vscode.Disposable {
  private readonly checkouts = new Map<string, Checkout>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('cairn');
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  private readonly tree = new IncidentTree();
  private readonly log = vscode.window.createOutputChannel('cairn');
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('editorCodeLens.foreground') },
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.errorForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });
  private readonly disposables: vscode.Disposable[] = [];
  private inflight: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private state: State = 'loading';
  private specs: (DiagnosticSpec & { root: vscode.Uri })[] = [];
  /** Incidents resolved in this window, for "Reopen" from the palette. */
  private resolved: Incident[] = [];

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly git: GitAPI,
  ) {
    this.status.command = 'cairn.refresh';
    this.status.show();
    this.disposables.push(
      this.diagnostics,
      this.status,
      this.log,
      this.decoration,
      vscode.window.registerTreeDataProvider('cairn.incidents', this.tree),
      vscode.languages.registerHoverProvider({ scheme: 'file' }, { provideHover: (d, p) => this.hover(d, p) }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('cairn')) {
          this.schedule();
          void this.refresh();
        }
      }),
      git.onDidOpenRepository((r) => this.add(r)),
      git.onDidCloseRepository((r) => this.remove(r)),
    );
    for (const r of git.repositories) this.add(r);
    this.schedule();
  }

  // ---- sign-in ----------------------------------------------------------------------------

  private serverUrl(): string {
    return vscode.workspace.getConfiguration('cairn').get<string>('serverUrl', 'http://127.0.0.1:3000');
  }

  /** The stored session, else `CAIRN_TOKEN` from the editor's environment. */
  private async token(): Promise<string | undefined> {
    return (await this.ctx.secrets.get(SECRET)) ?? (process.env.CAIRN_TOKEN?.trim() || undefined);
  }

  private client(token?: string): CairnClient {
    return new CairnClient({ baseUrl: this.serverUrl(), token });
  }

  async signInWithGitHub(): Promise<void> {
    const session = await vscode.authentication.getSession('github', ['read:user', 'user:email', 'repo'], { createIfNone: true });
    const issued = await this.client().exchangeGitHubToken(session.accessToken);
    await this.ctx.secrets.store(SECRET, issued.session_token);
    void vscode.window.showInformationMessage(`cairn: signed in as ${issued.user.github_login}`);
    await this.refresh();
  }

  async signInWithToken(given?: string): Promise<void> {
    const token =
      typeof given === 'string'
        ? given
        : await vscode.window.showInputBox({
            title: 'cairn: Sign in with a cairn session token',
            prompt: 'A cairn session token (from `cairn login` or the browser sign-in)',
            password: true,
            ignoreFocusOut: true,
          });
    if (!token?.trim()) return;
    const me = await this.client(token.trim()).me();
    await this.ctx.secrets.store(SECRET, token.trim());
    void vscode.window.showInformationMessage(`cairn: signed in as ${me.user.github_login}`);
    await this.refresh();
  }

  async signOut(): Promise<void> {
    const token = await this.ctx.secrets.get(SECRET);
    if (token) await this.client(token).signOut().catch(() => undefined);
    await this.ctx.secrets.delete(SECRET);
    await this.refresh();
  }

  // ---- repositories -------------------------------------------------------------------------

  private add(repo: Repository): void {
    const key = repo.rootUri.toString();
    if (this.checkouts.has(key)) return;
    const c: Checkout = {
      repo,
      github: null,
      head: null,
      incidents: [],
      mode: null,
      tracker: new EditTracker(repo.rootUri, this.git.git.path, (rel) => this.relocate(c, rel)),
    };
    this.checkouts.set(key, c);
    this.disposables.push(
      c.tracker,
      repo.state.onDidChange(() => {
        const head = repo.state.HEAD?.commit ?? null;
        const github = this.githubOf(repo);
        if (head !== c.head || github !== c.github) void this.refresh();
      }),
    );
    void this.refresh();
  }

  private remove(repo: Repository): void {
    const key = repo.rootUri.toString();
    this.checkouts.get(key)?.tracker.dispose();
    this.checkouts.delete(key);
    this.render();
  }

  private githubOf(repo: Repository): string | null {
    const remotes = repo.state.remotes;
    const origin = remotes.find((r) => r.name === 'origin') ?? remotes[0];
    const url = origin?.fetchUrl ?? origin?.pushUrl;
    const parsed = url ? parseGitHubRemote(url) : undefined;
    return parsed ? fullName(parsed) : null;
  }

  // ---- fetching -----------------------------------------------------------------------------

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    const seconds = vscode.workspace.getConfiguration('cairn').get<number>('refreshIntervalSeconds', 300);
    this.timer = seconds > 0 ? setInterval(() => void this.refresh(), Math.max(10, seconds) * 1000) : null;
  }

  /** Fetches every checkout's open incidents again; a newer refresh cancels an older one. */
  async refresh(): Promise<void> {
    this.inflight?.abort();
    const ctl = new AbortController();
    this.inflight = ctl;
    const token = await this.token();
    const checkouts = [...this.checkouts.values()];
    for (const c of checkouts) {
      c.head = c.repo.state.HEAD?.commit ?? null;
      c.github = this.githubOf(c.repo);
    }
    if (!token) return this.settle('signed-out', null, ctl);
    const targets = checkouts.filter((c) => c.github && c.head);
    if (targets.length === 0) return this.settle('no-repo', null, ctl);
    this.setStatus('loading');
    const client = this.client(token);
    let failure: ApiError | null = null;
    let missing = 0;
    await Promise.all(
      targets.map(async (c) => {
        try {
          const [located] = await Promise.all([client.openIncidentsAt(c.github!, c.head!, ctl.signal), c.tracker.refreshAll()]);
          c.incidents = located.incidents;
          c.mode = located.mode;
          this.log.appendLine(`${c.github}@${c.head!.slice(0, 7)}: ${located.incidents.length} open (${located.mode}=)`);
        } catch (e) {
          const err = e instanceof ApiError ? e : new ApiError(0, 'network', String(e));
          if (err.code === 'cancelled') return;
          c.incidents = [];
          if (err.status === 404) missing++;
          else failure = err;
          this.log.appendLine(`${c.github}: ${err.status} ${err.code}: ${err.message}`);
        }
      }),
    );
    if (ctl.signal.aborted) return;
    const f = failure as ApiError | null;
    if (f?.status === 401) return this.settle('signed-out', 'cairn: your session is no longer valid; sign in again', ctl);
    if (f) return this.settle('offline', `cairn: cannot fetch incidents (${f.message})`, ctl);
    this.settle(missing === targets.length ? 'no-project' : 'ok', null, ctl);
  }

  private settle(state: State, error: string | null, ctl: AbortController): void {
    if (ctl !== this.inflight) return;
    if (state === 'signed-out' || state === 'no-repo') for (const c of this.checkouts.values()) c.incidents = [];
    this.setStatus(state);
    // One notification per distinct problem, not one per refresh.
    if (error && error !== this.lastError) {
      void vscode.window.showWarningMessage(error, 'Sign in with a token').then((pick) => {
        if (pick) void vscode.commands.executeCommand('cairn.signInWithToken');
      });
    }
    this.lastError = error;
    this.render();
  }

  private setStatus(state: State): void {
    this.state = state;
    const open = [...this.checkouts.values()].reduce((n, c) => n + c.incidents.length, 0);
    const text: Record<State, string> = {
      'signed-out': '$(account) cairn: signed out',
      offline: '$(cloud-offline) cairn: offline',
      'no-project': '$(circle-slash) cairn: no project',
      'no-repo': '$(circle-slash) cairn: no GitHub repo',
      loading: '$(sync~spin) cairn',
      ok: `$(bug) cairn: ${open}`,
    };
    this.status.text = text[state];
    this.status.tooltip = state === 'ok' ? `${open} open incidents at this checkout (click to refresh)` : 'cairn (click to refresh)';
  }

  // ---- showing ------------------------------------------------------------------------------

  /** A file's mapping changed (live edit, save): its diagnostics and decorations move. */
  private relocate(_c: Checkout, _rel: string): void {
    this.render();
  }

  private render(): void {
    this.specs = [];
    const placed: Placed[] = [];
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const c of this.checkouts.values()) {
      const specs = buildDiagnostics(c.incidents, (file, line) => c.tracker.map(file, line));
      const lineOf = new Map(specs.map((s) => [s.incidentId, s.line]));
      for (const i of c.incidents) placed.push({ incident: i, root: c.repo.rootUri, line: lineOf.get(i.incident_id) ?? null });
      for (const s of specs) {
        this.specs.push({ ...s, root: c.repo.rootUri });
        const uri = vscode.Uri.joinPath(c.repo.rootUri, s.file).toString();
        byFile.set(uri, [...(byFile.get(uri) ?? []), this.toDiagnostic(s)]);
      }
    }
    this.diagnostics.clear();
    for (const [uri, list] of byFile) this.diagnostics.set(vscode.Uri.parse(uri), list);
    const notes: Partial<Record<State, string>> = {
      'signed-out': 'Signed out: run "cairn: Sign in"',
      offline: 'Offline: the cairn server does not answer',
      'no-project': 'This repository has no cairn project',
      'no-repo': 'No git repository with a GitHub origin',
    };
    this.tree.update(placed, notes[this.state] ?? null);
    this.setStatus(this.state);
    this.decorate();
    this.writeTestState();
  }

  private toDiagnostic(s: DiagnosticSpec): vscode.Diagnostic {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath.endsWith(`/${s.file}`));
    const text = doc && s.line < doc.lineCount ? doc.lineAt(s.line) : undefined;
    const start = s.startColumn ?? text?.firstNonWhitespaceCharacterIndex ?? 0;
    const end = text ? Math.max(text.range.end.character, start + 1) : start + 1;
    const d = new vscode.Diagnostic(new vscode.Range(s.line, start, s.line, end), s.message, vscode.DiagnosticSeverity[s.severity]);
    d.source = s.source;
    d.code = { value: s.code, target: vscode.Uri.parse(this.client().incidentUrl(s.incidentId)) };
    return d;
  }

  private decorate(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const here = this.specs.filter((s) => vscode.Uri.joinPath(s.root, s.file).toString() === editor.document.uri.toString());
      editor.setDecorations(
        this.decoration,
        here.map((s) => {
          const i = this.find(s.incidentId);
          const end = s.line < editor.document.lineCount ? editor.document.lineAt(s.line).range.end : new vscode.Position(s.line, 0);
          return {
            range: new vscode.Range(end, end),
            renderOptions: { after: { contentText: `cairn: ${i?.occurrence_count ?? 0}× in production` } },
          };
        }),
      );
    }
  }

  private find(id: string): Incident | undefined {
    for (const c of this.checkouts.values()) {
      const i = c.incidents.find((x) => x.incident_id === id);
      if (i) return i;
    }
    return undefined;
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const here = this.specs.filter((s) => s.line === pos.line && vscode.Uri.joinPath(s.root, s.file).toString() === doc.uri.toString());
    if (here.length === 0) return undefined;
    const parts = here.flatMap((s) => {
      const c = [...this.checkouts.values()].find((x) => x.repo.rootUri.toString() === s.root.toString());
      const i = c?.incidents.find((x) => x.incident_id === s.incidentId);
      if (!c || !i) return [];
      const m = new vscode.MarkdownString(
        hoverMarkdown(
          i,
          {
            file: (path, line) => {
              const at = c.tracker.map(path, line).line;
              return vscode.Uri.joinPath(c.repo.rootUri, path).with({ fragment: `L${at}` }).toString();
            },
            resolve: (id) => `command:cairn.resolve?${encodeURIComponent(JSON.stringify([id]))}`,
            details: (id) => `command:cairn.showIncident?${encodeURIComponent(JSON.stringify([id]))}`,
          },
          c.tracker.map(i.file_path!, i.line_number!),
        ),
        true,
      );
      m.isTrusted = { enabledCommands: ['cairn.resolve', 'cairn.showIncident'] };
      return [m];
    });
    return new vscode.Hover(parts);
  }

  // ---- incident commands --------------------------------------------------------------------

  /** The incident a command is about: its argument (id or tree node), else the one at the cursor, else a pick. */
  async target(arg: unknown, from: Incident[] = [...this.checkouts.values()].flatMap((c) => c.incidents)): Promise<string | undefined> {
    if (typeof arg === 'string') return arg;
    const fromTree = IncidentTree.idOf(arg);
    if (fromTree) return fromTree;
    const editor = vscode.window.activeTextEditor;
    if (editor) {
      const atCursor = this.specs.find((s) => s.line === editor.selection.active.line && vscode.Uri.joinPath(s.root, s.file).toString() === editor.document.uri.toString());
      if (atCursor) return atCursor.incidentId;
    }
    const pick = await vscode.window.showQuickPick(
      from.map((i) => ({ label: `${i.error_type ?? 'Error'}: ${i.error_message}`, description: i.incident_id, id: i.incident_id })),
      { title: 'cairn: which incident?' },
    );
    return pick?.id;
  }

  async setIncidentStatus(arg: unknown, status: 'open' | 'resolved'): Promise<void> {
    const id = await this.target(arg, status === 'open' ? this.resolved : undefined);
    if (!id) return;
    const token = await this.token();
    if (!token) return void vscode.window.showWarningMessage('cairn: sign in first');
    try {
      const after = await this.client(token).setStatus(id, status);
      void vscode.window.showInformationMessage(`cairn: ${after.incident_id} is ${after.status}`);
      this.log.appendLine(`${after.incident_id}: ${after.status}`);
      this.resolved = this.resolved.filter((i) => i.incident_id !== after.incident_id);
      if (after.status === 'resolved') this.resolved.unshift(after);
    } catch (e) {
      void vscode.window.showErrorMessage(`cairn: could not set ${id} to ${status}: ${e instanceof Error ? e.message : String(e)}`);
    }
    await this.refresh();
  }

  async copyLink(arg: unknown): Promise<void> {
    const id = await this.target(arg);
    if (id) await vscode.env.clipboard.writeText(this.client().incidentUrl(id));
  }

  async openDeployment(arg: unknown): Promise<void> {
    const id = await this.target(arg);
    const url = id ? this.find(id)?.deployment_url : undefined;
    if (!url) return void vscode.window.showInformationMessage('cairn: this incident has no known deployment');
    await vscode.env.openExternal(vscode.Uri.parse(url.startsWith('http') ? url : `https://${url}`));
  }

  async showIncident(arg: unknown): Promise<void> {
    const id = await this.target(arg);
    const token = await this.token();
    if (!id || !token) return;
    const d = await this.client(token).incident(id);
    const events = d.recent_events.map((e) => `- ${e.occurred_at} · ${e.environment ?? ''} · ${e.commit_sha?.slice(0, 7) ?? ''} · \`${e.event_id}\``);
    const body = hoverMarkdown(d, { file: () => null, resolve: () => '#', details: () => this.client().incidentUrl(id) });
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: `${body}\n\n### Recent events\n\n${events.join('\n')}\n` });
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  /** Under test (`CAIRN_TEST_STATE_FILE`), the state the end-to-end test waits for. */
  private writeTestState(): void {
    const file = process.env.CAIRN_TEST_STATE_FILE;
    if (!file) return;
    const diagnostics = this.specs.map((s) => ({ file: s.file, line: s.line + 1, code: s.code, message: s.message }));
    const modes = [...this.checkouts.values()].map((c) => ({ repo: c.github, head: c.head, mode: c.mode }));
    writeFileSync(file, JSON.stringify({ state: this.state, status: this.status.text, checkouts: modes, diagnostics }, null, 2));
  }

  dispose(): void {
    this.inflight?.abort();
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

export async function activate(ctx: vscode.ExtensionContext): Promise<void> {
  const ext = vscode.extensions.getExtension<GitExtension>('vscode.git');
  const git = (ext?.isActive ? ext.exports : await ext?.activate())?.getAPI(1);
  if (!git) throw new Error('cairn needs the built-in git extension');
  const cairn = new Cairn(ctx, git);
  const guard =
    (f: (...a: unknown[]) => Promise<void>) =>
    async (...a: unknown[]) => {
      try {
        await f(...a);
      } catch (e) {
        void vscode.window.showErrorMessage(`cairn: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
  ctx.subscriptions.push(
    cairn,
    vscode.commands.registerCommand('cairn.signIn', guard(() => cairn.signInWithGitHub())),
    vscode.commands.registerCommand('cairn.signInWithToken', guard((t) => cairn.signInWithToken(t as string | undefined))),
    vscode.commands.registerCommand('cairn.signOut', guard(() => cairn.signOut())),
    vscode.commands.registerCommand('cairn.refresh', guard(() => cairn.refresh())),
    vscode.commands.registerCommand('cairn.resolve', guard((a) => cairn.setIncidentStatus(a, 'resolved'))),
    vscode.commands.registerCommand('cairn.reopen', guard((a) => cairn.setIncidentStatus(a, 'open'))),
    vscode.commands.registerCommand('cairn.copyLink', guard((a) => cairn.copyLink(a))),
    vscode.commands.registerCommand('cairn.openDeployment', guard((a) => cairn.openDeployment(a))),
    vscode.commands.registerCommand('cairn.showIncident', guard((a) => cairn.showIncident(a))),
  );
}

export function deactivate(): void {}

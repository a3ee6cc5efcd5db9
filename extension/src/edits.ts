// Edits since HEAD, per file: `git diff -U0 HEAD` for what is on disk, then every live edit of an
// open document, so a HEAD line (where the server located an incident) is found in the buffer.
// Thin `vscode` glue around the pure mapping in linemap.ts.

import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { applyChange, mapThrough, parseGitDiff, type Hunk, type Mapped } from './linemap';

interface Tracked {
  /** HEAD → disk, from `git diff`. */
  head: Hunk[];
  /** Disk → buffer: one step per live edit since the document last matched the disk. */
  edits: Hunk[][];
  /** The buffer's lines as of the last edit (live edits are diffed against them). */
  lines: string[] | null;
}

/** The HEAD → buffer line mapping of one repository's files. */
export class EditTracker implements vscode.Disposable {
  private readonly files = new Map<string, Tracked>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly root: vscode.Uri,
    private readonly gitPath: string,
    /** Called when a file's mapping changed (diagnostics must move). */
    private readonly changed: (relPath: string) => void,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.onChange(e)),
      vscode.workspace.onDidSaveTextDocument((d) => void this.resync(d)),
      vscode.workspace.onDidOpenTextDocument((d) => void this.resync(d)),
    );
  }

  /** Repo-relative path of a document of this repository, else `undefined`. */
  relPath(uri: vscode.Uri): string | undefined {
    if (uri.scheme !== 'file') return undefined;
    const root = this.root.fsPath.replace(/\/+$/, '') + '/';
    return uri.fsPath.startsWith(root) ? uri.fsPath.slice(root.length) : undefined;
  }

  /** Re-reads `git diff -U0 HEAD` for every file (after HEAD moved, or on refresh). */
  async refreshAll(): Promise<void> {
    const files = parseGitDiff(await this.diff([]));
    const byPath = new Map(files.filter((f) => f.newPath).map((f) => [f.newPath!, f.hunks]));
    for (const [path, t] of this.files) t.head = byPath.get(path) ?? [];
    for (const [path, hunks] of byPath) if (!this.files.has(path)) this.files.set(path, { head: hunks, edits: [], lines: null });
    for (const doc of vscode.workspace.textDocuments) {
      const rel = this.relPath(doc.uri);
      if (rel && !doc.isDirty) this.reset(rel, doc);
    }
  }

  /** Where HEAD line `line` (1-based) of `relPath` is in the buffer (or on disk when not open). */
  map(relPath: string, line: number): Mapped {
    const t = this.files.get(relPath);
    return t ? mapThrough([t.head, ...t.edits], line) : { line, state: 'unchanged' };
  }

  private reset(rel: string, doc: vscode.TextDocument): void {
    const t = this.files.get(rel) ?? { head: [], edits: [], lines: null };
    t.edits = [];
    t.lines = doc.getText().split(/\r\n|\r|\n/);
    this.files.set(rel, t);
  }

  private async resync(doc: vscode.TextDocument): Promise<void> {
    const rel = this.relPath(doc.uri);
    if (!rel || doc.isDirty) return;
    const hunks = parseGitDiff(await this.diff([rel])).find((f) => f.newPath === rel)?.hunks ?? [];
    if (doc.isDirty) return; // edited while git ran: the next save resyncs
    this.reset(rel, doc);
    this.files.get(rel)!.head = hunks;
    this.changed(rel);
  }

  private onChange(e: vscode.TextDocumentChangeEvent): void {
    const rel = this.relPath(e.document.uri);
    if (!rel || e.contentChanges.length === 0) return;
    const t = this.files.get(rel);
    if (!t || !t.lines) {
      // First edit of a document opened before we tracked it: its previous text is unknown, so
      // start from now (the edit itself is not mapped).
      this.reset(rel, e.document);
    } else {
      for (const c of e.contentChanges) {
        const r = applyChange(t.lines, {
          startLine: c.range.start.line,
          startCharacter: c.range.start.character,
          endLine: c.range.end.line,
          endCharacter: c.range.end.character,
          text: c.text,
        });
        t.lines = r.lines;
        if (r.hunks.length > 0) t.edits.push(r.hunks);
      }
      // The copy must stay the document; if it ever drifts, start again from the document.
      if (t.lines.length !== e.document.lineCount) this.reset(rel, e.document);
    }
    // Maybe back to what is on disk (a reload after checkout, an undo to the saved text). The
    // first edit's event may still say "not dirty", so resync checks again once git answered.
    if (!e.document.isDirty) void this.resync(e.document);
    this.changed(rel);
  }

  private diff(paths: string[]): Promise<string> {
    const args = ['diff', '--no-color', '--no-ext-diff', '--no-renames', '-U0', 'HEAD', '--', ...paths];
    return new Promise((resolve) => {
      execFile(this.gitPath, args, { cwd: this.root.fsPath, maxBuffer: 64 * 1024 * 1024, timeout: 15_000 }, (err, stdout) =>
        resolve(err ? '' : stdout),
      );
    });
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}

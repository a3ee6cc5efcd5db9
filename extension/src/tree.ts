// The "cairn: Incidents" view: by file, or newest first, with counts. Thin `vscode` glue.

import * as vscode from 'vscode';
import type { Incident } from './api';

/** An incident with the workspace folder it belongs to. */
export interface Placed {
  incident: Incident;
  root: vscode.Uri;
  /** Where it is in the buffer now (0-based), when it is on a line. */
  line: number | null;
}

type Node = { kind: 'file'; label: string; items: Placed[] } | { kind: 'incident'; item: Placed } | { kind: 'note'; text: string };

/** The tree's data: what the extension last fetched. */
export class IncidentTree implements vscode.TreeDataProvider<Node> {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private items: Placed[] = [];
  private note: string | null = null;

  /** Replaces the incidents shown (or shows a note: signed out, offline…). */
  update(items: Placed[], note: string | null): void {
    this.items = items;
    this.note = note;
    this.emitter.fire();
  }

  getChildren(node?: Node): Node[] {
    if (node?.kind === 'file') return node.items.map((item) => ({ kind: 'incident', item }));
    if (node) return [];
    if (this.items.length === 0) return [{ kind: 'note', text: this.note ?? 'No open incidents at this commit' }];
    const byLastSeen = [...this.items].sort((a, b) => b.incident.last_seen_at.localeCompare(a.incident.last_seen_at));
    const mode = vscode.workspace.getConfiguration('cairn').get<string>('incidentsView', 'byFile');
    if (mode === 'newest') return byLastSeen.map((item) => ({ kind: 'incident', item }));
    const groups = new Map<string, Placed[]>();
    for (const p of byLastSeen) {
      const key = p.incident.file_path ?? '(no file)';
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, items]) => ({ kind: 'file', label, items }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'note') return new vscode.TreeItem(node.text);
    if (node.kind === 'file') {
      const t = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      t.description = `${node.items.length}`;
      t.iconPath = vscode.ThemeIcon.File;
      const first = node.items[0];
      if (first && first.incident.file_path) t.resourceUri = vscode.Uri.joinPath(first.root, first.incident.file_path);
      return t;
    }
    const { incident: i, root, line } = node.item;
    const t = new vscode.TreeItem(`${i.error_type ?? 'Error'}: ${i.error_message}`);
    t.description = `${i.occurrence_count}× · ${i.affected_users} users${line !== null ? ` · line ${line + 1}` : ''}`;
    t.tooltip = `${i.incident_id} · last seen ${i.last_seen_at}`;
    t.contextValue = `incident.${i.status}`;
    t.iconPath = new vscode.ThemeIcon(i.level === 'warning' ? 'warning' : 'error');
    t.id = i.incident_id;
    if (i.file_path && line !== null) {
      t.command = {
        command: 'vscode.open',
        title: 'Open',
        arguments: [vscode.Uri.joinPath(root, i.file_path), { selection: new vscode.Range(line, 0, line, 0) }],
      };
    }
    return t;
  }

  /** The incident id of a tree node passed to a command. */
  static idOf(arg: unknown): string | undefined {
    const n = arg as Node | undefined;
    return n && typeof n === 'object' && n.kind === 'incident' ? n.item.incident.incident_id : undefined;
  }
}

// What the editor shows for incidents: diagnostics (file, range, severity, message, code) and the
// hover's markdown, as plain data the adapter turns into `vscode` objects. Pure: no `vscode`.

import type { Incident } from './api';
import type { Mapped } from './linemap';

/** Diagnostic severities, named as `vscode.DiagnosticSeverity` names them. */
export type Severity = 'Error' | 'Warning' | 'Information' | 'Hint';

/** One diagnostic, 0-based positions as the editor counts them. */
export interface DiagnosticSpec {
  /** Repo-relative path of the file it belongs to. */
  file: string;
  line: number;
  /** Start column (0-based); the whole line's text when the incident has no column. */
  startColumn: number | null;
  severity: Severity;
  message: string;
  /** Always `cairn`. */
  source: 'cairn';
  /** The incident id. */
  code: string;
  incidentId: string;
}

/** A SDK level as a diagnostic severity: errors and fatals are errors, and so on down. */
export function severityOf(level: string): Severity {
  switch (level.toLowerCase()) {
    case 'fatal':
    case 'critical':
    case 'error':
      return 'Error';
    case 'warning':
    case 'warn':
      return 'Warning';
    case 'info':
    case 'log':
      return 'Information';
    case 'debug':
      return 'Hint';
    default:
      return 'Error';
  }
}

/** The first 7 digits of a commit. */
export function short(sha: string | null | undefined): string {
  return (sha ?? '').slice(0, 7);
}

/** The commit an incident's location was recorded at (`seen_commit_sha`, else the last seen). */
function seenCommit(i: Incident): string | null | undefined {
  return i.seen_commit_sha ?? i.last_commit_sha ?? i.commit_sha;
}

/**
 * The note for an incident whose server-side line translation is not `unchanged` (issue 20), or
 * `null`: "this line changed since production's commit abc1234", with what became of it.
 */
export function translationNote(i: Incident): string | null {
  const state = i.line_state;
  if (!state || state === 'unchanged') return null;
  const at = `production's commit ${short(seenCommit(i))}`;
  switch (state) {
    case 'changed':
      return `this line changed since ${at}`;
    case 'deleted':
      return `this line changed since ${at}: it was deleted, shown on the nearest remaining line`;
    case 'file_deleted':
      return `this line changed since ${at}: its file was deleted`;
    case 'unknown':
      return `this line may have changed since ${at}: it could not be located at your checkout`;
    default:
      return `this line changed since ${at} (${state})`;
  }
}

/** The note for a line the developer has edited since HEAD, or `null`. */
export function localNote(m: Mapped | undefined): string | null {
  if (!m || m.state === 'unchanged') return null;
  return m.state === 'changed' ? 'you edited this line since HEAD' : 'you deleted this line since HEAD (shown on the line above)';
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The diagnostic's one-line message. */
export function message(i: Incident, local?: Mapped): string {
  const what = i.error_type ? `${i.error_type}: ${i.error_message}` : i.error_message;
  const counts = `${plural(i.occurrence_count, 'event', 'events')}, ${plural(i.affected_users, 'user', 'users')}`;
  const notes = [translationNote(i), localNote(local)].filter((n): n is string => n !== null);
  return `${what} (${counts}${i.environment ? ` in ${i.environment}` : ''})${notes.map((n) => ` — ${n}`).join('')}`;
}

/**
 * Diagnostics for incidents located at HEAD: `mapLine(file, line)` moves a HEAD line (1-based) to
 * the buffer (edits since HEAD) and returns `undefined` when the file is not in the workspace.
 * Incidents without a file and line, or whose file is deleted, get none (the tree lists them).
 */
export function buildDiagnostics(
  incidents: readonly Incident[],
  mapLine: (file: string, line: number) => Mapped | undefined,
): DiagnosticSpec[] {
  const out: DiagnosticSpec[] = [];
  for (const i of incidents) {
    if (!i.file_path || !i.line_number || i.line_number < 1 || i.line_state === 'file_deleted') continue;
    const m = mapLine(i.file_path, i.line_number);
    if (!m) continue;
    const keepColumn = m.state === 'unchanged' && (i.line_state ?? 'unchanged') === 'unchanged';
    out.push({
      file: i.file_path,
      line: m.line - 1,
      startColumn: keepColumn && i.column_number && i.column_number > 0 ? i.column_number - 1 : null,
      severity: severityOf(i.level),
      message: message(i, m),
      source: 'cairn',
      code: i.incident_id,
      incidentId: i.incident_id,
    });
  }
  return out;
}

/** Escapes text for markdown. */
export function md(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`).replace(/^([#+\-=>]|\d+\.)/, '\\$1');
}

/** Links the hover needs, made by the adapter (URIs are the editor's business). */
export interface HoverLinks {
  /** A link that opens a repo-relative file at a line, or `null` when it is not in the workspace. */
  file(path: string, line: number): string | null;
  /** A command link that resolves the incident. */
  resolve(id: string): string;
  /** The incident's details. */
  details(id: string): string;
}

/** The hover's markdown for one incident (type, message, counts, dates, deploy, in-app stack). */
export function hoverMarkdown(i: Incident, links: HoverLinks, local?: Mapped): string {
  const lines: string[] = [];
  lines.push(`**cairn** · ${md(i.level)} · \`${i.incident_id}\``, '');
  lines.push(`**${md(i.error_type ?? 'Error')}**: ${md(i.error_message)}`, '');
  lines.push(
    `${plural(i.occurrence_count, 'occurrence', 'occurrences')} · ${plural(i.affected_users, 'affected user', 'affected users')}` +
      (i.environment ? ` · environment ${md(i.environment)}` : ''),
    '',
  );
  lines.push(`First seen ${day(i.first_seen_at)} · last seen ${day(i.last_seen_at)}`, '');
  const commit = seenCommit(i);
  const deploy = i.deployment_url
    ? `[${md(i.deployment_id ?? i.deployment_url)}](${i.deployment_url.startsWith('http') ? i.deployment_url : `https://${i.deployment_url}`})`
    : i.deployment_id
      ? md(i.deployment_id)
      : null;
  if (deploy || commit) {
    lines.push(`Seen in ${deploy ? `deploy ${deploy}` : 'production'}${commit ? ` at commit \`${short(commit)}\`` : ''}`, '');
  }
  for (const note of [translationNote(i), localNote(local)]) if (note) lines.push(`$(warning) ${md(note)}`, '');
  const stack = i.frames.filter((f) => f.in_app && f.file_path);
  if (stack.length > 0) {
    lines.push('In-app stack (most recent call first):', '');
    for (const f of stack) {
      const label = `${f.file_path}${f.line_number ? `:${f.line_number}` : ''}`;
      const target = f.line_number ? links.file(f.file_path!, f.line_number) : links.file(f.file_path!, 1);
      const fn = f.function ? ` in \`${f.function.replace(/`/g, '')}\`` : '';
      lines.push(`- ${target ? `[${md(label)}](${target})` : md(label)}${fn}`);
    }
    lines.push('');
  }
  lines.push(`[Resolve](${links.resolve(i.incident_id)}) · [Details](${links.details(i.incident_id)})`);
  return lines.join('\n');
}

/** An ISO date-time as `YYYY-MM-DD HH:MM UTC`. */
function day(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

// The cairn HTTP API as the extension uses it (docs/openapi.json): sign-in, incidents, resolve.
// Every request is time-limited, cancellable by its caller, and retried with backoff when the
// server or the network says to try again (429, 502–504, connection errors). Pure: no `vscode`.

/** A stack frame as served: repo-relative path. */
export interface Frame {
  file_path?: string | null;
  line_number?: number | null;
  column_number?: number | null;
  function?: string | null;
  in_app: boolean;
  /** Present once the server translates lines (issue 20). */
  line_state?: string | null;
}

/** An incident as the IDE sees it (`Incident` in docs/openapi.json, with issue 20's fields). */
export interface Incident {
  incident_id: string;
  project_id: string;
  repo: string;
  status: string;
  level: string;
  error_type?: string | null;
  error_message: string;
  file_path?: string | null;
  line_number?: number | null;
  column_number?: number | null;
  function?: string | null;
  frames: Frame[];
  occurrence_count: number;
  affected_users: number;
  first_seen_at: string;
  last_seen_at: string;
  environment?: string | null;
  commit_sha?: string | null;
  first_commit_sha?: string | null;
  last_commit_sha?: string | null;
  deployment_id?: string | null;
  deployment_url?: string | null;
  resolved_at?: string | null;
  // Line translation (issue 20); absent from servers without `at=`.
  line_state?: string | null;
  seen_commit_sha?: string | null;
  seen_file_path?: string | null;
  seen_line_number?: number | null;
  relation?: string | null;
}

/** One incident with its latest events. */
export interface IncidentDetail extends Incident {
  recent_events: {
    event_id: string;
    occurred_at: string;
    received_at: string;
    commit_sha?: string | null;
    deployment_id?: string | null;
    environment?: string | null;
    release?: string | null;
  }[];
}

/** The `translation` object of a listing with `at=` (issue 20). */
export interface Translation {
  status: string;
  reason?: string | null;
}

/** The session answer of `POST /v1/auth/token`. */
export interface IssuedSession {
  session_token: string;
  expires_at: string;
  user: { github_login: string; github_id: number };
}

/** `GET /v1/me`. */
export interface Me {
  expires_at: string;
  user: { github_login: string; github_id: number; avatar_url?: string | null; github_email?: string | null };
}

/** The open incidents of one checkout, and how they were located. */
export interface Located {
  incidents: Incident[];
  /**
   * `at`: translated to the checkout by the server; `commit`: the server does not know `at=`,
   * so only incidents seen at exactly this commit, located as seen.
   */
  mode: 'at' | 'commit';
  translation: Translation | null;
}

/** A failed request: the API's error code and message, or a transport failure. */
export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when no answer came (network, timeout). */
    readonly status: number,
    /** The API's `error.code`, or `network` / `timeout` / `cancelled` / `bad_response`. */
    readonly code: string,
    message: string,
    /** Seconds the server asked to wait (`Retry-After`). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Whether trying again later may succeed. */
  get retryable(): boolean {
    return this.status === 0 ? this.code !== 'cancelled' : [429, 502, 503, 504].includes(this.status);
  }
}

/** How the client talks to the server. */
export interface ClientOptions {
  baseUrl: string;
  token?: string | undefined;
  /** Per attempt, default 10 s. */
  timeoutMs?: number;
  /** Attempts in all, default 3. */
  attempts?: number;
  /** First backoff delay, default 500 ms (doubled each time, with jitter, at most 8 s). */
  backoffMs?: number;
  /** Injected for tests: waits `ms` unless `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The longest wait a `Retry-After` may impose before the client gives up instead. */
const MAX_RETRY_AFTER_MS = 30_000;

/** A client for one server and, optionally, one session. */
export class CairnClient {
  private readonly base: string;
  /** Set once the server has shown it ignores `at=` (it predates line translation). */
  private atUnsupported = false;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
  }

  /** The link of an incident's details (the diagnostic's code target, "copy incident link"). */
  incidentUrl(id: string): string {
    return `${this.base}/v1/incidents/${encodeURIComponent(id)}`;
  }

  /** Trades a GitHub OAuth token (VS Code's GitHub sign-in) for a cairn session. */
  exchangeGitHubToken(githubToken: string, signal?: AbortSignal): Promise<IssuedSession> {
    return this.request('POST', '/v1/auth/token', { body: { github_token: githubToken }, signal, retryOnNetwork: false });
  }

  /** The signed-in user (a `401` means the token is not, or no longer, a session). */
  me(signal?: AbortSignal): Promise<Me> {
    return this.request('GET', '/v1/me', { signal });
  }

  /** Ends the session on the server. */
  async signOut(signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', '/v1/auth/session', { signal });
  }

  /**
   * The repo's open incidents located at `sha` (the checkout's HEAD). Asks with `at=` (lines
   * translated by the server, issue 20); a server that predates it ignores the unknown parameter
   * and answers the repo's whole listing without a `translation` object, so that answer is
   * dropped and the question asked again with `commit=` (incidents seen at exactly `sha`).
   */
  async openIncidentsAt(repo: string, sha: string, signal?: AbortSignal): Promise<Located> {
    if (!this.atUnsupported) {
      const first = await this.listAll({ repo, at: sha, status: 'open' }, signal, true);
      if (first) return { incidents: first.incidents, mode: 'at', translation: first.translation };
      this.atUnsupported = true;
    }
    const seen = await this.listAll({ repo, commit: sha, status: 'open' }, signal, false);
    return { incidents: seen?.incidents ?? [], mode: 'commit', translation: null };
  }

  /** Every page of a listing; `null` when `translated` is asked and the first page has no `translation`. */
  private async listAll(
    query: Record<string, string>,
    signal: AbortSignal | undefined,
    translated: boolean,
  ): Promise<{ incidents: Incident[]; translation: Translation | null } | null> {
    const incidents: Incident[] = [];
    let translation: Translation | null = null;
    let cursor: string | undefined;
    // 10 pages of 200: far more than an editor can show usefully.
    for (let page = 0; page < 10; page++) {
      const q: Record<string, string> = { ...query, limit: '200' };
      if (cursor) q.cursor = cursor;
      const body = await this.request<{ incidents?: unknown; next_cursor?: string | null; translation?: Translation }>(
        'GET',
        '/v1/incidents',
        { query: q, signal },
      );
      if (!Array.isArray(body.incidents)) throw new ApiError(200, 'bad_response', 'the listing has no incidents array');
      incidents.push(...(body.incidents as Incident[]));
      if (page === 0) {
        if (body.translation && typeof body.translation === 'object') translation = body.translation;
        else if (translated) return null;
      }
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
    return { incidents, translation };
  }

  /** One incident with its latest events, located at `sha` when the server can. */
  incident(id: string, signal?: AbortSignal): Promise<IncidentDetail> {
    return this.request('GET', `/v1/incidents/${encodeURIComponent(id)}`, { signal });
  }

  /** Resolves or reopens an incident; the answer is the incident after the change. */
  setStatus(id: string, status: 'open' | 'resolved', signal?: AbortSignal): Promise<Incident> {
    return this.request('PATCH', `/v1/incidents/${encodeURIComponent(id)}`, { body: { status }, signal });
  }

  /** One request with timeout, cancellation and retries; the parsed JSON body, or `ApiError`. */
  async request<T>(
    method: string,
    path: string,
    o: { query?: Record<string, string>; body?: unknown; signal?: AbortSignal | undefined; retryOnNetwork?: boolean } = {},
  ): Promise<T> {
    const attempts = Math.max(1, this.opts.attempts ?? 3);
    const sleep = this.opts.sleep ?? defaultSleep;
    let backoff = this.opts.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, o);
      } catch (e) {
        const err = toApiError(e, o.signal);
        const networkRetry = err.status === 0 && o.retryOnNetwork !== false;
        const again = attempt < attempts && err.retryable && (err.status !== 0 || networkRetry);
        if (!again) throw err;
        const wait = err.retryAfter !== undefined ? err.retryAfter * 1000 : backoff * (0.5 + Math.random() / 2);
        if (wait > MAX_RETRY_AFTER_MS) throw err;
        backoff = Math.min(backoff * 2, 8000);
        try {
          await sleep(wait, o.signal);
        } catch {
          throw new ApiError(0, 'cancelled', 'the request was cancelled');
        }
      }
    }
  }

  private async once<T>(
    method: string,
    path: string,
    o: { query?: Record<string, string>; body?: unknown; signal?: AbortSignal | undefined },
  ): Promise<T> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 10_000);
    const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    const res = await fetch(url, {
      method,
      headers,
      body: o.body === undefined ? null : JSON.stringify(o.body),
      signal,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const detail = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      const retryAfter = Number(res.headers.get('retry-after'));
      throw new ApiError(
        res.status,
        detail?.code ?? `http_${res.status}`,
        detail?.message ?? `the server answered ${res.status}`,
        Number.isFinite(retryAfter) && res.headers.has('retry-after') ? retryAfter : undefined,
      );
    }
    if (json === undefined && method !== 'DELETE') throw new ApiError(res.status, 'bad_response', 'the answer is not JSON');
    return json as T;
  }
}

function toApiError(e: unknown, caller?: AbortSignal): ApiError {
  if (e instanceof ApiError) return e;
  if (caller?.aborted) return new ApiError(0, 'cancelled', 'the request was cancelled');
  const name = (e as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new ApiError(0, 'timeout', 'the server did not answer in time');
  const cause = (e as { cause?: { code?: string } } | null)?.cause?.code;
  return new ApiError(0, 'network', `cannot reach the server${cause ? ` (${cause})` : ''}`);
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

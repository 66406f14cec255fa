// A JIP-2 client: JSON-RPC 2.0 over one WebSocket with request ids, subscriptions, reconnection
// with exponential back-off, and a timeout on every call. Failures are values (`RpcResult`), never
// exceptions, so a page can always say what went wrong.

export type RpcError = { code: number; message: string; data?: unknown };
export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: RpcError };

/** Codes the client itself uses (outside JSON-RPC's and JIP-2's ranges). */
export const TIMEOUT = -1;
export const DISCONNECTED = -2;
export const BAD_ANSWER = -3;
/** JSON-RPC's "method not found". */
export const METHOD_NOT_FOUND = -32601;
/** JIP-2 error codes. */
export const BLOCK_UNAVAILABLE = 1;
export const WORK_REPORT_UNAVAILABLE = 2;

export type Status = 'connecting' | 'connected' | 'disconnected';

/** What the client needs of a WebSocket (the browser's, or a test's). */
export interface SocketLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(): void;
}

export interface ClientOptions {
  /** Per-call timeout. */
  timeoutMs?: number;
  /** First reconnection delay; doubled after each failure up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Makes a socket (defaults to the global WebSocket). */
  socket?: (url: string) => SocketLike;
  /** Timers (tests pass fake ones). */
  setTimeout?: (f: () => void, ms: number) => unknown;
  clearTimeout?: (t: unknown) => void;
}

interface Pending {
  resolve: (r: RpcResult<unknown>) => void;
  timer: unknown;
}

interface Sub {
  method: string;
  params: unknown[];
  onValue: (v: unknown) => void;
  onError: (e: RpcError) => void;
  /** The server's id on the current connection, once subscribed. */
  serverId: string | number | null;
  closed: boolean;
}

const OPEN = 1;

export class RpcClient {
  private ws: SocketLike | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private subs = new Set<Sub>();
  private byServerId = new Map<string, Sub>();
  private queue: string[] = [];
  private backoff: number;
  private reconnectTimer: unknown = null;
  private stopped = false;
  private listeners = new Set<(s: Status, detail: string) => void>();
  status: Status = 'connecting';
  detail = '';

  private readonly timeoutMs: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly makeSocket: (url: string) => SocketLike;
  private readonly setT: (f: () => void, ms: number) => unknown;
  private readonly clearT: (t: unknown) => void;

  constructor(
    readonly url: string,
    opts: ClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.minBackoff = opts.backoffMs ?? 500;
    this.maxBackoff = opts.maxBackoffMs ?? 15_000;
    this.backoff = this.minBackoff;
    this.makeSocket = opts.socket ?? ((u) => new WebSocket(u) as unknown as SocketLike);
    this.setT = opts.setTimeout ?? ((f, ms) => globalThis.setTimeout(f, ms));
    this.clearT = opts.clearTimeout ?? ((t) => globalThis.clearTimeout(t as ReturnType<typeof setTimeout>));
    this.connect();
  }

  onStatus(f: (s: Status, detail: string) => void): () => void {
    this.listeners.add(f);
    f(this.status, this.detail);
    return () => this.listeners.delete(f);
  }

  private setStatus(s: Status, detail: string): void {
    this.status = s;
    this.detail = detail;
    for (const f of this.listeners) f(s, detail);
  }

  private connect(): void {
    if (this.stopped) return;
    this.setStatus('connecting', '');
    let ws: SocketLike;
    try {
      ws = this.makeSocket(this.url);
    } catch (e) {
      // A malformed URL throws at once; it will not get better by retrying.
      this.setStatus('disconnected', `cannot open ${this.url}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = this.minBackoff;
      this.setStatus('connected', '');
      const queued = this.queue;
      this.queue = [];
      for (const q of queued) ws.send(q);
      for (const s of this.subs) this.resubscribe(s);
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onerror = () => {};
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      // Calls in flight on this connection will not be answered.
      for (const [id, p] of this.pending) {
        this.clearT(p.timer);
        p.resolve({ ok: false, error: { code: DISCONNECTED, message: 'connection to the node closed' } });
        this.pending.delete(id);
      }
      this.byServerId.clear();
      for (const s of this.subs) s.serverId = null;
      if (this.stopped) return;
      const delay = this.backoff;
      this.backoff = Math.min(this.maxBackoff, this.backoff * 2);
      this.setStatus('disconnected', `retrying in ${(delay / 1000).toFixed(1)} s`);
      this.reconnectTimer = this.setT(() => {
        this.reconnectTimer = null;
        this.connect();
      }, delay);
    };
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { id?: unknown; result?: unknown; error?: unknown; method?: unknown; params?: unknown };
    if (typeof m.id === 'number' && this.pending.has(m.id)) {
      const p = this.pending.get(m.id)!;
      this.pending.delete(m.id);
      this.clearT(p.timer);
      if (m.error !== undefined) p.resolve({ ok: false, error: asError(m.error) });
      else if ('result' in m) p.resolve({ ok: true, value: m.result });
      else p.resolve({ ok: false, error: { code: BAD_ANSWER, message: 'answer with neither result nor error' } });
      return;
    }
    if (typeof m.method === 'string' && typeof m.params === 'object' && m.params !== null) {
      const p = m.params as { subscription?: unknown; result?: unknown; error?: unknown };
      const sub = this.byServerId.get(String(p.subscription));
      if (!sub || sub.closed) return;
      if (p.error !== undefined) sub.onError(asError(p.error));
      else sub.onValue(p.result);
    }
  }

  /** Calls `method`; resolves with its result or an error value (timeout, disconnection, RPC error). */
  call<T = unknown>(method: string, params: unknown[] = []): Promise<RpcResult<T>> {
    const id = this.nextId++;
    const text = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    return new Promise((resolve) => {
      const timer = this.setT(() => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        this.queue = this.queue.filter((q) => q !== text);
        resolve({ ok: false, error: { code: TIMEOUT, message: `${method}: no answer within ${this.timeoutMs / 1000} s` } });
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (r: RpcResult<unknown>) => void, timer });
      if (this.ws && this.ws.readyState === OPEN) this.ws.send(text);
      else this.queue.push(text);
    });
  }

  /**
   * Subscribes with `method(params)`; `onValue` gets each notification's result. The subscription
   * is renewed after a reconnection. Returns the function that ends it.
   */
  subscribe(method: string, params: unknown[], onValue: (v: unknown) => void, onError: (e: RpcError) => void): () => void {
    const sub: Sub = { method, params, onValue, onError, serverId: null, closed: false };
    this.subs.add(sub);
    if (this.status === 'connected') this.resubscribe(sub);
    return () => {
      sub.closed = true;
      this.subs.delete(sub);
      if (sub.serverId !== null) {
        this.byServerId.delete(String(sub.serverId));
        // JIP-2's unsubscribeX for subscribeX.
        void this.call('un' + method, [sub.serverId]);
      }
    };
  }

  private resubscribe(sub: Sub): void {
    void this.call(sub.method, sub.params).then((r) => {
      if (sub.closed) {
        // Ended before the node answered: end it on the node too.
        if (r.ok && (typeof r.value === 'number' || typeof r.value === 'string')) void this.call('un' + sub.method, [r.value]);
        return;
      }
      if (!r.ok) {
        sub.onError(r.error);
        return;
      }
      if (typeof r.value !== 'number' && typeof r.value !== 'string') {
        sub.onError({ code: BAD_ANSWER, message: `${sub.method}: subscription id is ${JSON.stringify(r.value)}` });
        return;
      }
      sub.serverId = r.value;
      this.byServerId.set(String(r.value), sub);
    });
  }

  close(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) this.clearT(this.reconnectTimer);
    this.ws?.close();
  }
}

function asError(e: unknown): RpcError {
  if (typeof e === 'object' && e !== null) {
    const o = e as { code?: unknown; message?: unknown; data?: unknown };
    return {
      code: typeof o.code === 'number' ? o.code : 0,
      message: typeof o.message === 'string' ? o.message : JSON.stringify(e),
      data: o.data,
    };
  }
  return { code: 0, message: String(e) };
}

/** A one-line account of an error for the page. */
export function describeError(what: string, e: RpcError): string {
  if (e.code === METHOD_NOT_FOUND) return `${what}: this node does not serve that call (method not found)`;
  const code = e.code === TIMEOUT ? 'timeout' : e.code === DISCONNECTED ? 'disconnected' : `error ${e.code}`;
  return `${what}: ${e.message} (${code})`;
}

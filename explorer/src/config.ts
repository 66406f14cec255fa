// How the page finds the node (the explorer contract): `?rpc=` in the page URL, else `rpc` in
// `./config.json` (written by the server that serves the page), else port 19800 on the page's host.

export const DEFAULT_PORT = 19800;

/** Accepts only ws:// and wss:// URLs; anything else is refused with a reason. */
export function checkRpcUrl(text: string): { ok: true; url: string } | { ok: false; error: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { ok: false, error: `RPC URL ${JSON.stringify(text)} is not a URL` };
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    return { ok: false, error: `RPC URL ${JSON.stringify(text)} is not ws:// or wss://` };
  }
  return { ok: true, url: text };
}

/** The `rpc` query parameter of the page URL's query string (before the hash), if any. */
export function rpcFromQuery(search: string): string | null {
  const v = new URLSearchParams(search).get('rpc');
  return v && v.length > 0 ? v : null;
}

export function defaultRpc(hostname: string): string {
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname || '127.0.0.1';
  return `ws://${host}:${DEFAULT_PORT}`;
}

/** Resolves the RPC URL; `fetchConfig` returns config.json's parsed body or null. */
export async function resolveRpcUrl(
  search: string,
  hostname: string,
  fetchConfig: () => Promise<unknown>,
): Promise<{ url: string; source: 'query' | 'config' | 'default' }> {
  const q = rpcFromQuery(search);
  if (q !== null) return { url: q, source: 'query' };
  try {
    const c = await fetchConfig();
    if (typeof c === 'object' && c !== null && typeof (c as { rpc?: unknown }).rpc === 'string') {
      return { url: (c as { rpc: string }).rpc, source: 'config' };
    }
  } catch {
    // No config.json (a plain static server): fall through to the default.
  }
  return { url: defaultRpc(hostname), source: 'default' };
}

/** config.json from the page's own origin, with a short timeout. */
export async function fetchConfigJson(): Promise<unknown> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 2000);
  try {
    const r = await fetch('./config.json', { signal: ctl.signal, cache: 'no-store' });
    if (!r.ok) return null;
    return await r.json();
  } finally {
    clearTimeout(t);
  }
}

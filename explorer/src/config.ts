// How the page finds the node (the explorer contract): `?rpc=` in the page URL, else the
// `<meta name="orrery-rpc">` tag the serving node wrote into the page (no second request), else
// `rpc` in `./config.json` (written by the server that serves the page), else port 19800 on the
// page's host.

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

/** The content of `<meta name="orrery-rpc">` when the page has one that is not empty. */
export function rpcFromMeta(doc: { querySelector(s: string): { getAttribute(a: string): string | null } | null }): string | null {
  const v = doc.querySelector('meta[name="orrery-rpc"]')?.getAttribute('content')?.trim();
  return v ? v : null;
}

/**
 * Resolves the RPC URL; `meta` is the orrery-rpc meta tag's content (null when absent or empty),
 * `fetchConfig` returns config.json's parsed body or null.
 */
export async function resolveRpcUrl(
  search: string,
  hostname: string,
  fetchConfig: () => Promise<unknown>,
  meta: string | null = null,
): Promise<{ url: string; source: 'query' | 'meta' | 'config' | 'default' }> {
  const q = rpcFromQuery(search);
  if (q !== null) return { url: q, source: 'query' };
  if (meta !== null && meta.length > 0) return { url: meta, source: 'meta' };
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

// Hash routes (the explorer contract): #/ chain, #/block/<hex>, #/validators, #/cores, #/services,
// #/service/<id>, #/package/<hex>, #/search/<text>. Anything else is a "not found" route that the
// page reports, never a blank screen.

import { parseHash, toHex } from './bytes';

export type Route =
  | { page: 'chain' }
  | { page: 'block'; hex: string }
  | { page: 'validators' }
  | { page: 'cores' }
  | { page: 'services' }
  | { page: 'service'; id: number }
  | { page: 'package'; hex: string }
  | { page: 'search'; text: string }
  | { page: 'notfound'; reason: string };

function hexArg(arg: string, what: string): { hex: string } | { reason: string } {
  const h = parseHash(arg);
  return h ? { hex: toHex(h) } : { reason: `${what}: ${JSON.stringify(arg.slice(0, 80))} is not a 32-byte hex hash` };
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\//, '');
  const slash = path.indexOf('/');
  const head = slash < 0 ? path : path.slice(0, slash);
  let arg = slash < 0 ? '' : path.slice(slash + 1);
  try {
    arg = decodeURIComponent(arg);
  } catch {
    // Keep the raw text: a stray % is still something to report.
  }
  switch (head) {
    case '':
      return { page: 'chain' };
    case 'validators':
      return { page: 'validators' };
    case 'cores':
      return { page: 'cores' };
    case 'services':
      return { page: 'services' };
    case 'block': {
      const h = hexArg(arg, 'block');
      return 'hex' in h ? { page: 'block', hex: h.hex } : { page: 'notfound', reason: h.reason };
    }
    case 'package': {
      const h = hexArg(arg, 'package');
      return 'hex' in h ? { page: 'package', hex: h.hex } : { page: 'notfound', reason: h.reason };
    }
    case 'service': {
      if (/^\d{1,10}$/.test(arg) && Number(arg) < 2 ** 32) return { page: 'service', id: Number(arg) };
      return { page: 'notfound', reason: `service: ${JSON.stringify(arg.slice(0, 80))} is not a service id (0 … 4294967295)` };
    }
    case 'search':
      return { page: 'search', text: arg };
    default:
      return { page: 'notfound', reason: `no page ${JSON.stringify(path.slice(0, 80))}` };
  }
}

/** What a search text is: a 32-byte hash, a service id, or neither (with the reason). */
export type Query = { kind: 'hash'; hex: string } | { kind: 'service'; id: number } | { kind: 'invalid'; reason: string };

export function classifySearch(text: string): Query {
  const t = text.trim();
  if (t.length === 0) return { kind: 'invalid', reason: 'type a block, report or package hash (64 hex digits) or a service id' };
  const h = parseHash(t);
  if (h) return { kind: 'hash', hex: toHex(h) };
  if (/^\d+$/.test(t)) {
    if (t.length <= 10 && Number(t) < 2 ** 32) return { kind: 'service', id: Number(t) };
    return { kind: 'invalid', reason: `${t.slice(0, 40)} is too large for a service id (at most 4294967295)` };
  }
  const body = t.replace(/^0x/i, '');
  if (/^[0-9a-fA-F]+$/.test(body)) return { kind: 'invalid', reason: `a hash is 64 hex digits; this has ${body.length}` };
  return { kind: 'invalid', reason: `not a hash or a service id: ${JSON.stringify(t.slice(0, 80))}` };
}

// Routes, search classification, RPC URL discovery, hex and base64 (RFC 4648 §10 vectors), the
// natural-number codec (GP eq. C.1 hand-worked values) and the parameters check.

import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, parseHash, short, toBase64, toHex, utf8 } from '../src/bytes';
import { Reader } from '../src/codec';
import { checkRpcUrl, defaultRpc, resolveRpcUrl, rpcFromMeta } from '../src/config';
import { classifySearch, parseRoute } from '../src/route';
import { specFromParameters, votesPerVerdict, TINY, FULL } from '../src/spec';
import { keyBytes } from '../src/pages/services';
import { setBits } from '../src/ui';

const H = 'ab'.repeat(32);

describe('routes', () => {
  it('parses every page of the contract', () => {
    expect(parseRoute('')).toEqual({ page: 'chain' });
    expect(parseRoute('#/')).toEqual({ page: 'chain' });
    expect(parseRoute(`#/block/${H}`)).toEqual({ page: 'block', hex: H });
    expect(parseRoute(`#/block/0x${H.toUpperCase()}`)).toEqual({ page: 'block', hex: H });
    expect(parseRoute('#/validators')).toEqual({ page: 'validators' });
    expect(parseRoute('#/cores')).toEqual({ page: 'cores' });
    expect(parseRoute('#/services')).toEqual({ page: 'services' });
    expect(parseRoute('#/service/4294967295')).toEqual({ page: 'service', id: 4294967295 });
    expect(parseRoute(`#/package/${H}`)).toEqual({ page: 'package', hex: H });
    expect(parseRoute('#/search/hello%20world')).toEqual({ page: 'search', text: 'hello world' });
  });
  it('reports what it cannot parse', () => {
    expect(parseRoute('#/block/xyz').page).toBe('notfound');
    expect(parseRoute('#/service/4294967296').page).toBe('notfound');
    expect(parseRoute('#/service/-1').page).toBe('notfound');
    expect(parseRoute('#/nope').page).toBe('notfound');
    expect(parseRoute('#/search/%E0%A4%A').page).toBe('search');
  });
});

describe('search', () => {
  it('classifies hashes, service ids and everything else', () => {
    expect(classifySearch(H)).toEqual({ kind: 'hash', hex: H });
    expect(classifySearch(` 0x${H} `)).toEqual({ kind: 'hash', hex: H });
    expect(classifySearch('42')).toEqual({ kind: 'service', id: 42 });
    expect(classifySearch('99999999999').kind).toBe('invalid');
    expect(classifySearch('abcd')).toEqual({ kind: 'invalid', reason: 'a hash is 64 hex digits; this has 4' });
    expect(classifySearch('').kind).toBe('invalid');
    expect(classifySearch('<script>alert(1)</script>').kind).toBe('invalid');
    expect(classifySearch('x'.repeat(10000)).kind).toBe('invalid');
  });
});

describe('RPC URL', () => {
  const none = async () => null;
  it('takes ?rpc= first, then config.json, then port 19800 on the page host', async () => {
    expect(await resolveRpcUrl('?rpc=ws://127.0.0.1:42100', 'h', async () => ({ rpc: 'ws://x:1' }))).toEqual({ url: 'ws://127.0.0.1:42100', source: 'query' });
    expect(await resolveRpcUrl('', 'h', async () => ({ rpc: 'ws://x:1' }))).toEqual({ url: 'ws://x:1', source: 'config' });
    expect(await resolveRpcUrl('', 'node.example', none)).toEqual({ url: 'ws://node.example:19800', source: 'default' });
    expect(await resolveRpcUrl('', 'h', async () => { throw new Error('404'); })).toEqual({ url: 'ws://h:19800', source: 'default' });
    expect(await resolveRpcUrl('', 'h', async () => ({ rpc: 5 }))).toEqual({ url: 'ws://h:19800', source: 'default' });
    expect(defaultRpc('::1')).toBe('ws://[::1]:19800');
  });
  it('takes the orrery-rpc meta tag after ?rpc= and before config.json', async () => {
    const cfg = async () => ({ rpc: 'ws://x:1' });
    expect(await resolveRpcUrl('', 'h', cfg, 'ws://m:2')).toEqual({ url: 'ws://m:2', source: 'meta' });
    expect(await resolveRpcUrl('?rpc=ws://q:3', 'h', cfg, 'ws://m:2')).toEqual({ url: 'ws://q:3', source: 'query' });
    expect(await resolveRpcUrl('', 'h', cfg, null)).toEqual({ url: 'ws://x:1', source: 'config' });
    let asked = false;
    await resolveRpcUrl('', 'h', async () => ((asked = true), null), 'ws://m:2');
    expect(asked).toBe(false);
    // The committed page's tag is empty: no URL from it.
    const doc = (content: string | null) => ({
      querySelector: (sel: string) => (sel === 'meta[name="orrery-rpc"]' && content !== null ? { getAttribute: (a: string) => (a === 'content' ? content : null) } : null),
    });
    expect(rpcFromMeta(doc(''))).toBeNull();
    expect(rpcFromMeta(doc('  '))).toBeNull();
    expect(rpcFromMeta(doc(null))).toBeNull();
    expect(rpcFromMeta(doc('ws://127.0.0.1:19800'))).toBe('ws://127.0.0.1:19800');
  });
  it('accepts only ws and wss', () => {
    expect(checkRpcUrl('ws://127.0.0.1:1').ok).toBe(true);
    expect(checkRpcUrl('wss://a.b/rpc').ok).toBe(true);
    expect(checkRpcUrl('http://a').ok).toBe(false);
    expect(checkRpcUrl('javascript:alert(1)').ok).toBe(false);
    expect(checkRpcUrl('nonsense').ok).toBe(false);
  });
});

describe('bytes', () => {
  it('base64 per RFC 4648 §10', () => {
    const enc = new TextEncoder();
    const cases: [string, string][] = [['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy']];
    for (const [plain, b64] of cases) {
      expect(toBase64(enc.encode(plain))).toBe(b64);
      expect(fromBase64(b64)).toEqual(enc.encode(plain));
    }
    expect(fromBase64('Zm8')).toBeNull();
    expect(fromBase64('Zm=8')).toBeNull();
    expect(fromBase64('Z!==')).toBeNull();
    // The all-zero hash as JIP-2 sends it (crates/rpc's test value).
    expect(fromBase64('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8=')![31]).toBe(0xff);
  });
  it('hex', () => {
    expect(toHex(new Uint8Array([0, 15, 255]))).toBe('000fff');
    expect(fromHex('0x000FFF')).toEqual(new Uint8Array([0, 15, 255]));
    expect(fromHex('abc')).toBeNull();
    expect(fromHex('zz')).toBeNull();
    expect(parseHash(H.slice(2))).toBeNull();
    expect(short(H, 4)).toBe('abab…abab');
    expect(utf8(new Uint8Array([0xc3, 0x28]))).toBeNull();
    expect(utf8(new TextEncoder().encode('héllo'))).toBe('héllo');
  });
  it('storage keys: 0x is hex, anything else UTF-8', () => {
    expect(keyBytes('0x0102')).toEqual({ ok: true, bytes: new Uint8Array([1, 2]) });
    expect(keyBytes('ab')).toEqual({ ok: true, bytes: new Uint8Array([0x61, 0x62]) });
    expect(keyBytes('0xzz').ok).toBe(false);
  });
  it('assurance bitfields are least significant bit first', () => {
    expect(setBits(new Uint8Array([0b101]), 2)).toEqual([0]);
    expect(setBits(new Uint8Array([0b101]), 8)).toEqual([0, 2]);
    expect(setBits(new Uint8Array([0, 1]), 16)).toEqual([8]);
  });
});

describe('GP naturals (eq. C.1)', () => {
  const nat = (bytes: number[]) => new Reader(new Uint8Array(bytes)).natural();
  it('decodes hand-worked encodings', () => {
    expect(nat([0])).toBe(0n);
    expect(nat([127])).toBe(127n);
    expect(nat([0x80, 0x80])).toBe(128n); // l = 1: 2^8 − 2^7 + ⌊128/256⌋ = 0x80, then 128 mod 256
    expect(nat([0xbf, 0xff])).toBe(16383n);
    expect(nat([0xc0, 0x00, 0x40])).toBe(16384n);
    expect(nat([0xff, 1, 0, 0, 0, 0, 0, 0, 0])).toBe(1n);
    expect(nat([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).toBe(2n ** 64n - 1n);
  });
  it('refuses a natural cut short', () => {
    expect(() => nat([0xc0, 0x00])).toThrow(/natural: needs 2 bytes, 1 left/);
  });
});

describe('parameters', () => {
  it('reads V, C, E and P, and refuses nonsense', () => {
    const ok = specFromParameters({ V1: { val_count: 6, core_count: 2, epoch_period: 12, slot_period_sec: 6 } });
    expect(ok).toEqual({ ok: true, spec: TINY, raw: { val_count: 6, core_count: 2, epoch_period: 12, slot_period_sec: 6 } });
    expect(specFromParameters({ V1: { val_count: 1e9, core_count: 2, epoch_period: 12, slot_period_sec: 6 } }).ok).toBe(false);
    expect(specFromParameters({ V2: {} }).ok).toBe(false);
    expect(specFromParameters(null).ok).toBe(false);
    expect(votesPerVerdict(TINY)).toBe(5);
    expect(votesPerVerdict(FULL)).toBe(683);
  });
});

describe('safety', () => {
  it('no source file inserts HTML (chain data is only ever text)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = join(__dirname, '..', 'src');
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.tsx?$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const text = readFileSync(join(root, f), 'utf8');
      expect(text, f).not.toMatch(/innerHTML|outerHTML|dangerouslySetInnerHTML|insertAdjacentHTML|document\.write/);
    }
  });
});

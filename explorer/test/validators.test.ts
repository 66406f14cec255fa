// Validator keys, peer names and endpoints; ρ; availability. Published vectors: the assurances STF
// vectors (stf/assurances/{tiny,full}: input E_A, slot, parent; pre-state ρ†, κ; output the
// reports made available; post-state), whose JSON twins give every field, and the JAM docs'
// dev-account peer names (as crates/keys checks them). Hand-worked values for the rest.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeAll, Reader } from '../src/codec';
import { fromHex, toBase64, toHex } from '../src/bytes';
import { endpointText, ipv6Text, peerName } from '../src/keys';
import { FULL, TINY, type Spec } from '../src/spec';
import { availableCores, packageStages, type BlockWork } from '../src/stages';
import { Chain } from '../src/chain';
import type { RpcClient, RpcResult } from '../src/rpc';
import * as T from '../src/types';

const here = dirname(fileURLToPath(import.meta.url));
const DIR = join(here, '..', '..', '..', 'shared', 'vectors', 'jam-0.7.2', 'stf', 'assurances');

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return '0x' + toHex(v);
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const state = (r: Reader, spec: Spec) => ({
  avail_assignments: T.pendingReports(r, spec),
  curr_validators: r.seqN(spec.validators, T.validatorKey, 'κ', T.VALIDATOR_KEY_BYTES),
});
const testCase = (r: Reader, spec: Spec) => ({
  input: { assurances: T.assurances(r, spec), slot: r.u32(), parent: r.fixed(32) },
  pre_state: state(r, spec),
  output: r.u8() === 0 ? { ok: { reported: r.seq(T.workReport, 'reported', 1) } } : { err: r.u8() },
  post_state: state(r, spec),
});

// JIP-5's Ed25519 keys of dev seeds 0–5 and the JAM docs' dev-account `dns_alt_name`s.
const DEV: [string, string][] = [
  ['4418fb8c85bb3985394a8c2756d3643457ce614546202a2f50b093d762499ace', 'eecgwpgwq3noky4ijm4jmvjtmuzv44qvigciusxakq5epnrfj2utb'],
  ['ad93247bd01307550ec7acd757ce6fb805fcf73db364063265b30a949e90d933', 'en5ejs5b2tybkfh4ym5vpfh7nynby73xhtfzmazumtvcijpcsz6ma'],
  ['cab2b9ff25c2410fbe9b8a717abb298c716a03983c98ceb4def2087500b8e341', 'ekwmt37xecoq6a7otkm4ux5gfmm4uwbat4bg5m223shckhaaxdpqa'],
  ['f30aa5444688b3cab47697b37d5cac5707bb3289e986b19b17db437206931a8d', 'etxckkczii4mvm22ox4m3horvx2bwlzerjxbd3n6c36qehdms2idb'],
  ['8b8c5d436f92ecf605421e873a99ec528761eb52a88a2f9a057b3b3003e6f32a', 'eled3vb5nse3n7cii6ybvtms5s2bdwvlkivc7cnwa33oatby4txka'],
  ['ab0084d01534b31c1dd87c81645fd762482a90027754041ca1b56133d0466c06', 'elfaiiixcuzmzroa34lajwp52cdsucikaxdviaoeuvnygdi3imtba'],
];

describe('peer names (JAMNP-S)', () => {
  it('match the published dev-account names', () => {
    for (const [key, name] of DEV) expect(peerName(fromHex(key)!)).toBe(name);
  });
  it('read the key as a little-endian integer, least significant digit first', () => {
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(peerName(one)).toBe('eb' + 'a'.repeat(51));
    one[0] = 32; // digit 0 is 0, digit 1 is 1
    expect(peerName(one)).toBe('eab' + 'a'.repeat(50));
    // 51 digits of 31, then the one bit left.
    expect(peerName(new Uint8Array(32).fill(0xff))).toBe('e' + '7'.repeat(51) + 'b');
    expect(peerName(new Uint8Array(31))).toBeNull();
  });
});

describe('endpoints from metadata', () => {
  const meta = (ip: number[], port: number) => {
    const m = new Uint8Array(128);
    m.set(ip, 0);
    m[16] = port & 255;
    m[17] = port >> 8;
    return m;
  };
  it('format [ipv6]:port per RFC 5952', () => {
    // ::ffff:127.0.0.1 port 40001 = 0x9c41, as crates/network's metadata test.
    expect(endpointText(meta([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1], 40001))).toBe('[::ffff:127.0.0.1]:40001');
    expect(endpointText(meta([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7], 30333))).toBe('[2001:db8::7]:30333');
    expect(endpointText(meta([...new Array(15).fill(0), 1], 1))).toBe('[::1]:1');
    expect(endpointText(new Uint8Array(128))).toBeNull();
    expect(endpointText(meta([...new Array(15).fill(0), 1], 0))).toBeNull();
    expect(endpointText(new Uint8Array(17))).toBeNull();
    // The first of two equal zero runs; a single zero group is not shortened.
    expect(ipv6Text(fromHex('20010db8000000010000000000000001')!)).toBe('2001:db8:0:1::1');
    expect(ipv6Text(fromHex('20010db8000000000001000000000001')!)).toBe('2001:db8::1:0:0:1');
    expect(ipv6Text(fromHex('20010db8000100010001000100010001')!)).toBe('2001:db8:1:1:1:1:1:1');
    expect(ipv6Text(fromHex('20010db8000100010001000100010000')!)).toBe('2001:db8:1:1:1:1:1:0');
  });
});

describe('availability (GP 0.7.2 eq. 11.16), hand-worked', () => {
  it('needs more than two thirds of V', () => {
    // V = 6: 4 is exactly 2V/3, not more; 5 is.
    const b = (x: number) => new Uint8Array([x]);
    expect(availableCores([b(3), b(3), b(3), b(3)], 6, 2)).toEqual([]);
    expect(availableCores([b(1), b(3), b(3), b(3), b(3)], 6, 2)).toEqual([0]);
    expect(availableCores([b(3), b(3), b(3), b(3), b(3), b(2)], 6, 2)).toEqual([0, 1]);
    // Bits past C are not cores.
    expect(availableCores(new Array(6).fill(b(0xfc)), 6, 2)).toEqual([]);
    // V = 1023, C = 341: 683 > 682 = 2V/3; core 340 is bit 4 of octet 42.
    const f = new Uint8Array(43);
    f[42] = 0x10;
    expect(availableCores(new Array(682).fill(f), 1023, 341)).toEqual([]);
    expect(availableCores(new Array(683).fill(f), 1023, 341)).toEqual([340]);
  });

  it('follows packages from reported to available through a chain of blocks', () => {
    const blk = (n: number, guarantees: [number, string][], bits: number[]): BlockWork => ({
      hex: `b${n}`,
      slot: n,
      guarantees: guarantees.map(([core, pkg]) => ({ core, pkg })),
      bitfields: bits.map((x) => new Uint8Array([x])),
    });
    const lives = packageStages(
      [
        // p on core 0 and q on core 1.
        blk(1, [[0, 'p'], [1, 'q']], []),
        // 4 assurances of each: not enough.
        blk(2, [], [3, 3, 3, 3]),
        // 5 for core 0: p available here; its core takes r in the same block.
        blk(3, [[0, 'r']], [1, 1, 1, 1, 3]),
        // q times out: s replaces it on core 1 without q being seen available.
        blk(4, [[1, 's']], []),
        // Available for both cores: r and s.
        blk(5, [], [3, 3, 3, 3, 3, 3]),
        // Assurances for an empty core make nothing available.
        blk(6, [], [3, 3, 3, 3, 3, 3]),
      ],
      6,
      2,
    );
    expect(lives.map((l) => [l.pkg, l.core, l.reported.hex, l.available?.hex ?? null, l.replaced?.hex ?? null])).toEqual([
      ['p', 0, 'b1', 'b3', null],
      ['q', 1, 'b1', null, 'b4'],
      ['r', 0, 'b3', 'b5', null],
      ['s', 1, 'b4', 'b5', null],
    ]);
  });
});

describe.each([
  ['tiny', TINY],
  ['full', FULL],
])('assurances STF vectors (%s)', (name, spec) => {
  const files = readdirSync(join(DIR, name)).filter((f) => f.endsWith('.bin'));
  it.each(files)('%s: ρ and κ decode to the JSON twin; the cores made available are the output', (f) => {
    const bin = new Uint8Array(readFileSync(join(DIR, name, f)));
    // Only the tiny vectors have JSON twins; the full ones must decode whole and meet the rule.
    const twin = join(DIR, name, f.replace(/\.bin$/, '.json'));
    const json = existsSync(twin) ? JSON.parse(readFileSync(twin, 'utf8')) : null;
    const d = decodeAll(bin, (r) => testCase(r, spec), f);
    if (!d.ok) throw new Error(d.error);
    const v = d.value;
    expect(v.pre_state.avail_assignments).toHaveLength(spec.cores);
    if (json) {
      expect(plain(v.pre_state.avail_assignments)).toEqual(json.pre_state.avail_assignments);
      expect(plain(v.post_state.avail_assignments)).toEqual(json.post_state.avail_assignments);
      expect(plain(v.pre_state.curr_validators)).toEqual(json.pre_state.curr_validators);
      expect(plain(v.input.assurances)).toEqual(json.input.assurances);
      if (v.output.ok) expect(plain(v.output.ok.reported)).toEqual(json.output.ok.reported);
    }
    // Every pending report sits on its own core.
    v.pre_state.avail_assignments.forEach((a, c) => a && expect(a.report.core_index).toBe(c));
    if (v.output.ok) {
      const cores = availableCores(
        v.input.assurances.map((a) => a.bitfield),
        spec.validators,
        spec.cores,
      );
      expect(cores).toEqual(v.output.ok.reported.map((r) => r.core_index));
    }
    if (name === 'tiny') {
      // The dev accounts' names for the vectors' κ (dev seeds 0–5).
      expect(v.pre_state.curr_validators.map((x) => peerName(x.ed25519))).toEqual(DEV.map(([, n]) => n));
    }
  });
});

describe('the validators and pendingReports calls', () => {
  const A = new Uint8Array(32).fill(0xaa);
  const node = (answers: Record<string, RpcResult<unknown>>) =>
    ({ call: async (m: string) => answers[m] ?? { ok: false, error: { code: 0, message: 'unexpected' } } }) as unknown as RpcClient;

  it('decode κ ++ γ_P and ρ from the vector bytes', async () => {
    const bin = new Uint8Array(readFileSync(join(DIR, 'tiny', 'some_assurances-1.bin')));
    const d = decodeAll(bin, (r) => testCase(r, TINY), 'case');
    if (!d.ok) throw new Error(d.error);
    // The bytes of ρ and κ in the vector: they follow the input.
    const r = new Reader(bin);
    T.assurances(r, TINY);
    r.u32();
    r.fixed(32);
    const rhoStart = r.offset;
    T.pendingReports(r, TINY);
    const kappaStart = r.offset;
    r.seqN(TINY.validators, T.validatorKey, 'κ', 336);
    const rho = bin.slice(rhoStart, kappaStart);
    const kappa = bin.slice(kappaStart, r.offset);
    const both = new Uint8Array(2 * kappa.length);
    both.set(kappa, 0);
    both.set(kappa, kappa.length);
    const chain = new Chain(node({ validators: { ok: true, value: toBase64(both) }, pendingReports: { ok: true, value: toBase64(rho) } }), TINY, {});
    const keys = await chain.validators(A);
    if (!keys.ok) throw new Error(keys.error);
    expect(keys.value.current.map((k) => toHex(k.ed25519))).toEqual(DEV.map(([k]) => k));
    expect(keys.value.next.map((k) => toHex(k.ed25519))).toEqual(DEV.map(([k]) => k));
    const p = await chain.pendingReports(A);
    if (!p.ok) throw new Error(p.error);
    expect(plain(p.value)).toEqual(plain(d.value.pre_state.avail_assignments));
    // One byte short, or one too many: an error naming the call, not a throw.
    const short = await new Chain(node({ validators: { ok: true, value: toBase64(both.subarray(1)) } }), TINY, {}).validators(A);
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.error).toMatch(/^validators: next validators/);
    const long = new Uint8Array(rho.length + 1);
    long.set(rho);
    const extra = await new Chain(node({ pendingReports: { ok: true, value: toBase64(long) } }), TINY, {}).pendingReports(A);
    expect(extra).toEqual({ ok: false, error: `pending reports: 1 bytes left over after byte ${rho.length}` });
  });

  it('say what a node without the extensions does not serve', async () => {
    const nf = { ok: false, error: { code: -32601, message: 'Method not found' } } as const;
    const chain = new Chain(node({ validators: nf, pendingReports: nf }), TINY, {});
    const v = await chain.validators(A);
    expect(v).toMatchObject({ ok: false, code: -32601 });
    if (!v.ok) expect(v.error).toContain('does not serve validator keys');
    const p = await chain.pendingReports(A);
    expect(p).toMatchObject({ ok: false, code: -32601 });
    if (!p.ok) expect(p.error).toContain('does not serve the pending reports');
    // Another failure is an error message naming the call.
    const other = await new Chain(node({ validators: { ok: false, error: { code: 1, message: 'block unavailable' } } }), TINY, {}).validators(A);
    expect(other).toEqual({ ok: false, code: 1, error: 'validators: block unavailable (error 1)' });
  });
});

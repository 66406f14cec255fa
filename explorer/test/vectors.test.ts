// Decodes the published JAM 0.7.2 codec vectors (w3f jam-test-vectors, read in place from
// ../../shared/vectors) and compares every field with the vectors' JSON twins.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Reader, decodeAll } from '../src/codec';
import { toHex } from '../src/bytes';
import { FULL, TINY, type Spec } from '../src/spec';
import * as T from '../src/types';

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = join(here, '..', '..', '..', 'shared', 'vectors', 'jam-0.7.2', 'codec');

/** Byte arrays as the vectors' `0x…` hex, bigints as numbers (the vectors' values are all below 2^53). */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return '0x' + toHex(v);
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

function vector(spec: string, name: string): { bin: Uint8Array; json: unknown } {
  const base = join(VECTORS, spec, name);
  return { bin: new Uint8Array(readFileSync(base + '.bin')), json: JSON.parse(readFileSync(base + '.json', 'utf8')) };
}

const CASES: [string, (r: Reader, spec: Spec) => unknown][] = [
  ['block', T.block],
  ['header_0', T.header],
  ['header_1', T.header],
  ['extrinsic', T.extrinsic],
  ['work_report', (r) => T.workReport(r)],
  ['work_result_0', (r) => T.workResult(r)],
  ['work_result_1', (r) => T.workResult(r)],
  ['refine_context', (r) => T.refineContext(r)],
  ['tickets_extrinsic', (r) => r.seq((r) => ({ attempt: r.u8(), signature: r.fixed(784) }), 'tickets')],
  ['preimages_extrinsic', (r, s) => T.extrinsic(withEmpty(r, 1), s).preimages],
  ['guarantees_extrinsic', (r, s) => T.extrinsic(withEmpty(r, 2), s).guarantees],
  ['assurances_extrinsic', (r, s) => T.extrinsic(withEmpty(r, 3), s).assurances],
  ['disputes_extrinsic', (r, s) => T.extrinsic(withEmpty(r, 4), s).disputes],
];

/**
 * A reader over the bytes of one extrinsic kind placed at position `at` of an otherwise empty
 * extrinsic (empty sequences are the single octet 0), so the real extrinsic decoder reads it.
 */
function withEmpty(r: Reader, at: number): Reader {
  const part = r.fixed(r.remaining);
  const before = new Uint8Array(at);
  const after = new Uint8Array(at === 4 ? 0 : 4 - at + 2);
  const whole = new Uint8Array(before.length + part.length + after.length);
  whole.set(before, 0);
  whole.set(part, before.length);
  whole.set(after, before.length + part.length);
  return new Reader(whole);
}

describe.each([
  ['tiny', TINY],
  ['full', FULL],
])('codec vectors (%s)', (name, spec) => {
  it('are there', () => {
    expect(existsSync(join(VECTORS, name, 'block.bin')), `vectors at ${VECTORS}`).toBe(true);
  });
  for (const [file, decode] of CASES) {
    it(`${file} decodes to its JSON twin`, () => {
      const { bin, json } = vector(name, file);
      const out = decodeAll(bin, (r) => decode(r, spec), file);
      if (!out.ok) throw new Error(out.error);
      expect(plain(out.value)).toEqual(json);
    });
  }

  it('every truncation of the block is an error value, never an exception', () => {
    const { bin } = vector(name, 'block');
    const step = Math.max(1, Math.floor(bin.length / 400));
    for (let n = 0; n < bin.length; n += step) {
      const out = T.decodeBlock(bin.subarray(0, n), spec);
      expect(out.ok).toBe(false);
    }
  });
});

describe('malformed input', () => {
  it('a trailing byte is reported', () => {
    const { bin } = vector('tiny', 'work_report');
    const longer = new Uint8Array(bin.length + 1);
    longer.set(bin);
    const out = T.decodeWorkReport(longer);
    expect(out).toEqual({ ok: false, error: expect.stringContaining('1 bytes left over') });
  });

  it('a huge length prefix is refused before any allocation', () => {
    // An empty-ish extrinsic whose tickets count claims 2^64 - 1.
    const bytes = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0]);
    const out = decodeAll(bytes, (r) => T.extrinsic(r, TINY), 'extrinsic');
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error).toContain('tickets: length 18446744073709551615 exceeds');
  });

  it('a bad option tag and a bad boolean are errors', () => {
    const { bin } = vector('tiny', 'header_0');
    const bad = bin.slice();
    bad[100] = 7; // the epoch-mark option tag follows three hashes and the slot
    const out = T.decodeHeader(bad, TINY);
    expect(out).toEqual({ ok: false, error: expect.stringContaining('tagged 0 or 1, not 7') });
  });

  it('an unknown work outcome is an error', () => {
    const { bin } = vector('tiny', 'work_result_1');
    const bad = bin.slice();
    bad[76] = 9; // service (4) + two hashes (64) + accumulate gas (8)
    const out = decodeAll(bad, T.workResult, 'work result');
    expect(out).toEqual({ ok: false, error: expect.stringContaining('unknown outcome 9') });
  });
});

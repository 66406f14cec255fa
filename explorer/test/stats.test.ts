// π_V and π_L decoding, and the extrinsic decoder once more, on the published statistics STF
// vectors (stf/statistics/{tiny,full}): each .bin is input (slot, author, extrinsic), pre-state
// (π_V, π_L, τ, κ'), output (nothing) and post-state; the tiny ones have a JSON twin of every field.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeAll, type Reader } from '../src/codec';
import { toHex } from '../src/bytes';
import { FULL, TINY, type Spec } from '../src/spec';
import * as T from '../src/types';

const here = dirname(fileURLToPath(import.meta.url));
const DIR = join(here, '..', '..', '..', 'shared', 'vectors', 'jam-0.7.2', 'stf', 'statistics');

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return '0x' + toHex(v);
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function state(r: Reader, spec: Spec) {
  // π_V and π_L are the first two parts of π, decoded by the same code statistics() uses.
  const vals = (r: Reader) =>
    r.seqN(spec.validators, (r) => ({ blocks: r.u32(), tickets: r.u32(), pre_images: r.u32(), pre_images_size: r.u32(), guarantees: r.u32(), assurances: r.u32() }), 'validator statistics', 24);
  return {
    vals_curr_stats: vals(r),
    vals_last_stats: vals(r),
    slot: r.u32(),
    curr_validators: r.seqN(spec.validators, (r) => ({ bandersnatch: r.fixed(32), ed25519: r.fixed(32), bls: r.fixed(144), metadata: r.fixed(128) }), 'validators', 336),
  };
}

describe.each([
  ['tiny', TINY],
  ['full', FULL],
])('statistics STF vectors (%s)', (name, spec) => {
  const files = readdirSync(join(DIR, name)).filter((f) => f.endsWith('.bin'));
  it('are there', () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    it(`${f} decodes to its JSON twin`, () => {
      const bin = new Uint8Array(readFileSync(join(DIR, name, f)));
      const twin = join(DIR, name, f.replace(/\.bin$/, '.json'));
      const out = decodeAll(
        bin,
        (r) => ({
          input: { slot: r.u32(), author_index: r.u16(), extrinsic: T.extrinsic(r, spec) },
          pre_state: state(r, spec),
          output: null,
          post_state: state(r, spec),
        }),
        f,
      );
      if (!out.ok) throw new Error(out.error);
      // The full vectors ship without JSON twins: there, decoding every byte is the check.
      if (existsSync(twin)) expect(plain(out.value)).toEqual(JSON.parse(readFileSync(twin, 'utf8')));
      else expect(out.value.pre_state.vals_curr_stats).toHaveLength(spec.validators);
    });
  }
});

describe('π as the explorer decodes it', () => {
  it('the first two parts of statistics() read the same records', () => {
    // π_V ++ π_L ++ π_C (C records of eight zero naturals) ++ π_S (none), from the tiny vector.
    const file = readdirSync(join(DIR, 'tiny')).find((f) => f.endsWith('.json'))!;
    const json = JSON.parse(readFileSync(join(DIR, 'tiny', file), 'utf8'));
    const u32s = (recs: Record<string, number>[]) =>
      recs.flatMap((x) => [x.blocks!, x.tickets!, x.pre_images!, x.pre_images_size!, x.guarantees!, x.assurances!]);
    const words = [...u32s(json.pre_state.vals_curr_stats), ...u32s(json.pre_state.vals_last_stats)];
    const bytes = new Uint8Array(words.length * 4 + TINY.cores * 8 + 1);
    const view = new DataView(bytes.buffer);
    words.forEach((w, i) => view.setUint32(4 * i, w, true));
    const out = T.decodeStatistics(bytes, TINY);
    if (!out.ok) throw new Error(out.error);
    expect(out.value.vals_curr).toEqual(json.pre_state.vals_curr_stats);
    expect(out.value.vals_last).toEqual(json.pre_state.vals_last_stats);
    expect(out.value.cores).toHaveLength(2);
    expect(out.value.services).toEqual([]);
  });
});

// The published block-import traces (traces/{fallback,safrole,storage,preimages}, tiny): every
// step's block decodes with the explorer's block decoder, and the states' π (key C(13)), service
// accounts (keys C(255, s)) and ρ (key C(10)) decode with its statistics, account and pending-report
// decoders, consuming every byte. These vectors have no JSON twins, so the checks are GP rules the
// values must meet: after a block, π_V credits its author with a block (GP eq. 13.5), π_S names
// only services the state holds, and ρ holds each report on its core, a new one at the block's slot.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeAll, type Reader } from '../src/codec';
import { TINY } from '../src/spec';
import { toHex } from '../src/bytes';
import * as T from '../src/types';

const here = dirname(fileURLToPath(import.meta.url));
const DIR = join(here, '..', '..', '..', 'shared', 'vectors', 'jam-0.7.2', 'traces');

const rawState = (r: Reader) => ({
  root: r.fixed(32),
  keyvals: r.seq((r) => ({ key: r.fixed(31), value: r.blob() }), 'keyvals', 32),
});

/** C(255, s): 255, then the id's four octets interleaved with zeros (GP eq. D.1). */
function serviceOfKey(k: Uint8Array): number | null {
  if (k[0] !== 255 || k[2] !== 0 || k[4] !== 0 || k[6] !== 0 || k.subarray(8).some((b) => b !== 0)) return null;
  return k[1]! | (k[3]! << 8) | (k[5]! << 16) | (k[7]! * 0x1000000);
}
const isStatistics = (k: Uint8Array) => k[0] === 13 && k.subarray(1).every((b) => b === 0);
const isPendingReports = (k: Uint8Array) => k[0] === 10 && k.subarray(1).every((b) => b === 0);

describe.each(['fallback', 'safrole', 'storage', 'preimages'])('trace %s', (name) => {
  it('every block, π and service account decodes and meets the paper', () => {
    const files = readdirSync(join(DIR, name)).filter((f) => /^\d{8}\.bin$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    let guarantees = 0;
    let accounts = 0;
    let piServices = 0;
    let pending = 0;
    for (const f of files) {
      const bin = new Uint8Array(readFileSync(join(DIR, name, f)));
      const step = decodeAll(bin, (r) => ({ pre: rawState(r), block: T.block(r, TINY), post: rawState(r) }), `${name}/${f}`);
      if (!step.ok) throw new Error(step.error);
      const { block, post } = step.value;
      guarantees += block.extrinsic.guarantees.length;
      const services = new Set<number>();
      let pi: T.Statistics | null = null;
      for (const { key, value } of post.keyvals) {
        const id = serviceOfKey(key);
        if (id !== null) {
          const info = T.decodeServiceInfo(value);
          if (!info.ok) throw new Error(`${f}: service ${id}: ${info.error}`);
          expect(info.value.version).toBe(0);
          services.add(id);
          accounts++;
        } else if (isPendingReports(key)) {
          // ρ, as Orrery's pendingReports answers it: each report on its own core; a report
          // guaranteed in this block is on its core, reported at this block's slot (GP eq. 11.43).
          const rho = T.decodePendingReports(value, TINY);
          if (!rho.ok) throw new Error(`${f}: ${rho.error}`);
          expect(rho.value).toHaveLength(TINY.cores);
          rho.value.forEach((a, c) => a && expect(a.report.core_index).toBe(c));
          for (const g of block.extrinsic.guarantees) {
            const a = rho.value[g.report.core_index];
            expect(a?.timeout, `${f}: ρ after a guarantee`).toBe(block.header.slot);
            expect(a && toHex(a.report.package_spec.hash)).toBe(toHex(g.report.package_spec.hash));
          }
          pending += rho.value.filter((a) => a).length;
        } else if (isStatistics(key)) {
          const d = T.decodeStatistics(value, TINY);
          if (!d.ok) throw new Error(`${f}: ${d.error}`);
          pi = d.value;
        }
      }
      expect(pi, `${f}: no π in the state`).not.toBeNull();
      expect(pi!.vals_curr[block.header.author_index]!.blocks, `${f}: the author's block count`).toBeGreaterThan(0);
      expect(pi!.cores).toHaveLength(TINY.cores);
      piServices += pi!.services.length;
      for (const s of pi!.services) expect(services.has(s.id), `${f}: π_S names service ${s.id}`).toBe(true);
    }
    expect(accounts).toBeGreaterThan(0);
    // The work-report traces exercise the guarantees decoder and π_S (83 and 86 guarantees, 70 and
    // 81 π_S records over their 100 steps).
    if (name === 'storage' || name === 'preimages') {
      expect(guarantees).toBeGreaterThan(50);
      expect(piServices).toBeGreaterThan(50);
      expect(pending).toBeGreaterThan(50);
    }
  });
});

// Work-package statuses in the shapes crates/rpc's serde gives them (its statuses_have_the_jip_shapes
// test), and the life the page builds from a sequence of subscription updates.

import { describe, expect, it } from 'vitest';
import { toBase64, toHex } from '../src/bytes';
import { addToLife, parseStatus, parseUpdate, type LifeEntry, type Update } from '../src/packages';

const Z = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const h = (b: number) => new Uint8Array(32).fill(b);
const d = (b: number, slot: number) => ({ header_hash: toBase64(h(b)), slot });
const at = (b: number, slot: number) => ({ hex: toHex(h(b)), slot });

describe('parseStatus', () => {
  it('reads the four JIP-2 shapes', () => {
    expect(parseStatus({ Reportable: { remaining_blocks: 3 } })).toEqual({ stage: 'reportable', remaining: 3 });
    expect(parseStatus({ Reported: { reported_in: { header_hash: Z, slot: 7 }, core: 1, report_hash: Z } })).toEqual({
      stage: 'reported',
      reportedIn: { hex: '0'.repeat(64), slot: 7 },
      core: 1,
      reportHash: '0'.repeat(64),
    });
    expect(parseStatus({ Ready: { reported_in: { header_hash: Z, slot: 7 }, core: 1, report_hash: Z, ready_in: d(2, 9) } })).toMatchObject({ stage: 'ready', readyIn: at(2, 9) });
    expect(parseStatus({ Failed: 'late' })).toEqual({ stage: 'failed', why: 'late' });
  });
  it('refuses anything else with a message', () => {
    for (const v of [null, 'Ready', {}, { Reportable: {} }, { Reported: { reported_in: d(1, 1), core: 70000, report_hash: Z } }, { Ready: { reported_in: d(1, 1), core: 0, report_hash: Z } }, { Failed: 5 }, { Other: 1 }, { Failed: 'x', Ready: 1 }]) {
      const r = parseStatus(v);
      expect('error' in r && r.error.startsWith('workPackageStatus: unexpected answer')).toBe(true);
    }
    expect(parseUpdate({ slot: 1, value: { Failed: 'x' } })).toHaveProperty('error');
    expect(parseUpdate({ ...d(1, 4), value: { Failed: 'x' } })).toEqual({ at: at(1, 4), status: { stage: 'failed', why: 'x' } });
  });
});

describe('addToLife', () => {
  const up = (v: unknown): Update => {
    const u = parseUpdate(v);
    if ('error' in u) throw new Error(u.error);
    return u;
  };
  it('lists each stage once with the block it was reached in', () => {
    let life: LifeEntry[] = [];
    life = addToLife(life, up({ ...d(1, 10), value: { Reportable: { remaining_blocks: 8 } } }));
    life = addToLife(life, up({ ...d(2, 11), value: { Reportable: { remaining_blocks: 7 } } }));
    // Reported in block 3, seen with block 4's update.
    life = addToLife(life, up({ ...d(4, 13), value: { Reported: { reported_in: d(3, 12), core: 0, report_hash: toBase64(h(9)) } } }));
    life = addToLife(life, up({ ...d(6, 15), value: { Ready: { reported_in: d(3, 12), core: 0, report_hash: toBase64(h(9)), ready_in: d(5, 14) } } }));
    expect(life).toEqual([
      { stage: 'reportable', at: at(1, 10) },
      { stage: 'reported', at: at(3, 12) },
      { stage: 'ready', at: at(5, 14) },
    ]);
  });
  it('fills in the reported block from a Ready status the page saw first', () => {
    const life = addToLife([], up({ ...d(6, 15), value: { Ready: { reported_in: d(3, 12), core: 1, report_hash: Z, ready_in: d(5, 14) } } }));
    expect(life.map((e) => [e.stage, e.at.slot])).toEqual([
      ['reported', 12],
      ['ready', 14],
    ]);
  });
});

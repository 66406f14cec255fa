// The fork-point detector on hand-built chains: growth (also by several blocks at once, when a
// notification was skipped) is not a fork; a head on another branch is, with the old and new heads.

import { describe, expect, it } from 'vitest';
import { descends, ForkWatch, type Head } from '../src/forks';

//   g(0) - a1(1) - a2(2) - a3(3) - a4(4)
//              \- b2(2) - b3(3)
const parents: Record<string, Head> = {
  a1: { hex: 'g', slot: 0 },
  a2: { hex: 'a1', slot: 1 },
  a3: { hex: 'a2', slot: 2 },
  a4: { hex: 'a3', slot: 3 },
  b2: { hex: 'a1', slot: 1 },
  b3: { hex: 'b2', slot: 2 },
};
const h = (hex: string): Head => ({ hex, slot: Number(hex.slice(1)) });
const asked: string[] = [];
const parentOf = async (hex: string) => (asked.push(hex), parents[hex] ?? null);

describe('fork points', () => {
  it('tells growth from a switch', async () => {
    expect(await descends(h('a2'), h('a3'), parentOf)).toBe(true);
    expect(await descends(h('a1'), h('a4'), parentOf)).toBe(true);
    expect(await descends(h('a2'), h('b3'), parentOf)).toBe(false);
    expect(await descends(h('a3'), h('b3'), parentOf)).toBe(false);
    // A parent the page cannot read: it cannot tell.
    expect(await descends(h('a2'), { hex: 'x5', slot: 5 }, parentOf)).toBeNull();
    // Too far apart for the bound.
    expect(await descends(h('a1'), h('a4'), parentOf, 2)).toBeNull();
    // A lower or equal slot cannot descend, and needs no request.
    asked.length = 0;
    expect(await descends(h('a3'), h('b2'), parentOf)).toBe(false);
    expect(asked).toEqual([]);
  });

  it('records each switch once, newest first, bounded', async () => {
    const seen: number[] = [];
    const w = new ForkWatch(parentOf, (p) => seen.push(p.length), 2);
    // Pushed without waiting: the checks still run in arrival order.
    void w.push(h('a1'));
    void w.push(h('a2'));
    void w.push(h('b3'));
    void w.push(h('b3'));
    void w.push(h('a4'));
    await w.push(h('a4'));
    expect(w.points).toEqual([
      { slot: 4, old: h('b3'), new: h('a4') },
      { slot: 3, old: h('a2'), new: h('b3') },
    ]);
    await w.push(h('b2'));
    expect(w.points.map((p) => [p.old.hex, p.new.hex])).toEqual([
      ['a4', 'b2'],
      ['b3', 'a4'],
    ]);
    expect(seen).toEqual([1, 2, 2]);
  });
});

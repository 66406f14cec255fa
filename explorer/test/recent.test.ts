// The recent-blocks loader behind the cores and services charts: a bounded number of statistics
// requests at once, results in order, and a moving head asking only for the blocks it has not
// seen; the per-service gas series from hand-built π_S.

import { describe, expect, it } from 'vitest';
import { toBase64, toHex } from '../src/bytes';
import { Chain } from '../src/chain';
import type { RpcClient, RpcResult } from '../src/rpc';
import { TINY } from '../src/spec';
import { loadRecent, mapBounded } from '../src/recent';
import { serviceGasSeries } from '../src/pages/services';
import * as T from '../src/types';

/** π for TINY: zero validator records, core 0's gas and bundle bytes, and service records (all naturals below 128: one octet each). */
function statsBytes(coreGas: number, bundle: number, services: [number, number, number][]): Uint8Array {
  const out: number[] = new Array(2 * 6 * 24).fill(0);
  // da_load, popularity, imports, extrinsic_count, extrinsic_size, exports, bundle_size, gas_used
  out.push(0, 0, 0, 0, 0, 0, bundle, coreGas);
  out.push(0, 0, 0, 0, 0, 0, 0, 0);
  out.push(services.length);
  for (const [id, refine, acc] of services) {
    out.push(id, 0, 0, 0);
    // provided_count, provided_size, refinement_count, refinement_gas_used, imports, extrinsic_count, extrinsic_size, exports, accumulate_count, accumulate_gas_used
    out.push(0, 0, 1, refine, 0, 0, 0, 0, 1, acc);
  }
  return new Uint8Array(out);
}

describe('statistics bytes built by hand', () => {
  it('decode as π', () => {
    const d = T.decodeStatistics(statsBytes(7, 9, [[5, 100, 20]]), TINY);
    if (!d.ok) throw new Error(d.error);
    expect(d.value.cores[0]).toMatchObject({ gas_used: 7n, bundle_size: 9 });
    expect(d.value.services).toEqual([{ id: 5, record: expect.objectContaining({ refinement_gas_used: 100n, accumulate_gas_used: 20n }) }]);
  });
});

describe('mapBounded', () => {
  it('keeps at most `limit` calls under way and the input order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0, 6], 3, async (x) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, x));
      running--;
      return x * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(peak).toBe(3);
    expect(await mapBounded([], 3, async (x) => x)).toEqual([]);
  });
});

describe('loadRecent', () => {
  // Blocks 1..5 (hash byte = slot), each the child of the one before; block 1's parent is the zero hash.
  const hash = (n: number) => new Uint8Array(32).fill(n);
  const asked: string[] = [];
  const rpc = {
    call: async (m: string, p: unknown[] = []): Promise<RpcResult<unknown>> => {
      const n = [1, 2, 3, 4, 5].find((i) => toBase64(hash(i)) === p[0]);
      asked.push(`${m} ${n}`);
      if (m === 'block') return { ok: false, error: { code: -32601, message: 'Method not found' } };
      if (m === 'parent' && n) return { ok: true, value: { header_hash: toBase64(n === 1 ? new Uint8Array(32) : hash(n - 1)), slot: n - 1 } };
      if (m === 'statistics' && n) return { ok: true, value: toBase64(statsBytes(n, 2 * n, [])) };
      return { ok: false, error: { code: 1, message: 'block unavailable' } };
    },
  } as unknown as RpcClient;
  const chain = new Chain(rpc, TINY, {});

  it('reads the window oldest first, then only what a new head adds', async () => {
    const first = await loadRecent(chain, { hex: toHex(hash(4)), slot: 4 }, 3, true);
    expect(first.error).toBeNull();
    expect(first.blocks.map((b) => [b.slot, b.stats?.cores[0]?.gas_used])).toEqual([
      [2, 2n],
      [3, 3n],
      [4, 4n],
    ]);
    expect(asked.filter((a) => a.startsWith('statistics')).sort()).toEqual(['statistics 2', 'statistics 3', 'statistics 4']);
    asked.length = 0;
    const next = await loadRecent(chain, { hex: toHex(hash(5)), slot: 5 }, 3, true);
    expect(next.blocks.map((b) => b.slot)).toEqual([3, 4, 5]);
    // Block 5's body (here: its parent) and statistics; blocks 3 and 4 come from the caches.
    expect(asked).toEqual(['block 5', 'parent 5', 'statistics 5']);
  });
});

describe('serviceGasSeries', () => {
  it('gives each service its gas per block, zero where π_S does not list it, the busiest first cut', () => {
    const st = (services: [number, number, number][]) => {
      const d = T.decodeStatistics(statsBytes(0, 0, services), TINY);
      if (!d.ok) throw new Error(d.error);
      return d.value;
    };
    const g = serviceGasSeries(
      [
        { slot: 10, stats: st([[1, 5, 1], [2, 100, 0]]) },
        { slot: 11, stats: null },
        { slot: 12, stats: st([[3, 1, 0]]) },
        { slot: 13, stats: st([[1, 0, 7]]) },
      ],
      2,
    );
    expect(g.xs).toEqual([10, 12, 13]);
    // Totals: service 2 = 100, service 1 = 13, service 3 = 1: 3 is cut.
    expect(g.cut).toBe(true);
    expect(g.refine).toEqual([
      { label: 'service 1', ys: [5, 0, 0] },
      { label: 'service 2', ys: [100, 0, 0] },
    ]);
    expect(g.accumulate).toEqual([
      { label: 'service 1', ys: [1, 0, 7] },
      { label: 'service 2', ys: [0, 0, 0] },
    ]);
  });
});

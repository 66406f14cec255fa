// The newest blocks with their bodies and their posterior statistics π, for the pages' per-block
// charts and the packages' stages. Bodies come by walking `parent` from the best head (each needs
// its child's header), statistics in parallel with a bound; both are kept by hash in `Chain`, so
// a moving head fetches only the blocks it has not seen.

import { useEffect, useRef, useState } from 'preact/hooks';
import { fromHex } from './bytes';
import type { Chain } from './chain';
import { BLOCK_UNAVAILABLE } from './rpc';
import type { Block, Statistics } from './types';
import { useCtx } from './app';
import { walk } from './pages/chain';

/** Blocks the charts cover. */
export const CHART_BLOCKS = 32;
/** Statistics requests in flight at once. */
export const PARALLEL = 4;

/** `f` over `items` with at most `limit` calls under way at once; results in input order. */
export async function mapBounded<T, U>(items: T[], limit: number, f: (x: T) => Promise<U>): Promise<U[]> {
  const out = new Array<U>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export interface RecentBlock {
  hex: string;
  slot: number;
  /** Null on a node without the `block` extension. */
  block: Block | null;
  /** Null when the node would not give it (pruned state). */
  stats: Statistics | null;
}

export async function loadRecent(chain: Chain, best: { hex: string; slot: number }, count: number, withStats: boolean): Promise<{ blocks: RecentBlock[]; error: string | null }> {
  const w = await walk(chain, best, count);
  const errors: string[] = w.error ? [w.error] : [];
  const blocks = await mapBounded(w.rows, PARALLEL, async (row): Promise<RecentBlock> => {
    const hash = fromHex(row.hex)!;
    // Cached by walk() already when the node serves bodies.
    const b = row.author !== null ? await chain.block(hash) : null;
    const s = withStats ? await chain.statistics(hash) : null;
    // A node keeps the states of its newest blocks only: an older block's π is simply not there
    // (error 1), and the chart covers the blocks it has; points the page saw earlier stay cached.
    if (s && !s.ok && s.code !== BLOCK_UNAVAILABLE && errors.length === 0) errors.push(s.error);
    return { hex: row.hex, slot: row.slot, block: b?.ok ? b.value : null, stats: s?.ok ? s.value : null };
  });
  // Oldest first, for the charts and the stage derivation.
  return { blocks: blocks.reverse(), error: errors[0] ?? null };
}

/** The last `count` blocks from the best head, refreshed as it moves. */
export function useRecent(count: number, withStats: boolean): { blocks: RecentBlock[] | null; error: string | null } {
  const { chain, heads } = useCtx();
  const [state, setState] = useState<{ blocks: RecentBlock[] | null; error: string | null }>({ blocks: null, error: null });
  const best = heads.best;
  const applied = useRef({ mounted: true, seq: 0, shown: 0 });
  useEffect(
    () => () => {
      applied.current.mounted = false;
    },
    [],
  );
  useEffect(() => {
    if (!best) return;
    // A load outrun by the next head still shows, unless a newer one already did.
    const seq = ++applied.current.seq;
    void loadRecent(chain, best, count, withStats).then((r) => {
      const a = applied.current;
      if (!a.mounted || seq < a.shown) return;
      a.shown = seq;
      setState(r);
    });
  }, [best?.hex]);
  return state;
}

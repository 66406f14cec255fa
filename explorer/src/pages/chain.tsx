// The chain page: live heads, the newest blocks (a page at a time, walking `parent`/`block` from
// the best head, never loading everything), and plots of block time gaps and finality lag over
// the blocks the page has seen.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { toHex } from '../bytes';
import type { Chain, Descriptor } from '../chain';
import { BLOCK_UNAVAILABLE, METHOD_NOT_FOUND } from '../rpc';
import { LineChart } from '../chart';
import { useCtx } from '../app';
import { Card, ErrorBox, HashText } from '../ui';

export const PAGE_SIZE = 20;

export interface Row {
  hex: string;
  slot: number;
  parentHex: string;
  /** The parent's slot when the node said it (the `parent` call); null when only the body was read. */
  parentSlot: number | null;
  author: number | null;
  tickets: number | null;
  preimages: number | null;
  guarantees: number | null;
  assurances: number | null;
  disputes: number | null;
}

const ZERO = '0'.repeat(64);

/** Rows by hash for each connection, shared by the pages (a block never changes). Bounded. */
const rowCaches = new WeakMap<Chain, Map<string, Row>>();
function cacheOf(chain: Chain): Map<string, Row> {
  let m = rowCaches.get(chain);
  if (!m) rowCaches.set(chain, (m = new Map()));
  return m;
}

/** One row for block `d`: from its body when the node serves `block`, else from `parent` alone. */
export async function loadRow(chain: Chain, d: { hex: string; hash: Uint8Array; slot: number }): Promise<{ row: Row } | { error: string; code?: number }> {
  const cache = cacheOf(chain);
  const cached = cache.get(d.hex);
  if (cached) return { row: cached };
  const remember = (r: Row): Row => {
    if (cache.size > 5000) cache.clear();
    cache.set(r.hex, r);
    return r;
  };
  const b = await chain.block(d.hash);
  if (b.ok) {
    const x = b.value.extrinsic;
    return {
      row: remember({
        hex: d.hex,
        slot: b.value.header.slot,
        parentHex: toHex(b.value.header.parent),
        parentSlot: null,
        author: b.value.header.author_index,
        tickets: x.tickets.length,
        preimages: x.preimages.length,
        guarantees: x.guarantees.length,
        assurances: x.assurances.length,
        disputes: x.disputes.verdicts.length + x.disputes.culprits.length + x.disputes.faults.length,
      }),
    };
  }
  if (b.code !== METHOD_NOT_FOUND) return { error: b.error, code: b.code };
  // Slot 0 is the genesis: it has no parent to ask for (typeberry answers `parent` of its
  // genesis with an error), and the walk ends with it.
  if (d.slot === 0) {
    return { row: remember({ hex: d.hex, slot: 0, parentHex: ZERO, parentSlot: null, author: null, tickets: null, preimages: null, guarantees: null, assurances: null, disputes: null }) };
  }
  const p = await chain.parent(d.hash);
  if (!p.ok) return { error: p.error, code: p.code };
  return {
    row: remember({ hex: d.hex, slot: d.slot, parentHex: p.value.hex, parentSlot: p.value.slot, author: null, tickets: null, preimages: null, guarantees: null, assurances: null, disputes: null }),
  };
}

/** Walks back from `start` for at most `count` blocks, stopping at genesis or at a hash in `stop`. */
export async function walk(
  chain: Chain,
  start: { hex: string; slot: number },
  count: number,
  stop: Set<string> = new Set(),
  onRow?: (rows: Row[]) => void,
): Promise<{ rows: Row[]; error: string | null; reachedStop: boolean; oldest: string | null }> {
  const rows: Row[] = [];
  let cur = start;
  for (let i = 0; i < count; i++) {
    if (stop.has(cur.hex)) return { rows, error: null, reachedStop: true, oldest: null };
    const hash = new Uint8Array(32);
    for (let j = 0; j < 32; j++) hash[j] = parseInt(cur.hex.slice(2 * j, 2 * j + 2), 16);
    const r = await loadRow(chain, { hex: cur.hex, hash, slot: cur.slot });
    if ('error' in r) {
      // The node does not hold this block: the genesis block (nodes keep its header, not a body)
      // or one pruned. The walk ends there; it is the chain's end as this node sees it, not a fault.
      if (r.code === BLOCK_UNAVAILABLE && rows.length > 0) return { rows, error: null, reachedStop: false, oldest: cur.hex };
      return { rows, error: r.error, reachedStop: false, oldest: null };
    }
    rows.push(r.row);
    onRow?.(rows);
    if (r.row.parentHex === ZERO || r.row.slot === 0) break;
    // Without a body, the parent's slot is the one `parent` gave.
    cur = { hex: r.row.parentHex, slot: r.row.parentSlot ?? Math.max(0, r.row.slot - 1) };
  }
  return { rows, error: null, reachedStop: false, oldest: null };
}

export function ChainPage() {
  const { chain, heads, forks } = useCtx();
  const [rows, setRows] = useState<Row[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [atEnd, setAtEnd] = useState(false);
  const [oldest, setOldest] = useState<string | null>(null);
  const rowsRef = useRef<Row[]>([]);
  rowsRef.current = rows;
  const loading = useRef(false);

  // The newest page, kept live: when the best head moves, the blocks above the list are prepended.
  const best = heads.best;
  useEffect(() => {
    if (!best || loading.current) return;
    const top = rowsRef.current[0];
    if (top && top.hex === best.hex) return;
    loading.current = true;
    const known = new Set(rowsRef.current.map((r) => r.hex));
    // On the first load the rows show as they arrive (each needs its child's body for its hash).
    const first = rowsRef.current.length === 0;
    const progress = first ? (partial: Row[]) => setRows([...partial]) : undefined;
    void walk(chain, best, PAGE_SIZE, known, progress).then((w) => {
      loading.current = false;
      if (first && performance.getEntriesByName('orrery:blocks-listed').length === 0) {
        // After the render that lists the whole first page.
        setTimeout(() => performance.mark('orrery:blocks-listed'), 0);
      }
      if (w.error) setError(w.error);
      else setError(null);
      setRows((old) => {
        // A reorganisation (the walk never met the list) or a first load: start over from the head.
        const merged = w.reachedStop ? [...w.rows, ...old] : w.rows;
        const seen = new Set<string>();
        return merged.filter((r) => (seen.has(r.hex) ? false : (seen.add(r.hex), true)));
      });
      if (!w.reachedStop && w.rows.length < PAGE_SIZE && !w.error) {
        setAtEnd(true);
        setOldest(w.oldest);
      }
    });
  }, [best?.hex]);

  const older = async () => {
    const last = rows[rows.length - 1];
    if (!last || busy) return;
    if (last.parentHex === ZERO || last.slot === 0) {
      setAtEnd(true);
      return;
    }
    setBusy(true);
    const w = await walk(chain, { hex: last.parentHex, slot: last.parentSlot ?? Math.max(0, last.slot - 1) }, PAGE_SIZE);
    setBusy(false);
    setError(w.error);
    if (w.rows.length < PAGE_SIZE && !w.error) {
      setAtEnd(true);
      setOldest(w.oldest);
    }
    setRows((old) => {
      const seen = new Set(old.map((r) => r.hex));
      return [...old, ...w.rows.filter((r) => !seen.has(r.hex))];
    });
  };

  // For measuring the first paint of the list (performance.getEntriesByName in a browser test).
  useEffect(() => {
    if (rows.length > 0 && performance.getEntriesByName('orrery:first-block-listed').length === 0) performance.mark('orrery:first-block-listed');
  }, [rows.length > 0]);

  // Block time gaps between consecutive listed blocks, oldest first.
  const gaps = useMemo(() => {
    const byHash = new Map(rows.map((r) => [r.hex, r]));
    const xs: number[] = [];
    const ys: number[] = [];
    for (const r of [...rows].reverse()) {
      const p = byHash.get(r.parentHex);
      if (!p) continue;
      xs.push(r.slot);
      ys.push((r.slot - p.slot) * chain.spec.slotSeconds);
    }
    return { xs, ys };
  }, [rows, chain]);

  const lag = useMemo(() => ({ xs: heads.lag.map((p) => p.slot), ys: heads.lag.map((p) => p.lag) }), [heads.lag]);

  return (
    <div>
      <div class="stats">
        <div class="stat">
          <div class="label">Best block</div>
          <div class="big" data-testid="best-slot">
            {heads.best ? heads.best.slot : '—'}
          </div>
          {heads.best && <HashText hex={heads.best.hex} href={`#/block/${heads.best.hex}`} testid="best-hash" />}
        </div>
        <div class="stat">
          <div class="label">Finalized block</div>
          <div class="big" data-testid="finalized-slot">
            {heads.finalized ? heads.finalized.slot : '—'}
          </div>
          {heads.finalized && <HashText hex={heads.finalized.hex} href={`#/block/${heads.finalized.hex}`} testid="finalized-hash" />}
        </div>
        <div class="stat">
          <div class="label">Finality lag</div>
          <div class="big">{heads.best && heads.finalized ? `${heads.best.slot - heads.finalized.slot}` : '—'}</div>
          <div class="muted small">slots</div>
        </div>
        <div class="stat">
          <div class="label">Epoch · slot in epoch</div>
          <div class="big">{heads.best ? `${Math.floor(heads.best.slot / chain.spec.epochLength)} · ${heads.best.slot % chain.spec.epochLength}` : '—'}</div>
          <div class="muted small">E = {chain.spec.epochLength}</div>
        </div>
      </div>
      <div class="charts">
        <LineChart testid="chart-block-times" title="Time between listed blocks" xLabel="slot" yLabel="seconds" xs={gaps.xs} ys={gaps.ys} color="#2563eb" bars />
        <LineChart testid="chart-finality-lag" title="Finality lag (since this page opened)" xLabel="best slot" yLabel="slots" xs={lag.xs} ys={lag.ys} color="#d97706" />
      </div>
      <ErrorBox messages={[error]} />
      <Card title="Blocks" extra={<span class="muted small"> newest first, {PAGE_SIZE} at a time</span>}>
        <table class="grid">
          <thead>
            <tr>
              <th class="num">Slot</th>
              <th>Header hash</th>
              <th class="num">Author</th>
              <th class="num">Tickets</th>
              <th class="num">Preimages</th>
              <th class="num">Guarantees</th>
              <th class="num">Assurances</th>
              <th class="num">Disputes</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.hex} data-testid="block-row" data-slot={r.slot}>
                <td class="num">
                  <a href={`#/block/${r.hex}`}>{r.slot}</a>
                </td>
                <td>
                  <HashText hex={r.hex} href={`#/block/${r.hex}`} testid="block-link" keep={10} />
                </td>
                <td class="num">{r.author ?? '—'}</td>
                <td class="num">{r.tickets ?? '—'}</td>
                <td class="num">{r.preimages ?? '—'}</td>
                <td class="num">{r.guarantees ?? '—'}</td>
                <td class="num">{r.assurances ?? '—'}</td>
                <td class="num">{r.disputes ?? '—'}</td>
                <td>{heads.finalized && r.slot <= heads.finalized.slot ? <span class="tag fin">finalized</span> : <span class="tag">best chain</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && !error && <p class="muted">Waiting for the best block…</p>}
        <div class="pager">
          <button type="button" data-testid="older" disabled={busy || atEnd || rows.length === 0} onClick={() => void older()}>
            {busy ? 'Loading…' : atEnd ? 'Reached genesis' : `Older ${PAGE_SIZE} blocks`}
          </button>
          <span class="muted small">{rows.length} blocks listed</span>
          {oldest && (
            <span class="muted small">
              · the node holds no body for the block before (<HashText hex={oldest} keep={6} />): genesis or pruned
            </span>
          )}
        </div>
      </Card>
      <Card title="Fork switches seen" testid="fork-points" count={forks.length} extra={<span class="muted small"> best heads that did not extend the previous best, since this page opened</span>}>
        {forks.length === 0 ? (
          <p class="muted">None: every best head so far extended the one before.</p>
        ) : (
          <table class="grid">
            <thead>
              <tr>
                <th class="num">Slot</th>
                <th>Old head</th>
                <th>New head</th>
              </tr>
            </thead>
            <tbody>
              {forks.map((f) => (
                <tr key={`${f.old.hex}-${f.new.hex}`} data-testid="fork-point" data-slot={f.slot}>
                  <td class="num">{f.slot}</td>
                  <td>
                    #{f.old.slot} <HashText hex={f.old.hex} href={`#/block/${f.old.hex}`} keep={8} />
                  </td>
                  <td>
                    #{f.new.slot} <HashText hex={f.new.hex} href={`#/block/${f.new.hex}`} keep={8} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

export type { Descriptor };

// Cores: what each core holds now (ρ after the best block, Orrery's `pendingReports`), its
// activity in the latest block (π_C), the packages guaranteed on it in the newest blocks with
// their stage (reported in block X, available in block Y: a later block's assurances for that
// core from more than two thirds of the validators, GP 0.7.2 eq. 11.16), and its gas and bundle
// bytes per block over the last blocks (π_C of each).

import { useEffect, useMemo, useState } from 'preact/hooks';
import { fromHex, toHex } from '../bytes';
import { METHOD_NOT_FOUND } from '../rpc';
import type { PendingReport } from '../types';
import { useCtx } from '../app';
import { MultiChart, type Series } from '../chart';
import { CHART_BLOCKS, useRecent } from '../recent';
import { packageStages, type PackageLife } from '../stages';
import { Card, ErrorBox, HashText, fmt, setBits } from '../ui';
import { useStatistics } from './validators';

/** Blocks read back from the best head for the "recent work" columns (the chart's window). */
export const RECENT_BLOCKS = CHART_BLOCKS;
/** Per-core series drawn (a full spec has 341 cores). */
const CHART_CORES = 8;

/** ρ after the best block, refreshed as it moves. */
function usePending(): { rho: (PendingReport | null)[] | null; error: string | null; unavailable: string | null; at: number | null } {
  const { chain, heads } = useCtx();
  const [state, setState] = useState<{ rho: (PendingReport | null)[] | null; error: string | null; unavailable: string | null; at: number | null }>({
    rho: null,
    error: null,
    unavailable: null,
    at: null,
  });
  const best = heads.best;
  useEffect(() => {
    if (!best || state.unavailable) return;
    let live = true;
    void chain.pendingReports(fromHex(best.hex)!).then((r) => {
      if (!live) return;
      if (r.ok) setState({ rho: r.value, error: null, unavailable: null, at: best.slot });
      else if (r.code === METHOD_NOT_FOUND) setState({ rho: null, error: null, unavailable: r.error, at: null });
      else setState((s) => ({ ...s, error: r.error }));
    });
    return () => {
      live = false;
    };
  }, [best?.hex]);
  return state;
}

function LifeText(props: { l: PackageLife }) {
  const l = props.l;
  return (
    <div class="small" data-testid="core-package" data-stage={l.available ? 'available' : 'reported'} data-package={l.pkg}>
      <HashText hex={l.pkg} href={`#/package/${l.pkg}`} keep={6} /> reported in <a href={`#/block/${l.reported.hex}`}>#{l.reported.slot}</a>
      {l.available ? (
        <>
          {' · '}
          <span class="tag fin">available</span> in <a href={`#/block/${l.available.hex}`}>#{l.available.slot}</a>
        </>
      ) : l.replaced ? (
        <>
          {' · '}
          <span class="tag">timed out</span>
        </>
      ) : (
        <>
          {' · '}
          <span class="tag">awaiting availability</span>
        </>
      )}
    </div>
  );
}

export function CoresPage() {
  const { chain } = useCtx();
  const { stats, error, at } = useStatistics();
  const pending = usePending();
  const recent = useRecent(RECENT_BLOCKS, true);
  const C = chain.spec.cores;

  const derived = useMemo(() => {
    const blocks = recent.blocks ?? [];
    const withBodies = blocks.filter((b) => b.block);
    const lives = packageStages(
      withBodies.map((b) => ({
        hex: b.hex,
        slot: b.slot,
        guarantees: b.block!.extrinsic.guarantees.map((g) => ({ core: g.report.core_index, pkg: toHex(g.report.package_spec.hash) })),
        bitfields: b.block!.extrinsic.assurances.map((a) => a.bitfield),
      })),
      chain.spec.validators,
      C,
    );
    const perCore: PackageLife[][] = Array.from({ length: C }, () => []);
    for (const l of lives) perCore[l.core]!.push(l);
    for (const p of perCore) p.reverse();
    const counts = Array.from({ length: C }, () => ({ guarantees: 0, assurances: 0 }));
    for (const b of withBodies) {
      for (const g of b.block!.extrinsic.guarantees) if (counts[g.report.core_index]) counts[g.report.core_index]!.guarantees++;
      for (const a of b.block!.extrinsic.assurances) for (const c of setBits(a.bitfield, C)) counts[c]!.assurances++;
    }
    // The throughput chart: one point per block with statistics, per core.
    const withStats = blocks.filter((b) => b.stats);
    const xs = withStats.map((b) => b.slot);
    const shown = Math.min(C, CHART_CORES);
    const gas: Series[] = Array.from({ length: shown }, (_, c) => ({ label: `core ${c}`, ys: withStats.map((b) => Number(b.stats!.cores[c]?.gas_used ?? 0n)) }));
    const bundle: Series[] = Array.from({ length: shown }, (_, c) => ({ label: `core ${c}`, ys: withStats.map((b) => b.stats!.cores[c]?.bundle_size ?? 0) }));
    return { perCore, counts, scanned: withBodies.length, xs, gas, bundle };
  }, [recent.blocks, C]);

  return (
    <div>
      <h1>Cores</h1>
      <ErrorBox messages={[error, pending.error, recent.error]} />
      {pending.unavailable && (
        <p class="muted" data-testid="pending-reports-unavailable">
          {pending.unavailable}
        </p>
      )}
      <Card title="What each core is doing" extra={<span class="muted small"> C = {C}</span>}>
        <table class="grid">
          <thead>
            <tr>
              <th rowSpan={2} class="num">
                Core
              </th>
              <th rowSpan={2}>Pending report (ρ{pending.at !== null ? ` at slot ${pending.at}` : ''})</th>
              <th colSpan={5} class="group">
                In the block at slot {at ?? '…'} (π_C)
              </th>
              <th colSpan={3} class="group">
                In the last {recent.blocks ? derived.scanned : '…'} blocks
              </th>
            </tr>
            <tr>
              <th class="num">DA load</th>
              <th class="num">Assurances</th>
              <th class="num">Imports / exports</th>
              <th class="num">Bundle</th>
              <th class="num">Refine gas</th>
              <th class="num">Guarantees</th>
              <th class="num">Assurances</th>
              <th>Packages and their stage</th>
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: C }, (_, i) => {
              const c = stats?.cores[i];
              const p = pending.rho?.[i];
              const lives = derived.perCore[i] ?? [];
              // Without ρ (another node), the newest package seen on the core stands in for it.
              const stage = pending.rho ? (p ? 'reported' : 'idle') : lives[0] && !lives[0].available && !lives[0].replaced ? 'reported' : 'idle';
              const n = recent.blocks ? derived.counts[i] : null;
              return (
                <tr key={i} data-testid="core-row" data-index={i} data-stage={stage}>
                  <td class="num">{i}</td>
                  <td>
                    {p ? (
                      <span data-testid="core-pending">
                        <HashText hex={toHex(p.report.package_spec.hash)} href={`#/package/${toHex(p.report.package_spec.hash)}`} keep={6} />
                        <div class="muted small">
                          reported at slot {p.timeout} · service {p.report.results.map((r) => r.service_id).join(', ')}
                        </div>
                      </span>
                    ) : pending.rho ? (
                      <span class="muted">idle</span>
                    ) : (
                      <span class="muted">{pending.unavailable ? 'not served' : '…'}</span>
                    )}
                  </td>
                  <td class="num">{c ? `${fmt(c.da_load)} B` : '…'}</td>
                  <td class="num">{c ? c.popularity : '…'}</td>
                  <td class="num">{c ? `${c.imports} / ${c.exports}` : '…'}</td>
                  <td class="num">{c ? `${fmt(c.bundle_size)} B` : '…'}</td>
                  <td class="num">{c ? fmt(c.gas_used) : '…'}</td>
                  <td class="num">{n ? n.guarantees : '…'}</td>
                  <td class="num">{n ? n.assurances : '…'}</td>
                  <td class="packages">
                    {lives.length === 0 ? (
                      <span class="muted">{recent.blocks ? 'none' : '…'}</span>
                    ) : (
                      lives.slice(0, 4).map((l) => <LifeText key={`${l.pkg}${l.reported.hex}`} l={l} />)
                    )}
                    {lives.length > 4 && <div class="muted small">and {lives.length - 4} older</div>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Card>
      <div class="charts" data-testid="chart-core-throughput" data-points={derived.xs.length}>
        <MultiChart title={`Refine gas used per core per block${C > CHART_CORES ? ` (cores 0–${CHART_CORES - 1})` : ''}`} xLabel="slot" yLabel="gas" xs={derived.xs} series={derived.gas} />
        <MultiChart title={`Bundle bytes per core per block${C > CHART_CORES ? ` (cores 0–${CHART_CORES - 1})` : ''}`} xLabel="slot" yLabel="bytes" xs={derived.xs} series={derived.bundle} />
      </div>
    </div>
  );
}

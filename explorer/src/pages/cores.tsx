// Cores: π_C (each core's activity in the latest block) and the work seen in the newest blocks'
// guarantees and assurances.

import { useEffect, useState } from 'preact/hooks';
import { fromHex, toHex } from '../bytes';
import { useCtx } from '../app';
import { Card, ErrorBox, HashText, Loading, fmt, setBits } from '../ui';
import { useStatistics } from './validators';
import { walk } from './chain';

/** Blocks read back from the best head for the "recent work" columns. */
export const RECENT_BLOCKS = 12;

interface Recent {
  lastPackage: { hex: string; slot: number; services: number[] } | null;
  guarantees: number;
  assurances: number;
}

export function CoresPage() {
  const { chain, heads } = useCtx();
  const { stats, error, at } = useStatistics();
  const [recent, setRecent] = useState<{ cores: Recent[]; blocks: number; error: string | null } | null>(null);
  const best = heads.best;

  useEffect(() => {
    if (!best) return;
    let live = true;
    void (async () => {
      const w = await walk(chain, best, RECENT_BLOCKS);
      const cores: Recent[] = Array.from({ length: chain.spec.cores }, () => ({ lastPackage: null, guarantees: 0, assurances: 0 }));
      // Newest first, so the first guarantee seen per core is its latest (the bodies come from
      // the client's block cache, which walk() just filled).
      for (const row of w.rows) {
        const b = await chain.block(fromHex(row.hex)!);
        if (!b.ok) break;
        for (const g of b.value.extrinsic.guarantees) {
          const c = cores[g.report.core_index];
          if (!c) continue;
          c.guarantees++;
          c.lastPackage ??= { hex: toHex(g.report.package_spec.hash), slot: b.value.header.slot, services: g.report.results.map((r) => r.service_id) };
        }
        for (const a of b.value.extrinsic.assurances) for (const i of setBits(a.bitfield, chain.spec.cores)) cores[i]!.assurances++;
      }
      if (live) setRecent({ cores, blocks: w.rows.length, error: w.error });
    })();
    return () => {
      live = false;
    };
  }, [best?.hex]);

  return (
    <div>
      <h1>Cores</h1>
      <ErrorBox messages={[error, recent?.error]} />
      {!stats && !error && <Loading what="statistics" />}
      {stats && (
        <Card title="What each core is doing" extra={<span class="muted small"> C = {chain.spec.cores}</span>}>
          <table class="grid">
            <thead>
              <tr>
                <th rowSpan={2} class="num">
                  Core
                </th>
                <th colSpan={7} class="group">
                  In the block at slot {at} (π_C)
                </th>
                <th colSpan={3} class="group">
                  In the last {recent?.blocks ?? '…'} blocks
                </th>
              </tr>
              <tr>
                <th class="num">DA load</th>
                <th class="num">Assurances</th>
                <th class="num">Imports</th>
                <th class="num">Exports</th>
                <th class="num">Extrinsics</th>
                <th class="num">Bundle</th>
                <th class="num">Refine gas</th>
                <th class="num">Guarantees</th>
                <th class="num">Assurances</th>
                <th>Latest package</th>
              </tr>
            </thead>
            <tbody>
              {stats.cores.map((c, i) => {
                const r = recent?.cores[i];
                return (
                  <tr key={i} data-testid="core-row" data-index={i}>
                    <td class="num">{i}</td>
                    <td class="num">{fmt(c.da_load)} B</td>
                    <td class="num">{c.popularity}</td>
                    <td class="num">{c.imports}</td>
                    <td class="num">{c.exports}</td>
                    <td class="num">
                      {c.extrinsic_count} ({fmt(c.extrinsic_size)} B)
                    </td>
                    <td class="num">{fmt(c.bundle_size)} B</td>
                    <td class="num">{fmt(c.gas_used)}</td>
                    <td class="num">{r ? r.guarantees : '…'}</td>
                    <td class="num">{r ? r.assurances : '…'}</td>
                    <td>
                      {r?.lastPackage ? (
                        <span>
                          <HashText hex={r.lastPackage.hex} href={`#/package/${r.lastPackage.hex}`} keep={6} />
                          <div class="muted small">
                            slot {r.lastPackage.slot} · service {r.lastPackage.services.join(', ')}
                          </div>
                        </span>
                      ) : (
                        <span class="muted">idle</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}

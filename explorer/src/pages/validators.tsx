// Validators: the activity statistics π_V (this epoch) and π_L (the last), at the best block.

import { useEffect, useState } from 'preact/hooks';
import { fromHex } from '../bytes';
import type { Statistics } from '../types';
import { useCtx } from '../app';
import { Card, ErrorBox, Loading, fmt } from '../ui';

/** π at the best block, refreshed when the best block changes. */
export function useStatistics(): { stats: Statistics | null; error: string | null; at: number | null } {
  const { chain, heads } = useCtx();
  const [state, setState] = useState<{ stats: Statistics | null; error: string | null; at: number | null }>({ stats: null, error: null, at: null });
  const best = heads.best;
  useEffect(() => {
    if (!best) return;
    let live = true;
    void chain.statistics(fromHex(best.hex)!).then((r) => {
      if (!live) return;
      setState((s) => (r.ok ? { stats: r.value, error: null, at: best.slot } : { ...s, error: r.error }));
    });
    return () => {
      live = false;
    };
  }, [best?.hex]);
  return state;
}

export function ValidatorsPage() {
  const { chain } = useCtx();
  const { stats, error, at } = useStatistics();
  const cols = ['blocks', 'tickets', 'pre_images', 'pre_images_size', 'guarantees', 'assurances'] as const;
  const names = ['Blocks', 'Tickets', 'Preimages', 'Preimage bytes', 'Guarantees', 'Assurances'];
  return (
    <div>
      <h1>Validators</h1>
      <ErrorBox messages={[error]} />
      {!stats && !error && <Loading what="statistics" />}
      {stats && (
        <Card title={`Activity this epoch and the last (π_V, π_L) at slot ${at}`} extra={<span class="muted small"> V = {chain.spec.validators}</span>}>
          <table class="grid">
            <thead>
              <tr>
                <th class="num" rowSpan={2}>
                  Validator
                </th>
                <th colSpan={6} class="group">
                  This epoch
                </th>
                <th colSpan={3} class="group">
                  Last epoch
                </th>
              </tr>
              <tr>
                {names.map((n) => (
                  <th class="num" key={n}>
                    {n}
                  </th>
                ))}
                <th class="num">Blocks</th>
                <th class="num">Guarantees</th>
                <th class="num">Assurances</th>
              </tr>
            </thead>
            <tbody>
              {stats.vals_curr.map((v, i) => {
                const l = stats.vals_last[i]!;
                return (
                  <tr key={i} data-testid="validator-row" data-index={i}>
                    <td class="num">{i}</td>
                    {cols.map((c) => (
                      <td class="num" key={c}>
                        {fmt(v[c])}
                      </td>
                    ))}
                    <td class="num muted">{fmt(l.blocks)}</td>
                    <td class="num muted">{fmt(l.guarantees)}</td>
                    <td class="num muted">{fmt(l.assurances)}</td>
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

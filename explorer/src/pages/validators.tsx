// Validators: this epoch's keys (κ) with the activity statistics π_V (this epoch) and π_L (the
// last), and the next epoch's keys (γ_P), at the best block. Keys come from Orrery's `validators`
// extension; on another node the page says so and shows the statistics alone.

import { useEffect, useState } from 'preact/hooks';
import { fromHex, short, toHex } from '../bytes';
import { endpointText, peerName } from '../keys';
import { METHOD_NOT_FOUND } from '../rpc';
import type { Statistics, ValidatorKey } from '../types';
import { useCtx } from '../app';
import { Card, ErrorBox, HashText, Loading, fmt } from '../ui';

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

/** κ and γ_P after the best block (Orrery's `validators`), refreshed when the best block changes. */
export function useValidatorKeys(): { keys: { current: ValidatorKey[]; next: ValidatorKey[] } | null; error: string | null; unavailable: string | null } {
  const { chain, heads } = useCtx();
  const [state, setState] = useState<{ keys: { current: ValidatorKey[]; next: ValidatorKey[] } | null; error: string | null; unavailable: string | null }>({
    keys: null,
    error: null,
    unavailable: null,
  });
  const best = heads.best;
  useEffect(() => {
    if (!best || state.unavailable) return;
    let live = true;
    void chain.validators(fromHex(best.hex)!).then((r) => {
      if (!live) return;
      if (r.ok) setState({ keys: r.value, error: null, unavailable: null });
      else if (r.code === METHOD_NOT_FOUND) setState({ keys: null, error: null, unavailable: r.error });
      else setState((s) => ({ ...s, error: r.error }));
    });
    return () => {
      live = false;
    };
  }, [best?.hex]);
  return state;
}

function KeyCells(props: { k: ValidatorKey }) {
  const ed = toHex(props.k.ed25519);
  const bs = toHex(props.k.bandersnatch);
  const peer = peerName(props.k.ed25519) ?? '';
  const endpoint = endpointText(props.k.metadata);
  return (
    <>
      <td>
        <HashText hex={ed} testid="validator-ed25519" keep={6} />
      </td>
      <td>
        <HashText hex={bs} testid="validator-bandersnatch" keep={6} />
      </td>
      <td>
        <code data-testid="validator-peer" data-value={peer} title={peer}>
          {short(peer, 8)}
        </code>
      </td>
      <td>
        <code data-testid="validator-endpoint">{endpoint ?? '—'}</code>
      </td>
    </>
  );
}

export function ValidatorsPage() {
  const { chain } = useCtx();
  const { stats, error, at } = useStatistics();
  const { keys, error: keysError, unavailable } = useValidatorKeys();
  const cols = ['blocks', 'tickets', 'pre_images', 'pre_images_size', 'guarantees', 'assurances'] as const;
  const names = ['Blocks', 'Tickets', 'Preimages', 'Preimage bytes', 'Guarantees', 'Assurances'];
  const rows = stats?.vals_curr.length ?? keys?.current.length ?? 0;
  const keyCols = keys ? 4 : 0;
  return (
    <div>
      <h1>Validators</h1>
      <ErrorBox messages={[error, keysError]} />
      {unavailable && (
        <p class="muted" data-testid="validators-keys-unavailable">
          {unavailable}
        </p>
      )}
      {rows === 0 && !error && <Loading what="validators" />}
      {rows > 0 && (
        <Card
          title={at !== null ? `This epoch's validators (κ) and their activity this epoch and the last (π_V, π_L) at slot ${at}` : "This epoch's validators (κ)"}
          extra={<span class="muted small"> V = {chain.spec.validators}</span>}
        >
          <table class="grid">
            <thead>
              <tr>
                <th class="num" rowSpan={2}>
                  Validator
                </th>
                {keys && (
                  <th colSpan={keyCols} class="group">
                    Keys
                  </th>
                )}
                <th colSpan={6} class="group">
                  This epoch
                </th>
                <th colSpan={3} class="group">
                  Last epoch
                </th>
              </tr>
              <tr>
                {keys && (
                  <>
                    <th>Ed25519</th>
                    <th>Bandersnatch</th>
                    <th>Peer name</th>
                    <th>Endpoint</th>
                  </>
                )}
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
              {Array.from({ length: rows }, (_, i) => {
                const v = stats?.vals_curr[i];
                const l = stats?.vals_last[i];
                const k = keys?.current[i];
                return (
                  <tr key={i} data-testid="validator-row" data-index={i}>
                    <td class="num">{i}</td>
                    {keys && (k ? <KeyCells k={k} /> : <td colSpan={keyCols}>—</td>)}
                    {cols.map((c) => (
                      <td class="num" key={c}>
                        {v ? fmt(v[c]) : '…'}
                      </td>
                    ))}
                    <td class="num muted">{l ? fmt(l.blocks) : '…'}</td>
                    <td class="num muted">{l ? fmt(l.guarantees) : '…'}</td>
                    <td class="num muted">{l ? fmt(l.assurances) : '…'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Card>
      )}
      {keys && (
        <Card title="Next epoch's validators (γ_P)" testid="validators-next" count={keys.next.length}>
          <table class="grid">
            <thead>
              <tr>
                <th class="num">Validator</th>
                <th>Ed25519</th>
                <th>Bandersnatch</th>
                <th>Peer name</th>
                <th>Endpoint</th>
                <th>In this epoch too</th>
              </tr>
            </thead>
            <tbody>
              {keys.next.map((k, i) => {
                const same = keys.current.findIndex((c) => toHex(c.ed25519) === toHex(k.ed25519));
                return (
                  <tr key={i} data-testid="next-validator-row" data-index={i}>
                    <td class="num">{i}</td>
                    <KeyCells k={k} />
                    <td>{same < 0 ? <span class="muted">no</span> : `as validator ${same}`}</td>
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

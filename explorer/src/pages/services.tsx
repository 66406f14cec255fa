// Services: the list at the best block (listServices, then serviceData for each shown row), and
// one service's account fields, storage lookup (serviceValue), preimage lookup (servicePreimage)
// and its activity in the latest block (π_S).

import { useEffect, useMemo, useState } from 'preact/hooks';
import { fromHex, parseHash, toBase64, toHex } from '../bytes';
import type { ServiceInfo, ServiceRecord, Statistics } from '../types';
import { MultiChart, type Series } from '../chart';
import { CHART_BLOCKS, useRecent } from '../recent';
import { useCtx } from '../app';
import { BlobView, Bytes, Card, ErrorBox, HashText, KV, Loading, fmt } from '../ui';
import { useStatistics } from './validators';
import { walk } from './chain';
import { outcome } from './block';
import { RECENT_BLOCKS } from './cores';
import type { WorkResult } from '../types';

const SERVICES_PER_PAGE = 50;

export function ServicesPage() {
  const { chain, heads } = useCtx();
  const [ids, setIds] = useState<number[] | null>(null);
  const [infos, setInfos] = useState<Map<number, ServiceInfo | null | string>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [page, setPage] = useState(0);
  const best = heads.best;

  useEffect(() => {
    if (!best) return;
    let live = true;
    const at = fromHex(best.hex)!;
    void chain.listServices(at).then(async (r) => {
      if (!live) return;
      if (!r.ok) {
        setError(r.error);
        return;
      }
      setError(null);
      const sorted = [...r.value].sort((a, b) => a - b);
      setIds(sorted);
      const shown = sorted.slice(page * SERVICES_PER_PAGE, (page + 1) * SERVICES_PER_PAGE);
      const all = await Promise.all(shown.map((id) => chain.serviceInfo(at, id)));
      if (!live) return;
      setInfos(new Map(shown.map((id, i) => [id, all[i]!.ok ? all[i]!.value : all[i]!.error] as [number, ServiceInfo | null | string])));
    });
    return () => {
      live = false;
    };
  }, [best?.hex, page]);

  const shown = ids?.slice(page * SERVICES_PER_PAGE, (page + 1) * SERVICES_PER_PAGE) ?? [];
  const pages = ids ? Math.max(1, Math.ceil(ids.length / SERVICES_PER_PAGE)) : 1;
  const recent = useRecent(CHART_BLOCKS, true);
  const gas = useMemo(() => serviceGasSeries(recent.blocks ?? [], CHART_SERVICES), [recent.blocks]);
  return (
    <div>
      <h1>Services</h1>
      <ErrorBox messages={[error, ...[...infos.values()].filter((v): v is string => typeof v === 'string')]} />
      {!ids && !error && <Loading what="services" />}
      {ids && (
        <Card title={`${ids.length} services at slot ${best?.slot ?? '—'}`}>
          <table class="grid">
            <thead>
              <tr>
                <th class="num">Service</th>
                <th>Code hash</th>
                <th class="num">Balance</th>
                <th class="num">Storage items</th>
                <th class="num">Storage bytes</th>
                <th class="num">Created at</th>
                <th class="num">Last accumulation</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((id) => {
                const info = infos.get(id);
                const ok = info && typeof info === 'object' ? info : null;
                return (
                  <tr key={id} data-testid="service-row" data-id={id}>
                    <td class="num">
                      <a href={`#/service/${id}`} data-testid="service-link">
                        {id}
                      </a>
                    </td>
                    <td>{ok ? <Bytes b={ok.code_hash} /> : '…'}</td>
                    <td class="num">{ok ? fmt(ok.balance) : '…'}</td>
                    <td class="num">{ok ? fmt(ok.items) : '…'}</td>
                    <td class="num">{ok ? fmt(ok.bytes) : '…'}</td>
                    <td class="num">{ok ? ok.creation_slot : '…'}</td>
                    <td class="num">{ok ? ok.last_accumulation_slot : '…'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {pages > 1 && (
            <div class="pager">
              <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
                Previous
              </button>
              <span class="muted small">
                page {page + 1} of {pages}
              </span>
              <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
                Next
              </button>
            </div>
          )}
        </Card>
      )}
      <ErrorBox messages={[recent.error]} />
      <div class="charts" data-testid="chart-service-gas" data-points={gas.xs.length}>
        <MultiChart title={`Refine gas per service per block${gas.cut ? ` (the ${CHART_SERVICES} busiest)` : ''}`} xLabel="slot" yLabel="gas" xs={gas.xs} series={gas.refine} />
        <MultiChart title={`Accumulate gas per service per block${gas.cut ? ` (the ${CHART_SERVICES} busiest)` : ''}`} xLabel="slot" yLabel="gas" xs={gas.xs} series={gas.accumulate} />
      </div>
    </div>
  );
}

/** Services drawn in the gas charts. */
const CHART_SERVICES = 6;

/**
 * Refine and accumulate gas per service per block from each block's π_S (which lists the services
 * active in that block; one missing from it used no gas there), for the `limit` services with the
 * most gas over the window.
 */
export function serviceGasSeries(blocks: { slot: number; stats: Statistics | null }[], limit: number): { xs: number[]; refine: Series[]; accumulate: Series[]; cut: boolean } {
  const withStats = blocks.filter((b) => b.stats);
  const total = new Map<number, bigint>();
  for (const b of withStats)
    for (const s of b.stats!.services) total.set(s.id, (total.get(s.id) ?? 0n) + s.record.refinement_gas_used + s.record.accumulate_gas_used);
  const ids = [...total.entries()]
    .sort((a, b) => (a[1] === b[1] ? a[0] - b[0] : a[1] > b[1] ? -1 : 1))
    .slice(0, limit)
    .map(([id]) => id)
    .sort((a, b) => a - b);
  const series = (f: (r: ServiceRecord) => bigint): Series[] =>
    ids.map((id) => ({ label: `service ${id}`, ys: withStats.map((b) => Number(f(b.stats!.services.find((s) => s.id === id)?.record ?? ZERO_RECORD))) }));
  return {
    xs: withStats.map((b) => b.slot),
    refine: series((r) => r.refinement_gas_used),
    accumulate: series((r) => r.accumulate_gas_used),
    cut: total.size > limit,
  };
}

const ZERO_RECORD: ServiceRecord = {
  provided_count: 0,
  provided_size: 0,
  refinement_count: 0,
  refinement_gas_used: 0n,
  imports: 0,
  extrinsic_count: 0,
  extrinsic_size: 0,
  exports: 0,
  accumulate_count: 0,
  accumulate_gas_used: 0n,
};

/** The bytes a storage key text stands for: `0x…` is hex, anything else its UTF-8 bytes. */
export function keyBytes(text: string): { ok: true; bytes: Uint8Array } | { ok: false; error: string } {
  if (text.startsWith('0x') || text.startsWith('0X')) {
    const b = fromHex(text);
    return b ? { ok: true, bytes: b } : { ok: false, error: `storage key ${JSON.stringify(text.slice(0, 80))} is not hex of whole bytes` };
  }
  return { ok: true, bytes: new TextEncoder().encode(text) };
}

export function ServicePage(props: { id: number }) {
  const { chain, heads } = useCtx();
  const { stats } = useStatistics();
  const [info, setInfo] = useState<ServiceInfo | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const best = heads.best;

  useEffect(() => {
    if (!best) return;
    let live = true;
    void chain.serviceInfo(fromHex(best.hex)!, props.id).then((r) => {
      if (!live) return;
      if (r.ok) {
        setInfo(r.value);
        setError(null);
      } else setError(r.error);
    });
    return () => {
      live = false;
    };
  }, [best?.hex]);

  const activity = stats?.services.find((s) => s.id === props.id)?.record;
  return (
    <div>
      <h1>
        Service <span data-testid="service-id">{props.id}</span>
      </h1>
      <ErrorBox messages={[error, info === null ? `service ${props.id} does not exist at the best block (slot ${best?.slot})` : null]} />
      {info === undefined && !error && <Loading what="the service" />}
      {info && (
        <Card title={`Account at slot ${best?.slot}`}>
          <KV
            rows={[
              ['Balance', <span data-testid="service-balance">{fmt(info.balance)}</span>],
              ['Code hash', <Bytes b={info.code_hash} testid="service-code-hash" />],
              ['Storage items', fmt(info.items)],
              ['Storage bytes', fmt(info.bytes)],
              ['Deposit offset (gratis)', fmt(info.deposit_offset)],
              ['Min. gas per work item', fmt(info.min_item_gas)],
              ['Min. gas per transfer', fmt(info.min_memo_gas)],
              ['Created at slot', info.creation_slot],
              ['Last accumulated at slot', info.last_accumulation_slot],
              ['Parent service', <a href={`#/service/${info.parent_service}`}>{info.parent_service}</a>],
            ]}
          />
        </Card>
      )}
      {activity && (
        <Card title="Activity in the latest block (π_S)">
          <KV
            rows={[
              ['Work items refined', `${fmt(activity.refinement_count)} (${fmt(activity.refinement_gas_used)} gas)`],
              ['Work items accumulated', `${fmt(activity.accumulate_count)} (${fmt(activity.accumulate_gas_used)} gas)`],
              ['Preimages provided', `${fmt(activity.provided_count)} (${fmt(activity.provided_size)} B)`],
              ['Segments imported / exported', `${fmt(activity.imports)} / ${fmt(activity.exports)}`],
              ['Extrinsics', `${fmt(activity.extrinsic_count)} (${fmt(activity.extrinsic_size)} B)`],
            ]}
          />
        </Card>
      )}
      <RecentWork id={props.id} />
      <StorageLookup id={props.id} />
      <PreimageLookup id={props.id} />
    </div>
  );
}

function StorageLookup(props: { id: number }) {
  const { chain, heads } = useCtx();
  const [key, setKey] = useState('');
  const [result, setResult] = useState<{ key: string; value: Uint8Array | null; slot: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const best = heads.best;
    if (!best) return setError('no best block yet');
    const k = keyBytes(key);
    if (!k.ok) {
      setResult(null);
      return setError(k.error);
    }
    setBusy(true);
    const r = await chain.optionalBlob('serviceValue', [toBase64(fromHex(best.hex)!), props.id, toBase64(k.bytes)]);
    setBusy(false);
    if (!r.ok) {
      setResult(null);
      return setError(r.error);
    }
    setError(null);
    setResult({ key, value: r.value, slot: best.slot });
  };
  return (
    <Card title="Storage">
      <form class="inline" onSubmit={(e) => void submit(e)}>
        <input data-testid="storage-key-input" placeholder="key: text, or 0x… for hex bytes" value={key} maxLength={4096} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        <button type="submit" data-testid="storage-key-submit" disabled={busy}>
          Look up
        </button>
      </form>
      <ErrorBox messages={[error]} />
      {result &&
        (result.value === null ? (
          <p data-testid="storage-none" class="muted">
            No value under {JSON.stringify(result.key)} at slot {result.slot}.
          </p>
        ) : (
          <BlobView b={result.value} testid="storage-value" />
        ))}
    </Card>
  );
}

function PreimageLookup(props: { id: number }) {
  const { chain, heads } = useCtx();
  const [text, setText] = useState('');
  const [result, setResult] = useState<{ hex: string; value: Uint8Array | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const best = heads.best;
    if (!best) return setError('no best block yet');
    const h = parseHash(text);
    if (!h) {
      setResult(null);
      return setError('a preimage is looked up by its 32-byte hash (64 hex digits)');
    }
    const r = await chain.optionalBlob('servicePreimage', [toBase64(fromHex(best.hex)!), props.id, toBase64(h)]);
    if (!r.ok) {
      setResult(null);
      return setError(r.error);
    }
    setError(null);
    setResult({ hex: toHex(h), value: r.value });
  };
  return (
    <Card title="Preimages">
      <form class="inline" onSubmit={(e) => void submit(e)}>
        <input data-testid="preimage-hash-input" placeholder="preimage hash (64 hex digits)" value={text} maxLength={200} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit" data-testid="preimage-hash-submit">
          Look up
        </button>
      </form>
      <ErrorBox messages={[error]} />
      {result && (result.value === null ? <p class="muted" data-testid="preimage-none">This service holds no preimage with that hash.</p> : <BlobView b={result.value} testid="preimage-value" />)}
    </Card>
  );
}

/** This service's work results in the guarantees of the newest blocks. */
function RecentWork(props: { id: number }) {
  const { chain, heads } = useCtx();
  const [items, setItems] = useState<{ slot: number; pkg: string; core: number; r: WorkResult }[] | null>(null);
  const [scanned, setScanned] = useState(0);
  const best = heads.best;
  useEffect(() => {
    if (!best) return;
    let live = true;
    void (async () => {
      const w = await walk(chain, best, RECENT_BLOCKS);
      const out: { slot: number; pkg: string; core: number; r: WorkResult }[] = [];
      for (const row of w.rows) {
        const b = await chain.block(fromHex(row.hex)!);
        if (!b.ok) break;
        for (const g of b.value.extrinsic.guarantees)
          for (const r of g.report.results)
            if (r.service_id === props.id) out.push({ slot: b.value.header.slot, pkg: toHex(g.report.package_spec.hash), core: g.report.core_index, r });
      }
      if (live) {
        setItems(out);
        setScanned(w.rows.length);
      }
    })();
    return () => {
      live = false;
    };
  }, [best?.hex]);
  if (!items) return null;
  return (
    <Card title={`Work results in the last ${scanned} blocks`}>
      {items.length === 0 ? (
        <p class="muted">No work for this service was guaranteed in these blocks.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th class="num">Guaranteed at slot</th>
              <th>Work package</th>
              <th class="num">Core</th>
              <th>Outcome</th>
              <th class="num">Refine gas</th>
              <th class="num">Accumulate gas limit</th>
            </tr>
          </thead>
          <tbody>
            {items.map((x, i) => (
              <tr key={i}>
                <td class="num">{x.slot}</td>
                <td>
                  <HashText hex={x.pkg} href={`#/package/${x.pkg}`} />
                </td>
                <td class="num">{x.core}</td>
                <td>{outcome(x.r.result)}</td>
                <td class="num">{fmt(x.r.refine_load.gas_used)}</td>
                <td class="num">{fmt(x.r.accumulate_gas)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

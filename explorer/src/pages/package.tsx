// A work package's life: the report that carries it (found in the newest blocks' guarantees, or by
// report hash with workReport) and its status at the best block (workPackageStatus, which needs
// the package's anchor: the report's refine context gives it, or the person types it).

import { useEffect, useState } from 'preact/hooks';
import { fromHex, parseHash, toHex } from '../bytes';
import type { Chain } from '../chain';
import type { WorkReport } from '../types';
import { useCtx } from '../app';
import { Bytes, Card, ErrorBox, HashText, KV, Loading, fmt } from '../ui';
import { walk } from './chain';
import { WorkResults } from './block';

/** Blocks searched back from the best head for a package's guarantee. */
export const PACKAGE_SEARCH_BLOCKS = 32;

/** The newest guarantee of package `hex` in the last blocks: its report and the block's slot. */
export async function findGuarantee(chain: Chain, best: { hex: string; slot: number }, hex: string): Promise<{ report: WorkReport; slot: number; block: string } | null> {
  const w = await walk(chain, best, PACKAGE_SEARCH_BLOCKS);
  for (const row of w.rows) {
    const b = await chain.block(fromHex(row.hex)!);
    if (!b.ok) return null;
    const g = b.value.extrinsic.guarantees.find((g) => toHex(g.report.package_spec.hash) === hex);
    if (g) return { report: g.report, slot: b.value.header.slot, block: row.hex };
  }
  return null;
}

export function PackagePage(props: { hex: string }) {
  const { chain, heads } = useCtx();
  const [found, setFound] = useState<{ report: WorkReport; slot: number | null; block: string | null; via: string } | null | undefined>(undefined);
  const [status, setStatus] = useState<unknown>(undefined);
  const [errors, setErrors] = useState<string[]>([]);
  const [anchorText, setAnchorText] = useState('');
  const best = heads.best;

  useEffect(() => {
    if (!best || found !== undefined) return;
    let live = true;
    void (async () => {
      const g = await findGuarantee(chain, best, props.hex);
      if (!live) return;
      if (g) return setFound({ ...g, via: `guaranteed in the block at slot ${g.slot}` });
      const r = await chain.workReport(fromHex(props.hex)!);
      if (!live) return;
      if (r.ok) return setFound({ report: r.value, slot: null, block: null, via: 'the node holds the report with this hash' });
      setFound(null);
      setErrors([
        `no guarantee of package ${props.hex.slice(0, 16)}… in the last ${PACKAGE_SEARCH_BLOCKS} blocks, and no work report with this hash (${r.error})`,
      ]);
    })();
    return () => {
      live = false;
    };
  }, [best?.hex]);

  const pkgHex = found ? toHex(found.report.package_spec.hash) : props.hex;
  const queryStatus = async (anchor: Uint8Array) => {
    if (!best) return;
    const s = await chain.packageStatus(fromHex(best.hex)!, fromHex(pkgHex)!, anchor);
    if (s.ok) setStatus(s.value);
    else setErrors((e) => [...e, s.error]);
  };
  useEffect(() => {
    if (found && best) void queryStatus(found.report.context.anchor);
  }, [found, best?.hex]);

  return (
    <div>
      <h1>
        Work package <HashText hex={pkgHex} full testid="package-hash" />
      </h1>
      <ErrorBox messages={errors} />
      {found === undefined && <Loading what="the package's report" />}
      {status !== undefined && (
        <Card title={`Status at the best block (slot ${best?.slot})`}>
          <StatusView s={status} />
          {found?.slot != null && typeof status === 'object' && status !== null && 'Failed' in status && (
            <p class="muted small">
              The node judges from the best block's state, which remembers a package only while its anchor is recent
              (H = {String(chain.parameters.recent_block_count ?? '?')} blocks) and its accumulation for one epoch; this page found the package guaranteed in
              the block at slot {found.slot}.
            </p>
          )}
        </Card>
      )}
      {found === null && (
        <Card title="Status by anchor">
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              const a = parseHash(anchorText);
              if (!a) return setErrors((x) => [...x, 'the anchor is a 32-byte header hash (64 hex digits)']);
              void queryStatus(a);
            }}
          >
            <input placeholder="the package's anchor block hash" value={anchorText} maxLength={200} onInput={(e) => setAnchorText((e.target as HTMLInputElement).value)} />
            <button type="submit">Ask the node</button>
          </form>
        </Card>
      )}
      {found && (
        <Card title="Work report">
          <p class="muted small">Found: {found.via}.</p>
          <KV
            rows={[
              ['Core', found.report.core_index],
              ['Bundle length', `${fmt(found.report.package_spec.length)} B`],
              ['Erasure root', <Bytes b={found.report.package_spec.erasure_root} />],
              ['Exports root', <Bytes b={found.report.package_spec.exports_root} />],
              ['Segments exported', found.report.package_spec.exports_count],
              ['Anchor', <Bytes b={found.report.context.anchor} href={`#/block/${toHex(found.report.context.anchor)}`} />],
              ['Lookup anchor', <span>slot {found.report.context.lookup_anchor_slot} <Bytes b={found.report.context.lookup_anchor} href={`#/block/${toHex(found.report.context.lookup_anchor)}`} /></span>],
              ['Prerequisites', found.report.context.prerequisites.length === 0 ? 'none' : <span>{found.report.context.prerequisites.map((p) => <Bytes b={p} href={`#/package/${toHex(p)}`} />)}</span>],
              ['Authorizer', <Bytes b={found.report.authorizer_hash} />],
              ['Authorizer gas used', fmt(found.report.auth_gas_used)],
              ...(found.block ? ([['Guaranteed in', <HashText hex={found.block} href={`#/block/${found.block}`} />]] as [string, preact.ComponentChildren][]) : []),
            ]}
          />
          <WorkResults report={found.report} />
        </Card>
      )}
    </div>
  );
}

/** JIP-2's status: Reportable{remaining_blocks} | Reported{…} | Ready{…} | Failed(text). */
function StatusView(props: { s: unknown }) {
  const s = props.s;
  if (typeof s !== 'object' || s === null) return <p>Unexpected answer: {JSON.stringify(s)?.slice(0, 200)}</p>;
  const [kind, body] = Object.entries(s)[0] ?? ['?', null];
  const b = (body ?? {}) as Record<string, unknown>;
  const steps = ['Reportable', 'Reported', 'Ready'];
  const at = steps.indexOf(kind);
  return (
    <div data-testid="package-status" data-status={kind}>
      <ol class="steps">
        {steps.map((st, i) => (
          <li key={st} class={kind === 'Failed' ? '' : i < at ? 'done' : i === at ? 'now' : ''}>
            {st === 'Ready' ? 'Available (ready to accumulate or accumulated)' : st === 'Reported' ? 'Reported (guaranteed, awaiting availability)' : 'Submitted (reportable)'}
          </li>
        ))}
      </ol>
      {kind === 'Failed' && <p class="error-text">Failed: {String(body)}</p>}
      {kind === 'Reportable' && <p>Can still be reported for {String(b.remaining_blocks)} more blocks.</p>}
      {(kind === 'Reported' || kind === 'Ready') && (
        <p class="muted small">
          core {String(b.core)}
          {typeof b.reported_in === 'object' && b.reported_in !== null && `, reported in the block at slot ${String((b.reported_in as { slot?: unknown }).slot)}`}
          {typeof b.ready_in === 'object' && b.ready_in !== null && `, available in the block at slot ${String((b.ready_in as { slot?: unknown }).slot)}`}
        </p>
      )}
    </div>
  );
}

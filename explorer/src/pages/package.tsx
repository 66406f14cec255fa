// A work package's life, live: its stage at the best block through subscribeWorkPackageStatus,
// the stages seen with the blocks they were reached in, and the report (workReport by the hash
// the status names). On a node without the subscription, the newest blocks' guarantees.

import { useEffect, useState } from 'preact/hooks';
import { fromHex, toBase64, toHex } from '../bytes';
import { describeError } from '../rpc';
import { addToLife, parseUpdate, ZERO_HASH, type LifeEntry, type Stage, type Update } from '../packages';
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

const STAGE_TEXT: Record<Stage, string> = {
  unknown: 'Unknown (waiting for the node)',
  reportable: 'Reportable',
  reported: 'Reported (guaranteed, awaiting availability)',
  ready: 'Available (ready to accumulate or accumulated)',
  failed: 'Failed',
};

export function PackagePage(props: { hex: string }) {
  const { chain, heads } = useCtx();
  const [update, setUpdate] = useState<Update | null>(null);
  const [life, setLife] = useState<LifeEntry[]>([]);
  const [subError, setSubError] = useState<string | null>(null);
  const [report, setReport] = useState<{ hash: string; report: WorkReport } | null>(null);
  const [reportError, setReportError] = useState<string | null>(null);
  const [found, setFound] = useState<{ report: WorkReport; slot: number; block: string } | null | undefined>(undefined);
  const best = heads.best;
  const started = best !== null;

  // The status, live: subscribeWorkPackageStatus(package, anchor, finalized = false), anchored at
  // the best head when the page opens (the anchor only matters before the package is reported).
  // Ended when the page is left.
  useEffect(() => {
    if (!best) return;
    const off = chain.rpc.subscribe(
      'subscribeWorkPackageStatus',
      [toBase64(fromHex(props.hex)!), toBase64(fromHex(best.hex)!), false],
      (v) => {
        const u = parseUpdate(v);
        if ('error' in u) return setSubError(u.error);
        setSubError(null);
        setUpdate(u);
        setLife((l) => addToLife(l, u));
      },
      (e) => setSubError(describeError('subscribeWorkPackageStatus', e)),
    );
    return off;
  }, [started]);

  // The report, by the hash the status names (workReport), once per hash.
  const reportHash = update && (update.status.stage === 'reported' || update.status.stage === 'ready') ? update.status.reportHash : null;
  useEffect(() => {
    if (!reportHash || reportHash === ZERO_HASH || report?.hash === reportHash) return;
    let live = true;
    void chain.workReport(fromHex(reportHash)!).then((r) => {
      if (!live) return;
      if (r.ok) {
        setReport({ hash: reportHash, report: r.value });
        setReportError(null);
      } else setReportError(r.error);
    });
    return () => {
      live = false;
    };
  }, [reportHash]);

  // A node without the subscription, or one that no longer holds the report (an all-zero report
  // hash): the newest blocks' guarantees.
  const unsupported = (subError !== null && subError.includes('method not found')) || reportHash === ZERO_HASH;
  useEffect(() => {
    if (!unsupported || !best || found !== undefined) return;
    let live = true;
    void findGuarantee(chain, best, props.hex).then((g) => live && setFound(g));
    return () => {
      live = false;
    };
  }, [unsupported]);

  const stage: Stage = update ? update.status.stage : 'unknown';
  const shownReport = report?.report ?? found?.report ?? null;
  const s = update?.status;
  return (
    <div>
      <h1>
        Work package <HashText hex={props.hex} full testid="package-hash" />
      </h1>
      <ErrorBox messages={[subError, reportError, found === null ? `no guarantee of this package in the last ${PACKAGE_SEARCH_BLOCKS} blocks` : null]} />
      <Card title={update ? `Status at the best block (slot ${update.at.slot})` : 'Status'}>
        <div data-testid="package-stage" data-stage={stage}>
          <ol class="steps">
            {(['reportable', 'reported', 'ready'] as const).map((st, i, all) => {
              const now = all.indexOf(stage as (typeof all)[number]);
              return (
                <li key={st} class={stage === 'failed' || now < 0 ? '' : i < now ? 'done' : i === now ? 'now' : ''}>
                  {STAGE_TEXT[st]}
                </li>
              );
            })}
          </ol>
          <p>
            <b>{STAGE_TEXT[stage]}</b>
            {s?.stage === 'reportable' && (
              <span class="muted">
                {' '}
                — not reported on this fork yet; a package anchored at the block this page opened at could be reported for {s.remaining} more blocks.
              </span>
            )}
            {s?.stage === 'failed' && <span class="error-text"> — {s.why}</span>}
            {(s?.stage === 'reported' || s?.stage === 'ready') &&
              (s.reportHash === ZERO_HASH ? (
                <span class="muted"> — the node no longer holds its report; the blocks below are as far back as its states show the package</span>
              ) : (
                <span class="muted"> — core {s.core}</span>
              ))}
          </p>
        </div>
        <h3 class="small muted">Stages seen (live since this page opened)</h3>
        <ol data-testid="package-life" class="items" data-count={life.length}>
          {life.map((e) => (
            <li key={e.stage} data-stage={e.stage}>
              {STAGE_TEXT[e.stage]} {e.stage === 'reportable' || e.stage === 'failed' ? 'at' : 'in'} block{' '}
              <a href={`#/block/${e.at.hex}`} data-value={e.at.hex} title={e.at.hex}>
                #{e.at.slot}
              </a>
            </li>
          ))}
        </ol>
        {life.length === 0 && !subError && <Loading what="the package's status" />}
      </Card>
      {shownReport && (
        <Card title="Work report">
          {report && <p class="muted small">Report hash {report.hash.slice(0, 16)}…, from the node's workReport.</p>}
          {!report && found && <p class="muted small">Guaranteed in the block at slot {found.slot}.</p>}
          <KV
            rows={[
              ['Core', shownReport.core_index],
              ['Bundle length', `${fmt(shownReport.package_spec.length)} B`],
              ['Erasure root', <Bytes b={shownReport.package_spec.erasure_root} />],
              ['Exports root', <Bytes b={shownReport.package_spec.exports_root} />],
              ['Segments exported', shownReport.package_spec.exports_count],
              ['Anchor', <Bytes b={shownReport.context.anchor} href={`#/block/${toHex(shownReport.context.anchor)}`} />],
              [
                'Lookup anchor',
                <span>
                  slot {shownReport.context.lookup_anchor_slot} <Bytes b={shownReport.context.lookup_anchor} href={`#/block/${toHex(shownReport.context.lookup_anchor)}`} />
                </span>,
              ],
              ['Prerequisites', shownReport.context.prerequisites.length === 0 ? 'none' : <span>{shownReport.context.prerequisites.map((p) => <Bytes b={p} href={`#/package/${toHex(p)}`} />)}</span>],
              ['Authorizer', <Bytes b={shownReport.authorizer_hash} />],
              ['Authorizer gas used', fmt(shownReport.auth_gas_used)],
            ]}
          />
          <WorkResults report={shownReport} />
        </Card>
      )}
    </div>
  );
}

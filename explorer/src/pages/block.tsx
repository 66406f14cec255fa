// A block: its header fields and every extrinsic kind (GP 0.7.2 §5, §6.7, §10–12). On a node
// without Orrery's `block` call it shows what JIP-2 gives: the parent and the posterior state root.

import { useEffect, useState } from 'preact/hooks';
import { fromHex, toHex } from '../bytes';
import type { Descriptor } from '../chain';
import { METHOD_NOT_FOUND } from '../rpc';
import type { Block, Guarantee, WorkExecResult } from '../types';
import { useCtx } from '../app';
import { Bytes, Card, ErrorBox, HashText, KV, Loading, fmt, setBits } from '../ui';

export function outcome(r: WorkExecResult): string {
  if ('ok' in r) return `ok, ${r.ok.length} bytes out`;
  return Object.keys(r)[0]!.replace(/_/g, ' ');
}

export function BlockPage(props: { hex: string }) {
  const { chain, heads } = useCtx();
  const hash = fromHex(props.hex)!;
  const [block, setBlock] = useState<Block | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fallback, setFallback] = useState<{ parent: Descriptor | null; stateRoot: Uint8Array | null; errors: string[] } | null>(null);

  useEffect(() => {
    let live = true;
    void chain.block(hash).then(async (b) => {
      if (!live) return;
      if (b.ok) {
        setBlock(b.value);
        return;
      }
      setError(b.error);
      if (b.code === METHOD_NOT_FOUND) {
        const [p, s] = await Promise.all([chain.parent(hash), chain.stateRoot(hash)]);
        if (!live) return;
        setFallback({
          parent: p.ok ? p.value : null,
          stateRoot: s.ok ? s.value : null,
          errors: [p.ok ? null : p.error, s.ok ? null : s.error].filter((x): x is string => !!x),
        });
      }
    });
    return () => {
      live = false;
    };
  }, [props.hex]);

  // After the render that shows it: for measuring a block page's paint in a browser test.
  useEffect(() => {
    if (block) performance.mark(`orrery:block-shown:${props.hex}`);
  }, [block]);

  const title = (
    <h1>
      Block <HashText hex={props.hex} testid="block-hash" full />
    </h1>
  );

  if (!block) {
    return (
      <div>
        {title}
        <ErrorBox messages={[error, ...(fallback?.errors ?? [])]} />
        {!error && <Loading what="the block" />}
        {fallback && (
          <Card title="What JIP-2 gives">
            <KV
              rows={[
                ['Parent', fallback.parent ? <HashText hex={fallback.parent.hex} href={`#/block/${fallback.parent.hex}`} testid="block-parent" /> : '—'],
                ['Parent slot', fallback.parent ? fallback.parent.slot : '—'],
                ['Posterior state root', fallback.stateRoot ? <Bytes b={fallback.stateRoot} /> : '—'],
              ]}
            />
          </Card>
        )}
      </div>
    );
  }

  const h = block.header;
  const x = block.extrinsic;
  const parentHex = toHex(h.parent);
  const finalized = heads.finalized && h.slot <= heads.finalized.slot;
  return (
    <div>
      {title}
      <Card title="Header">
        <KV
          rows={[
            ['Slot', <span data-testid="block-slot">{h.slot}</span>],
            ['Epoch · slot in epoch', `${Math.floor(h.slot / chain.spec.epochLength)} · ${h.slot % chain.spec.epochLength}`],
            ['Status', finalized ? <span class="tag fin">finalized</span> : <span class="tag">not finalized yet</span>],
            ['Parent', <HashText hex={parentHex} href={`#/block/${parentHex}`} testid="block-parent" />],
            ['Author (validator index)', <span data-testid="block-author">{h.author_index}</span>],
            ['Prior state root', <HashText hex={toHex(h.parent_state_root)} testid="block-state-root" />],
            ['Extrinsic hash', <Bytes b={h.extrinsic_hash} />],
            ['Entropy source (VRF signature)', <Bytes b={h.entropy_source} />],
            ['Seal (Bandersnatch signature)', <Bytes b={h.seal} />],
            ['Epoch marker', h.epoch_mark ? `next epoch: ${h.epoch_mark.validators.length} validators` : 'none'],
            ['Tickets marker', h.tickets_mark ? `${h.tickets_mark.length} winning tickets for the next epoch` : 'none'],
            ['Offenders marker', h.offenders_mark.length === 0 ? 'none' : <span>{h.offenders_mark.map((o) => <Bytes b={o} />)}</span>],
          ]}
        />
        {h.epoch_mark && (
          <details>
            <summary>Epoch marker: entropy and the next epoch's {h.epoch_mark.validators.length} validators</summary>
            <KV rows={[['Entropy', <Bytes b={h.epoch_mark.entropy} />], ['Tickets entropy', <Bytes b={h.epoch_mark.tickets_entropy} />]]} />
            <table class="grid">
              <thead>
                <tr>
                  <th class="num">#</th>
                  <th>Bandersnatch</th>
                  <th>Ed25519</th>
                </tr>
              </thead>
              <tbody>
                {h.epoch_mark.validators.map((v, i) => (
                  <tr key={i}>
                    <td class="num">{i}</td>
                    <td>
                      <Bytes b={v.bandersnatch} />
                    </td>
                    <td>
                      <Bytes b={v.ed25519} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        )}
        {h.tickets_mark && (
          <details>
            <summary>Tickets marker ({h.tickets_mark.length})</summary>
            <table class="grid">
              <thead>
                <tr>
                  <th class="num">Slot in next epoch</th>
                  <th>Ticket id</th>
                  <th class="num">Attempt</th>
                </tr>
              </thead>
              <tbody>
                {h.tickets_mark.map((t, i) => (
                  <tr key={i}>
                    <td class="num">{i}</td>
                    <td>
                      <Bytes b={t.id} />
                    </td>
                    <td class="num">{t.attempt}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        )}
      </Card>

      <div class="chips">
        {(
          [
            ['Tickets', x.tickets.length, 'x-tickets'],
            ['Preimages', x.preimages.length, 'x-preimages'],
            ['Guarantees', x.guarantees.length, 'x-guarantees'],
            ['Assurances', x.assurances.length, 'x-assurances'],
            ['Disputes', x.disputes.verdicts.length + x.disputes.culprits.length + x.disputes.faults.length, 'x-disputes'],
          ] as const
        ).map(([name, n, id]) => (
          <a key={id} class={n === 0 ? 'zero' : ''} href={`#/block/${props.hex}`} onClick={(e) => (e.preventDefault(), document.getElementById(id)?.scrollIntoView())}>
            {name}
            <b>{n}</b>
          </a>
        ))}
      </div>

      <Card title="Tickets" testid="extrinsic-tickets" count={x.tickets.length} id="x-tickets">
        {x.tickets.length === 0 ? (
          <p class="muted">No tickets.</p>
        ) : (
          <table class="grid">
            <thead>
              <tr>
                <th class="num">#</th>
                <th class="num">Attempt</th>
                <th>Ring VRF proof</th>
              </tr>
            </thead>
            <tbody>
              {x.tickets.map((t, i) => (
                <tr key={i} data-testid="item">
                  <td class="num">{i}</td>
                  <td class="num">{t.attempt}</td>
                  <td>
                    <Bytes b={t.signature} /> <span class="muted small">{t.signature.length} bytes</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>

      <Card title="Preimages" testid="extrinsic-preimages" count={x.preimages.length} id="x-preimages">
        {x.preimages.length === 0 ? (
          <p class="muted">No preimages.</p>
        ) : (
          <table class="grid">
            <thead>
              <tr>
                <th class="num">#</th>
                <th>Requester</th>
                <th class="num">Size</th>
                <th>First bytes</th>
              </tr>
            </thead>
            <tbody>
              {x.preimages.map((p, i) => (
                <tr key={i} data-testid="item">
                  <td class="num">{i}</td>
                  <td>
                    <a href={`#/service/${p.requester}`}>service {p.requester}</a>
                  </td>
                  <td class="num">{fmt(p.blob.length)} B</td>
                  <td>
                    <code>{'0x' + toHex(p.blob.subarray(0, 16)) + (p.blob.length > 16 ? '…' : '')}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>

      <Card title="Guarantees" testid="extrinsic-guarantees" count={x.guarantees.length} id="x-guarantees">
        {x.guarantees.length === 0 ? <p class="muted">No guarantees.</p> : x.guarantees.map((g, i) => <GuaranteeView key={i} g={g} />)}
      </Card>

      <Card title="Assurances" testid="extrinsic-assurances" count={x.assurances.length} id="x-assurances">
        {x.assurances.length === 0 ? (
          <p class="muted">No assurances.</p>
        ) : (
          <table class="grid">
            <thead>
              <tr>
                <th class="num">Validator</th>
                <th>Cores assured available</th>
                <th>Anchor</th>
                <th>Signature</th>
              </tr>
            </thead>
            <tbody>
              {x.assurances.map((a, i) => {
                const cores = setBits(a.bitfield, chain.spec.cores);
                return (
                  <tr key={i} data-testid="item">
                    <td class="num">{a.validator_index}</td>
                    <td>{cores.length === 0 ? <span class="muted">none</span> : cores.map((c) => `core ${c}`).join(', ')}</td>
                    <td>
                      <Bytes b={a.anchor} href={`#/block/${toHex(a.anchor)}`} />
                    </td>
                    <td>
                      <Bytes b={a.signature} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Card>

      <Card title="Disputes" testid="extrinsic-disputes" count={x.disputes.verdicts.length + x.disputes.culprits.length + x.disputes.faults.length} id="x-disputes">
        {x.disputes.verdicts.length + x.disputes.culprits.length + x.disputes.faults.length === 0 ? (
          <p class="muted">No verdicts, culprits or faults.</p>
        ) : (
          <ul class="items">
            {x.disputes.verdicts.map((v, i) => (
              <li key={`v${i}`} data-testid="item">
                Verdict on report <Bytes b={v.target} />, epoch age {v.age}: {v.votes.filter((j) => j.vote).length} valid / {v.votes.filter((j) => !j.vote).length} invalid of {v.votes.length} judgments
              </li>
            ))}
            {x.disputes.culprits.map((c, i) => (
              <li key={`c${i}`} data-testid="item">
                Culprit: guarantor <Bytes b={c.key} /> of report <Bytes b={c.target} />
              </li>
            ))}
            {x.disputes.faults.map((f, i) => (
              <li key={`f${i}`} data-testid="item">
                Fault: <Bytes b={f.key} /> voted {f.vote ? 'valid' : 'invalid'} on report <Bytes b={f.target} />
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}

export function GuaranteeView(props: { g: Guarantee }) {
  const g = props.g;
  const r = g.report;
  const pkg = toHex(r.package_spec.hash);
  return (
    <div class="sub" data-testid="item">
      <KV
        rows={[
          ['Work package', <HashText hex={pkg} href={`#/package/${pkg}`} />],
          ['Core', r.core_index],
          ['Guaranteed at slot', g.slot],
          ['Guarantors (validator index)', g.signatures.map((s) => s.validator_index).join(', ')],
          ['Bundle length', `${fmt(r.package_spec.length)} B, ${r.package_spec.exports_count} segments exported`],
          ['Anchor', <Bytes b={r.context.anchor} href={`#/block/${toHex(r.context.anchor)}`} />],
          ['Authorizer', <Bytes b={r.authorizer_hash} />],
          ['Authorizer gas used', fmt(r.auth_gas_used)],
        ]}
      />
      <WorkResults report={r} />
    </div>
  );
}

export function WorkResults(props: { report: Guarantee['report'] }) {
  return (
    <table class="grid">
      <thead>
        <tr>
          <th>Service</th>
          <th>Outcome</th>
          <th class="num">Refine gas</th>
          <th class="num">Accumulate gas limit</th>
          <th class="num">Imports / exports</th>
          <th>Payload hash</th>
        </tr>
      </thead>
      <tbody>
        {props.report.results.map((w, i) => (
          <tr key={i}>
            <td>
              <a href={`#/service/${w.service_id}`}>{w.service_id}</a>
            </td>
            <td>{outcome(w.result)}</td>
            <td class="num">{fmt(w.refine_load.gas_used)}</td>
            <td class="num">{fmt(w.accumulate_gas)}</td>
            <td class="num">
              {w.refine_load.imports} / {w.refine_load.exports}
            </td>
            <td>
              <Bytes b={w.payload_hash} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// Search: a 32-byte hash is tried as a block, then a work report, then a work package (the node's
// `workPackageStatus` anchored at the best head: anything but "reportable" means the chain has seen
// it), then a recently guaranteed package; a number opens that service; anything else is explained.

import { useEffect, useState } from 'preact/hooks';
import { fromHex, toHex } from '../bytes';
import { BLOCK_UNAVAILABLE, METHOD_NOT_FOUND } from '../rpc';
import { classifySearch } from '../route';
import { useCtx } from '../app';
import { ErrorBox, Loading } from '../ui';
import { findGuarantee, PACKAGE_SEARCH_BLOCKS } from './package';
import { parseStatus } from '../packages';

export function SearchPage(props: { text: string }) {
  const { chain, heads } = useCtx();
  const q = classifySearch(props.text);
  const [result, setResult] = useState<{ href: string; label: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const best = heads.best;

  useEffect(() => {
    if (q.kind === 'service') {
      location.replace(`#/service/${q.id}`);
      return;
    }
    if (q.kind !== 'hash' || !best || done) return;
    let live = true;
    void (async () => {
      const hash = fromHex(q.hex)!;
      const b = await chain.block(hash);
      if (!live) return;
      if (b.ok) return finish({ href: `#/block/${q.hex}`, label: `Block at slot ${b.value.header.slot}` });
      if (b.code === METHOD_NOT_FOUND) {
        const p = await chain.parent(hash);
        if (!live) return;
        if (p.ok) return finish({ href: `#/block/${q.hex}`, label: `Block (child of slot ${p.value.slot})` });
      } else if (b.code !== BLOCK_UNAVAILABLE) {
        return fail(b.error);
      }
      const r = await chain.workReport(hash);
      if (!live) return;
      if (r.ok) {
        const pkg = toHex(r.value.package_spec.hash);
        return finish({ href: `#/package/${pkg}`, label: `Work report for package ${pkg.slice(0, 16)}… on core ${r.value.core_index}` });
      }
      const anchor = fromHex(best.hex)!;
      const st = await chain.packageStatus(anchor, hash, anchor);
      if (!live) return;
      const status = st.ok ? parseStatus(st.value) : null;
      if (status && 'stage' in status && status.stage !== 'reportable') {
        const where = status.stage === 'failed' ? 'failed' : `${status.stage} at slot ${status.stage === 'ready' ? status.readyIn.slot : status.reportedIn.slot}`;
        return finish({ href: `#/package/${q.hex}`, label: `Work package (${where})` });
      }
      const g = await findGuarantee(chain, best, q.hex);
      if (!live) return;
      if (g) return finish({ href: `#/package/${q.hex}`, label: `Work package guaranteed at slot ${g.slot}` });
      fail(`no block, work report or recently guaranteed work package (last ${PACKAGE_SEARCH_BLOCKS} blocks) has hash ${q.hex}`);
    })();
    function finish(r: { href: string; label: string }) {
      if (!live) return;
      setResult(r);
      setDone(true);
    }
    function fail(e: string) {
      if (!live) return;
      setError(e);
      setDone(true);
    }
    return () => {
      live = false;
    };
  }, [props.text, best?.hex]);

  return (
    <div>
      <h1>Search</h1>
      <p class="muted">
        Looking for <code>{props.text.slice(0, 200)}</code>
      </p>
      <ErrorBox messages={[q.kind === 'invalid' ? q.reason : null, error]} />
      {q.kind === 'hash' && !done && <Loading what="matches" />}
      {result && (
        <p>
          Found: <a href={result.href} data-testid="search-result">{result.label}</a>
        </p>
      )}
    </div>
  );
}

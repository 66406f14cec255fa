// The page frame: finds the node, connects, follows the best and finalized heads, and routes.

import { createContext } from 'preact';
import { useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { fromHex, toBase64, toHex } from './bytes';
import { Chain, descriptorFrom, Early, type Descriptor } from './chain';
import { ForkWatch, type ForkPoint, type Head } from './forks';
import { checkRpcUrl } from './config';
import { describeError, RpcClient, type Status } from './rpc';
import { parseRoute, type Route } from './route';
import { ErrorBox, HashText } from './ui';
import { ChainPage } from './pages/chain';
import { BlockPage } from './pages/block';
import { ValidatorsPage } from './pages/validators';
import { CoresPage } from './pages/cores';
import { ServicesPage, ServicePage } from './pages/services';
import { PackagePage } from './pages/package';
import { SearchPage } from './pages/search';

export interface Heads {
  best: Descriptor | null;
  finalized: Descriptor | null;
  /** Live history for the plots: one point per best-head update (bounded). */
  lag: { slot: number; lag: number }[];
}

export interface Ctx {
  chain: Chain;
  heads: Heads;
  /** Best-head switches to another fork seen since the page opened, newest first (bounded). */
  forks: ForkPoint[];
}

export const AppCtx = createContext<Ctx | null>(null);

export function useCtx(): Ctx {
  const c = useContext(AppCtx);
  if (!c) throw new Error('outside the app');
  return c;
}

const LAG_POINTS = 600;

function useRoute(): Route {
  const [hash, setHash] = useState(() => location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return useMemo(() => parseRoute(hash), [hash]);
}

export function App(props: { rpcUrl: string }) {
  const route = useRoute();
  const checked = useMemo(() => checkRpcUrl(props.rpcUrl), [props.rpcUrl]);
  const rpc = useMemo(() => (checked.ok ? new RpcClient(checked.url) : null), [checked]);
  const [status, setStatus] = useState<{ s: Status; detail: string }>({ s: 'connecting', detail: '' });
  const [chain, setChain] = useState<Chain | null>(null);
  const [chainError, setChainError] = useState<string | null>(null);
  const [heads, setHeads] = useState<Heads>({ best: null, finalized: null, lag: [] });
  const [headError, setHeadError] = useState<string | null>(null);
  const [forks, setForks] = useState<ForkPoint[]>([]);
  const chainRef = useRef<Chain | null>(null);

  useEffect(() => {
    if (!rpc) return;
    const off = rpc.onStatus((s, detail) => setStatus({ s, detail }));
    let cancelled = false;
    const early = new Early(rpc);
    // Nothing waits for parameters() that does not need it: a block page's block, the heads and
    // their subscriptions go out with it, in the first round trip. Only decoding needs V, C, E.
    const start = parseRoute(location.hash);
    if (start.page === 'block') early.start('block', [toBase64(fromHex(start.hex)!)]);
    const load = async () => {
      for (let attempt = 0; !cancelled; attempt++) {
        const c = await Chain.connect(rpc, attempt === 0 ? early : null);
        if (cancelled) return;
        if (c.ok) {
          chainRef.current = c.value;
          setChain(c.value);
          setChainError(null);
          return;
        }
        setChainError(rpc.status === 'connected' ? c.error : `${c.error}: is a JIP-2 node listening at ${rpc.url}? Retrying.`);
        await new Promise((r) => setTimeout(r, Math.min(10_000, 1000 * 2 ** attempt)));
      }
    };
    void load();

    // Parents for the fork check: from decoded blocks the page holds, else the node's `parent`.
    const parents = new Map<string, Head>();
    const parentOf = async (hex: string): Promise<Head | null> => {
      const known = parents.get(hex);
      if (known) return known;
      const b = chainRef.current?.cachedBlock(hex);
      const pb = b ? chainRef.current?.cachedBlock(toHex(b.header.parent)) : null;
      let head: Head | null = b && pb ? { hex: toHex(b.header.parent), slot: pb.header.slot } : null;
      if (!head) {
        const r = await rpc.call('parent', [toBase64(fromHex(hex)!)]);
        const d = r.ok ? descriptorFrom(r.value, 'parent') : null;
        head = d?.ok ? { hex: d.value.hex, slot: d.value.slot } : null;
      }
      if (head) {
        if (parents.size > 1000) parents.clear();
        parents.set(hex, head);
      }
      return head;
    };
    const forkWatch = new ForkWatch(parentOf, (p) => setForks([...p]));

    let prefetchedBest = false;
    const update = (which: 'best' | 'finalized') => (v: unknown) => {
      const d = descriptorFrom(v, which === 'best' ? 'subscribeBestBlock' : 'subscribeFinalizedBlock');
      if (!d.ok) {
        setHeadError(d.error);
        return;
      }
      if (which === 'best') {
        void forkWatch.push({ hex: d.value.hex, slot: d.value.slot });
        // The chain page's first row, asked for while parameters() may still be on its way.
        if (!prefetchedBest && !chainRef.current && parseRoute(location.hash).page === 'chain') early.start('block', [toBase64(d.value.hash)]);
        prefetchedBest = true;
      }
      setHeads((h) => {
        if (h[which]?.hex === d.value.hex) return h;
        const next = { ...h, [which]: d.value };
        if (next.best && next.finalized) {
          const point = { slot: next.best.slot, lag: Math.max(0, next.best.slot - next.finalized.slot) };
          const last = h.lag[h.lag.length - 1];
          const lag = last && last.slot === point.slot ? [...h.lag.slice(0, -1), point] : [...h.lag, point];
          next.lag = lag.slice(-LAG_POINTS);
        }
        return next;
      });
    };
    const onErr = (what: string) => (e: Parameters<typeof describeError>[1]) => setHeadError(describeError(what, e));
    const offBest = rpc.subscribe('subscribeBestBlock', [], update('best'), onErr('subscribeBestBlock'));
    const offFin = rpc.subscribe('subscribeFinalizedBlock', [], update('finalized'), onErr('subscribeFinalizedBlock'));
    // The heads now, in case the first notification is slow.
    for (const [method, which] of [
      ['bestBlock', 'best'],
      ['finalizedBlock', 'finalized'],
    ] as const) {
      void rpc.call(method).then((r) => {
        if (cancelled) return;
        if (r.ok) update(which)(r.value);
        else setHeadError(describeError(method, r.error));
      });
    }
    return () => {
      cancelled = true;
      offBest();
      offFin();
      off();
      rpc.close();
    };
  }, [rpc]);

  // Only the connected state says "connected" (tests wait for that word), so the lost state says "offline".
  const statusText = status.s === 'connected' ? 'connected' : status.s === 'connecting' ? 'connecting…' : `offline${status.detail ? ` (${status.detail})` : ''}`;

  return (
    <div class="app">
      <header class="top">
        <a class="brand" href="#/">
          Orrery <span>explorer</span>
        </a>
        <nav data-testid="nav">
          <a href="#/" class={route.page === 'chain' ? 'on' : ''}>
            Chain
          </a>
          <a href="#/validators" class={route.page === 'validators' ? 'on' : ''}>
            Validators
          </a>
          <a href="#/cores" class={route.page === 'cores' ? 'on' : ''}>
            Cores
          </a>
          <a href="#/services" class={route.page === 'services' || route.page === 'service' ? 'on' : ''}>
            Services
          </a>
        </nav>
        <SearchForm />
        <div class="conn">
          <span class={`dot ${status.s}`} />
          <span data-testid="rpc-status">{statusText}</span>
          <code data-testid="rpc-url" title="the node's JIP-2 RPC">
            {props.rpcUrl}
          </code>
        </div>
      </header>
      <div class="heads">
        <span>
          best <b>#{heads.best?.slot ?? '—'}</b> {heads.best && <HashText hex={heads.best.hex} href={`#/block/${heads.best.hex}`} keep={6} />}
        </span>
        <span>
          finalized <b>#{heads.finalized?.slot ?? '—'}</b>{' '}
          {heads.finalized && <HashText hex={heads.finalized.hex} href={`#/block/${heads.finalized.hex}`} keep={6} />}
        </span>
        {chain && (
          <span class="muted">
            V={chain.spec.validators} C={chain.spec.cores} E={chain.spec.epochLength} slot {chain.spec.slotSeconds} s
          </span>
        )}
      </div>
      <main>
        <ErrorBox messages={[checked.ok ? null : checked.error, chainError, headError]} />
        {route.page === 'notfound' ? (
          <ErrorBox messages={[route.reason]} />
        ) : chain ? (
          <AppCtx.Provider value={{ chain, heads, forks }}>
            <Page route={route} />
          </AppCtx.Provider>
        ) : (
          <p class="muted">Waiting for the node's parameters…</p>
        )}
      </main>
      <footer class="muted">Orrery explorer · JIP-2 over WebSocket · GP 0.7.2</footer>
    </div>
  );
}

function Page(props: { route: Route }) {
  const r = props.route;
  switch (r.page) {
    case 'chain':
      return <ChainPage />;
    case 'block':
      return <BlockPage key={r.hex} hex={r.hex} />;
    case 'validators':
      return <ValidatorsPage />;
    case 'cores':
      return <CoresPage />;
    case 'services':
      return <ServicesPage />;
    case 'service':
      return <ServicePage key={r.id} id={r.id} />;
    case 'package':
      return <PackagePage key={r.hex} hex={r.hex} />;
    case 'search':
      return <SearchPage key={r.text} text={r.text} />;
    case 'notfound':
      return null;
  }
}

function SearchForm() {
  const [text, setText] = useState('');
  return (
    <form
      class="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        location.hash = `#/search/${encodeURIComponent(text.trim())}`;
      }}
    >
      <input
        data-testid="search-input"
        type="search"
        placeholder="block / report / package hash, or service id"
        value={text}
        maxLength={200}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
      />
      <button data-testid="search-submit" type="submit">
        Search
      </button>
    </form>
  );
}

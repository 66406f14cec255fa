// The JIP-2 client against a scripted socket: ids, answers, errors, timeouts, subscriptions,
// reconnection with back-off and renewed subscriptions.

import { describe, expect, it } from 'vitest';
import { DISCONNECTED, RpcClient, TIMEOUT, describeError, type SocketLike } from '../src/rpc';

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  sent: { id: number; method: string; params: unknown[] }[] = [];
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.drop();
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
  answer(id: number, body: object) {
    this.onmessage?.({ data: JSON.stringify({ jsonrpc: '2.0', id, ...body }) });
  }
  notify(method: string, subscription: unknown, result: unknown) {
    this.onmessage?.({ data: JSON.stringify({ jsonrpc: '2.0', method, params: { subscription, result } }) });
  }
}

/** Timers run by hand. */
function clock() {
  let now = 0;
  let timers: { at: number; f: () => void; id: number }[] = [];
  let next = 1;
  return {
    setTimeout: (f: () => void, ms: number) => {
      const id = next++;
      timers.push({ at: now + ms, f, id });
      return id;
    },
    clearTimeout: (id: unknown) => {
      timers = timers.filter((t) => t.id !== id);
    },
    advance(ms: number) {
      now += ms;
      const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.f();
    },
    pending: () => timers.map((t) => t.at - now),
  };
}

function setup(timeoutMs = 1000) {
  const sockets: FakeSocket[] = [];
  const c = clock();
  const client = new RpcClient('ws://127.0.0.1:1', {
    timeoutMs,
    backoffMs: 100,
    maxBackoffMs: 400,
    socket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    setTimeout: c.setTimeout,
    clearTimeout: c.clearTimeout,
  });
  return { client, sockets, clock: c };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('RpcClient', () => {
  it('queues calls until the socket opens, then matches answers by id', async () => {
    const { client, sockets } = setup();
    const a = client.call('bestBlock');
    const b = client.call('parent', ['AAAA']);
    expect(sockets[0]!.sent).toEqual([]);
    sockets[0]!.open();
    expect(sockets[0]!.sent.map((m) => m.method)).toEqual(['bestBlock', 'parent']);
    const [ida, idb] = sockets[0]!.sent.map((m) => m.id);
    expect(ida).not.toBe(idb);
    sockets[0]!.answer(idb!, { error: { code: 1, message: 'block unavailable', data: 'AAAA' } });
    sockets[0]!.answer(ida!, { result: { header_hash: 'x', slot: 7 } });
    expect(await a).toEqual({ ok: true, value: { header_hash: 'x', slot: 7 } });
    expect(await b).toEqual({ ok: false, error: { code: 1, message: 'block unavailable', data: 'AAAA' } });
    expect(client.status).toBe('connected');
  });

  it('a call with no answer times out as a value', async () => {
    const { client, sockets, clock } = setup(1000);
    sockets[0]!.open();
    const a = client.call('statistics', ['x']);
    clock.advance(1000);
    const r = await a;
    expect(r).toEqual({ ok: false, error: { code: TIMEOUT, message: 'statistics: no answer within 1 s' } });
    if (!r.ok) expect(describeError('statistics', r.error)).toContain('timeout');
  });

  it('garbage from the server is ignored, not thrown', async () => {
    const { client, sockets } = setup();
    sockets[0]!.open();
    const a = client.call('bestBlock');
    sockets[0]!.onmessage?.({ data: 'not json' });
    sockets[0]!.onmessage?.({ data: '42' });
    sockets[0]!.onmessage?.({ data: JSON.stringify({ id: 999, result: 1 }) });
    sockets[0]!.answer(sockets[0]!.sent[0]!.id, { result: 5 });
    expect(await a).toEqual({ ok: true, value: 5 });
  });

  it('subscriptions deliver notifications and survive a reconnection with back-off', async () => {
    const { client, sockets, clock } = setup();
    const seen: unknown[] = [];
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s));
    client.subscribe('subscribeBestBlock', [], (v) => seen.push(v), () => {});
    sockets[0]!.open();
    const sub = sockets[0]!.sent.find((m) => m.method === 'subscribeBestBlock')!;
    sockets[0]!.answer(sub.id, { result: 11 });
    await tick();
    sockets[0]!.notify('subscribeBestBlock', 11, { slot: 1 });
    sockets[0]!.notify('subscribeBestBlock', 12, { slot: 99 }); // someone else's id
    expect(seen).toEqual([{ slot: 1 }]);

    // A call in flight when the connection drops resolves as "disconnected".
    const inflight = client.call('bestBlock');
    sockets[0]!.drop();
    expect(await inflight).toEqual({ ok: false, error: { code: DISCONNECTED, message: 'connection to the node closed' } });
    expect(client.status).toBe('disconnected');
    expect(clock.pending()).toEqual([100]);
    clock.advance(100);
    expect(sockets.length).toBe(2);
    // A failed reconnection doubles the delay, up to the cap.
    sockets[1]!.drop();
    expect(clock.pending()).toEqual([200]);
    clock.advance(200);
    sockets[2]!.drop();
    clock.advance(400);
    sockets[3]!.drop();
    expect(clock.pending()).toEqual([400]);
    clock.advance(400);
    sockets[4]!.open();
    expect(client.status).toBe('connected');
    const again = sockets[4]!.sent.find((m) => m.method === 'subscribeBestBlock')!;
    sockets[4]!.answer(again.id, { result: 'abc' });
    await tick();
    sockets[4]!.notify('subscribeBestBlock', 'abc', { slot: 2 });
    expect(seen).toEqual([{ slot: 1 }, { slot: 2 }]);
    expect(statuses).toContain('disconnected');
  });

  it('ending a subscription unsubscribes with its server id', async () => {
    const { client, sockets } = setup();
    sockets[0]!.open();
    const seen: unknown[] = [];
    const off = client.subscribe('subscribeFinalizedBlock', [], (v) => seen.push(v), () => {});
    const sub = sockets[0]!.sent.find((m) => m.method === 'subscribeFinalizedBlock')!;
    sockets[0]!.answer(sub.id, { result: 5 });
    await tick();
    off();
    const un = sockets[0]!.sent.find((m) => m.method === 'unsubscribeFinalizedBlock')!;
    expect(un.params).toEqual([5]);
    sockets[0]!.notify('subscribeFinalizedBlock', 5, { slot: 3 });
    expect(seen).toEqual([]);
  });

  it('a subscription ended before the node answered is ended on the node once it does', async () => {
    const { client, sockets } = setup();
    sockets[0]!.open();
    const off = client.subscribe('subscribeWorkPackageStatus', ['AAAA', 'BBBB', false], () => {}, () => {});
    const sub = sockets[0]!.sent.find((m) => m.method === 'subscribeWorkPackageStatus')!;
    expect(sub.params).toEqual(['AAAA', 'BBBB', false]);
    off();
    expect(sockets[0]!.sent.some((m) => m.method === 'unsubscribeWorkPackageStatus')).toBe(false);
    sockets[0]!.answer(sub.id, { result: 9 });
    await tick();
    expect(sockets[0]!.sent.find((m) => m.method === 'unsubscribeWorkPackageStatus')?.params).toEqual([9]);
  });

  it('a refused subscription is reported through onError', async () => {
    const { client, sockets } = setup();
    sockets[0]!.open();
    const errors: string[] = [];
    client.subscribe('subscribeBestBlock', [], () => {}, (e) => errors.push(describeError('subscribeBestBlock', e)));
    const sub = sockets[0]!.sent[0]!;
    sockets[0]!.answer(sub.id, { error: { code: -32601, message: 'Method not found' } });
    await tick();
    expect(errors).toEqual(['subscribeBestBlock: this node does not serve that call (method not found)']);
  });

  it('an unusable URL is a status, not an exception', () => {
    const client = new RpcClient('ws://bad', {
      socket: () => {
        throw new SyntaxError('invalid URL');
      },
    });
    expect(client.status).toBe('disconnected');
    expect(client.detail).toContain('invalid URL');
  });
});

// The chain layer over a scripted node: blocks decoded from the published vector, the fallback for
// nodes without Orrery's `block` call, and answers the explorer does not expect.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toBase64, toHex } from '../src/bytes';
import { Chain, Early } from '../src/chain';
import type { RpcClient, RpcResult } from '../src/rpc';
import { TINY } from '../src/spec';
import { walk } from '../src/pages/chain';

const here = dirname(fileURLToPath(import.meta.url));
const BLOCK = new Uint8Array(readFileSync(join(here, '..', '..', '..', 'shared', 'vectors', 'jam-0.7.2', 'codec', 'tiny', 'block.bin')));
const BLOCK_JSON = JSON.parse(readFileSync(join(here, '..', '..', '..', 'shared', 'vectors', 'jam-0.7.2', 'codec', 'tiny', 'block.json'), 'utf8'));
const PARENT_HEX: string = BLOCK_JSON.header.parent.slice(2);

type Handler = (method: string, params: unknown[]) => RpcResult<unknown>;
function node(handler: Handler): RpcClient {
  const calls: string[] = [];
  return {
    call: async (method: string, params: unknown[] = []) => {
      calls.push(method);
      return handler(method, params);
    },
    calls,
  } as unknown as RpcClient;
}

const A = new Uint8Array(32).fill(0xaa);
const AHEX = toHex(A);
const err = (code: number, message: string): RpcResult<unknown> => ({ ok: false, error: { code, message } });

describe('Chain', () => {
  it('reads the spec from parameters()', async () => {
    const c = await Chain.connect(node(() => ({ ok: true, value: { V1: { val_count: 6, core_count: 2, epoch_period: 12, slot_period_sec: 6 } } })));
    expect(c.ok && c.value.spec).toEqual(TINY);
    const bad = await Chain.connect(node(() => ({ ok: true, value: 'hello' })));
    expect(bad).toEqual({ ok: false, error: 'parameters: expected {"V1": {…}}' });
  });

  it('a block asked for before parameters() answered is decoded once both arrive, with no second request', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rpc = {
      call: async (method: string) => {
        order.push(`ask ${method}`);
        if (method === 'parameters') await gate;
        order.push(`answer ${method}`);
        if (method === 'parameters') return { ok: true, value: { V1: { val_count: 6, core_count: 2, epoch_period: 12, slot_period_sec: 6 } } };
        if (method === 'block') return { ok: true, value: toBase64(BLOCK) };
        return err(0, 'unexpected');
      },
    } as unknown as RpcClient;
    const early = new Early(rpc);
    early.start('block', [toBase64(A)]);
    const connecting = Chain.connect(rpc, early);
    await new Promise((r) => setTimeout(r, 0));
    // Both went out at once; the block's answer came while parameters() was still pending.
    expect(order).toEqual(['ask block', 'answer block', 'ask parameters']);
    release();
    const c = await connecting;
    if (!c.ok) throw new Error(c.error);
    const b = await c.value.block(A);
    expect(b.ok && b.value.header.author_index).toBe(3);
    expect(order.filter((x) => x === 'ask block')).toHaveLength(1);
    // Taken once: a later call for the same block is served by the decoded-block cache.
    expect(c.value.cachedBlock(AHEX)).not.toBeNull();
  });

  it('walks blocks through `block`, ending where the node holds no more bodies', async () => {
    const chain = new Chain(
      node((m, p) => {
        if (m === 'block' && p[0] === toBase64(A)) return { ok: true, value: toBase64(BLOCK) };
        if (m === 'block') return err(1, 'block unavailable');
        return err(-32601, 'Method not found');
      }),
      TINY,
      {},
    );
    const w = await walk(chain, { hex: AHEX, slot: 42 }, 20);
    expect(w.rows).toHaveLength(1);
    expect(w.rows[0]).toMatchObject({ hex: AHEX, slot: 42, parentHex: PARENT_HEX, author: 3, tickets: 3, preimages: 3, guarantees: 1, assurances: 2, disputes: 5 });
    // The parent is unavailable (genesis, or pruned): the end of the walk, not an error.
    expect(w.error).toBeNull();
    expect(w.oldest).toBe(PARENT_HEX);
    // Unavailable as the first block asked for, it is an error.
    const first = await walk(chain, { hex: PARENT_HEX, slot: 41 }, 20);
    expect(first.rows).toEqual([]);
    expect(first.error).toBe(`block ${PARENT_HEX} is unavailable on this node`);
  });

  it('falls back to `parent` on a node without the `block` extension', async () => {
    const P = new Uint8Array(32).fill(0x11);
    const chain = new Chain(
      node((m, p) => {
        if (m === 'block') return err(-32601, 'Method not found');
        if (m === 'parent' && p[0] === toBase64(A)) return { ok: true, value: { header_hash: toBase64(P), slot: 9 } };
        if (m === 'parent') return { ok: true, value: { header_hash: toBase64(new Uint8Array(32)), slot: 0 } };
        return err(0, 'unexpected');
      }),
      TINY,
      {},
    );
    const b = await chain.block(A);
    expect(b).toMatchObject({ ok: false, code: -32601 });
    if (!b.ok) expect(b.error).toContain('does not serve block bodies');
    const w = await walk(chain, { hex: AHEX, slot: 10 }, 20);
    expect(w.error).toBeNull();
    expect(w.rows.map((r) => [r.slot, r.parentHex.slice(0, 4), r.author])).toEqual([
      [10, '1111', null],
      [9, '0000', null],
    ]);
  });

  it('on a node without bodies the genesis is listed without asking for its parent', async () => {
    // As typeberry 0.11.0 answers: no `block`, and `parent` of the genesis is an error.
    const asked: string[] = [];
    const chain = new Chain(
      node((m, p) => {
        asked.push(m);
        if (m === 'block') return err(-32601, 'Method not found');
        if (m === 'parent') return err(0, `Parent not found for block: ${String(p[0])}`);
        return err(0, 'unexpected');
      }),
      TINY,
      {},
    );
    const w = await walk(chain, { hex: AHEX, slot: 0 }, 20);
    expect(w.error).toBeNull();
    expect(w.rows.map((r) => [r.slot, r.parentHex, r.author])).toEqual([[0, '0'.repeat(64), null]]);
    expect(asked).not.toContain('parent');
  });

  it('a walk from a new head stops at a block the list already has', async () => {
    // Three blocks C -> B -> A, served by `parent` alone.
    const hashes = [0xcc, 0xbb, 0xaa].map((x) => new Uint8Array(32).fill(x));
    const chain = new Chain(
      node((m, p) => {
        if (m === 'block') return err(-32601, 'Method not found');
        const i = hashes.findIndex((h) => toBase64(h) === p[0]);
        if (m === 'parent' && i >= 0 && i + 1 < hashes.length) return { ok: true, value: { header_hash: toBase64(hashes[i + 1]!), slot: 30 - i - 1 } };
        return err(1, 'block unavailable');
      }),
      TINY,
      {},
    );
    const w = await walk(chain, { hex: toHex(hashes[0]!), slot: 30 }, 20, new Set([toHex(hashes[2]!)]));
    expect(w.reachedStop).toBe(true);
    expect(w.rows.map((r) => r.slot)).toEqual([30, 29]);
  });

  it('unexpected answers become messages', async () => {
    const answers: Record<string, unknown> = {
      block: 'not base64!',
      statistics: toBase64(new Uint8Array(3)),
      listServices: [1, 'two'],
      serviceData: toBase64(new Uint8Array(10)),
      parent: { header_hash: 'AAAA', slot: 1 },
      workReport: 17,
    };
    const chain = new Chain(node((m) => ({ ok: true, value: answers[m] })), TINY, {});
    expect(await chain.block(A)).toEqual({ ok: false, error: 'block: the answer is not padded base64' });
    const s = await chain.statistics(A);
    expect(s.ok).toBe(false);
    if (!s.ok) expect(s.error).toMatch(/^statistics: current validator statistics: 6 items need at least 144 bytes, 3 left/);
    expect((await chain.listServices(A)).ok).toBe(false);
    const d = await chain.serviceInfo(A, 0);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toMatch(/^service account info: hash: needs 32 bytes/);
    expect(await chain.parent(A)).toEqual({ ok: false, error: 'parent: "AAAA" is not a 32-byte base64 hash' });
    expect((await chain.workReport(A)).ok).toBe(false);
  });
});

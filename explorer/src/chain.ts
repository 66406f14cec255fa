// The node's data as the pages use it: typed JIP-2 calls over `RpcClient`, base64 turned into
// bytes and GP blobs decoded. Every function returns a value or a message saying what failed.

import { fromBase64, toBase64, toHex } from './bytes';
import { BLOCK_UNAVAILABLE, METHOD_NOT_FOUND, describeError, type RpcClient, type RpcError, type RpcResult } from './rpc';
import type { Spec } from './spec';
import { specFromParameters } from './spec';
import * as T from './types';

export type Res<T> = { ok: true; value: T } | { ok: false; error: string; code?: number };

export interface Descriptor {
  hash: Uint8Array;
  hex: string;
  slot: number;
}

function fail<T>(what: string, e: RpcError): Res<T> {
  return { ok: false, error: describeError(what, e), code: e.code };
}

export function hashFrom(v: unknown, what: string): Res<Uint8Array> {
  if (typeof v !== 'string') return { ok: false, error: `${what}: expected a base64 hash, got ${JSON.stringify(v)?.slice(0, 80)}` };
  const b = fromBase64(v);
  if (!b || b.length !== 32) return { ok: false, error: `${what}: ${JSON.stringify(v.slice(0, 80))} is not a 32-byte base64 hash` };
  return { ok: true, value: b };
}

export function blobFrom(v: unknown, what: string): Res<Uint8Array> {
  if (typeof v !== 'string') return { ok: false, error: `${what}: expected a base64 blob, got ${JSON.stringify(v)?.slice(0, 80)}` };
  const b = fromBase64(v);
  if (!b) return { ok: false, error: `${what}: the answer is not padded base64` };
  return { ok: true, value: b };
}

/** A JIP-2 block descriptor `{header_hash, slot}` (also the shape of chain-subscription updates). */
export function descriptorFrom(v: unknown, what: string): Res<Descriptor> {
  if (typeof v !== 'object' || v === null) return { ok: false, error: `${what}: expected {header_hash, slot}, got ${JSON.stringify(v)?.slice(0, 80)}` };
  const o = v as { header_hash?: unknown; slot?: unknown };
  const h = hashFrom(o.header_hash, what);
  if (!h.ok) return h;
  if (typeof o.slot !== 'number' || !Number.isInteger(o.slot) || o.slot < 0 || o.slot >= 2 ** 32) {
    return { ok: false, error: `${what}: slot ${JSON.stringify(o.slot)} is not a u32` };
  }
  return { ok: true, value: { hash: h.value, hex: toHex(h.value), slot: o.slot } };
}

/** Decoded blocks kept by hash (a block never changes); the oldest go first past the bound. */
const BLOCK_CACHE = 256;

/**
 * Calls made before `parameters()` has answered (a fresh block page asks for the block at once;
 * its decoding needs the spec, so it waits for both), kept for the `Chain` to take. Bounded: the
 * page makes a handful at start.
 */
export class Early {
  private calls = new Map<string, Promise<RpcResult<unknown>>>();
  constructor(readonly rpc: RpcClient) {}

  private static key(method: string, params: unknown[]): string {
    return method + JSON.stringify(params);
  }

  /** Starts `method(params)` now, unless it is already under way. */
  start(method: string, params: unknown[]): void {
    const k = Early.key(method, params);
    if (this.calls.has(k)) return;
    if (this.calls.size >= 16) this.calls.delete(this.calls.keys().next().value!);
    this.calls.set(k, this.rpc.call(method, params));
  }

  /** The started call's answer (once: later calls ask the node again), or null. */
  take(method: string, params: unknown[]): Promise<RpcResult<unknown>> | null {
    const k = Early.key(method, params);
    const p = this.calls.get(k);
    if (!p) return null;
    this.calls.delete(k);
    return p;
  }
}

export class Chain {
  private blocks = new Map<string, T.Block>();
  private stats = new Map<string, T.Statistics>();

  constructor(
    readonly rpc: RpcClient,
    readonly spec: Spec,
    readonly parameters: Record<string, unknown>,
    private readonly early: Early | null = null,
  ) {}

  static async connect(rpc: RpcClient, early: Early | null = null): Promise<Res<Chain>> {
    const p = await rpc.call('parameters');
    if (!p.ok) return fail('parameters', p.error);
    const s = specFromParameters(p.value);
    if (!s.ok) return { ok: false, error: s.error };
    return { ok: true, value: new Chain(rpc, s.spec, s.raw, early) };
  }

  /** `method(params)`, taking the answer of a call started early when there is one. */
  private call(method: string, params: unknown[]): Promise<RpcResult<unknown>> {
    return this.early?.take(method, params) ?? this.rpc.call(method, params);
  }

  /** The decoded block if this page has read it already (no request). */
  cachedBlock(hex: string): T.Block | null {
    return this.blocks.get(hex) ?? null;
  }

  async head(which: 'bestBlock' | 'finalizedBlock'): Promise<Res<Descriptor>> {
    const r = await this.rpc.call(which);
    return r.ok ? descriptorFrom(r.value, which) : fail(which, r.error);
  }

  async parent(hash: Uint8Array): Promise<Res<Descriptor>> {
    const r = await this.rpc.call('parent', [toBase64(hash)]);
    return r.ok ? descriptorFrom(r.value, 'parent') : fail(`parent of ${toHex(hash)}`, r.error);
  }

  async stateRoot(hash: Uint8Array): Promise<Res<Uint8Array>> {
    const r = await this.rpc.call('stateRoot', [toBase64(hash)]);
    return r.ok ? hashFrom(r.value, 'stateRoot') : fail('stateRoot', r.error);
  }

  /**
   * Orrery's `block` extension. `code` tells a node without it (method not found) from an unknown
   * block (JIP-2 error 1).
   */
  async block(hash: Uint8Array): Promise<Res<T.Block>> {
    const key = toHex(hash);
    const cached = this.blocks.get(key);
    if (cached) return { ok: true, value: cached };
    const r = await this.call('block', [toBase64(hash)]);
    if (!r.ok) {
      if (r.error.code === METHOD_NOT_FOUND) {
        return { ok: false, code: METHOD_NOT_FOUND, error: 'this node does not serve block bodies (no `block` method); showing what JIP-2 gives' };
      }
      if (r.error.code === BLOCK_UNAVAILABLE) return { ok: false, code: BLOCK_UNAVAILABLE, error: `block ${toHex(hash)} is unavailable on this node` };
      return fail('block', r.error);
    }
    const b = blobFrom(r.value, 'block');
    if (!b.ok) return b;
    const d = T.decodeBlock(b.value, this.spec);
    if (!d.ok) return { ok: false, error: d.error };
    if (this.blocks.size >= BLOCK_CACHE) this.blocks.delete(this.blocks.keys().next().value!);
    this.blocks.set(key, d.value);
    return d;
  }

  /** π after block `at`; kept by hash (a block's posterior state never changes). */
  async statistics(at: Uint8Array): Promise<Res<T.Statistics>> {
    const key = toHex(at);
    const cached = this.stats.get(key);
    if (cached) return { ok: true, value: cached };
    const r = await this.call('statistics', [toBase64(at)]);
    if (!r.ok) return fail('statistics', r.error);
    const b = blobFrom(r.value, 'statistics');
    if (!b.ok) return b;
    const d = T.decodeStatistics(b.value, this.spec);
    if (!d.ok) return { ok: false, error: d.error };
    if (this.stats.size >= BLOCK_CACHE) this.stats.delete(this.stats.keys().next().value!);
    this.stats.set(key, d.value);
    return d;
  }

  /**
   * Orrery's `validators` extension: the current (κ) and next (γ_P) epochs' keys after block `at`.
   * `code` is METHOD_NOT_FOUND on a node without it.
   */
  async validators(at: Uint8Array): Promise<Res<{ current: T.ValidatorKey[]; next: T.ValidatorKey[] }>> {
    const r = await this.call('validators', [toBase64(at)]);
    if (!r.ok) {
      if (r.error.code === METHOD_NOT_FOUND) return { ok: false, code: METHOD_NOT_FOUND, error: 'this node does not serve validator keys (no `validators` method); showing the statistics JIP-2 gives' };
      return fail('validators', r.error);
    }
    const b = blobFrom(r.value, 'validators');
    if (!b.ok) return b;
    const d = T.decodeValidatorSets(b.value, this.spec);
    return d.ok ? d : { ok: false, error: d.error };
  }

  /**
   * Orrery's `pendingReports` extension: ρ after block `at`, per core. `code` is METHOD_NOT_FOUND
   * on a node without it.
   */
  async pendingReports(at: Uint8Array): Promise<Res<(T.PendingReport | null)[]>> {
    const r = await this.call('pendingReports', [toBase64(at)]);
    if (!r.ok) {
      if (r.error.code === METHOD_NOT_FOUND) return { ok: false, code: METHOD_NOT_FOUND, error: 'this node does not serve the pending reports (no `pendingReports` method); showing what the blocks give' };
      return fail('pendingReports', r.error);
    }
    const b = blobFrom(r.value, 'pendingReports');
    if (!b.ok) return b;
    const d = T.decodePendingReports(b.value, this.spec);
    return d.ok ? d : { ok: false, error: d.error };
  }

  async listServices(at: Uint8Array): Promise<Res<number[]>> {
    const r = await this.rpc.call('listServices', [toBase64(at)]);
    if (!r.ok) return fail('listServices', r.error);
    const v = r.value;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < 2 ** 32)) {
      return { ok: false, error: `listServices: expected a list of service ids, got ${JSON.stringify(v)?.slice(0, 80)}` };
    }
    return { ok: true, value: v as number[] };
  }

  /** null when the service does not exist at that block. */
  async serviceInfo(at: Uint8Array, id: number): Promise<Res<T.ServiceInfo | null>> {
    const r = await this.rpc.call('serviceData', [toBase64(at), id]);
    if (!r.ok) return fail('serviceData', r.error);
    if (r.value === null) return { ok: true, value: null };
    const b = blobFrom(r.value, 'serviceData');
    if (!b.ok) return b;
    const d = T.decodeServiceInfo(b.value);
    return d.ok ? d : { ok: false, error: d.error };
  }

  /** A blob-valued call that answers null for "none" (serviceValue, servicePreimage). */
  async optionalBlob(method: 'serviceValue' | 'servicePreimage', params: unknown[]): Promise<Res<Uint8Array | null>> {
    const r = await this.rpc.call(method, params);
    if (!r.ok) return fail(method, r.error);
    if (r.value === null) return { ok: true, value: null };
    return blobFrom(r.value, method);
  }

  async workReport(hash: Uint8Array): Promise<Res<T.WorkReport>> {
    const r = await this.rpc.call('workReport', [toBase64(hash)]);
    if (!r.ok) return fail('workReport', r.error);
    const b = blobFrom(r.value, 'workReport');
    if (!b.ok) return b;
    const d = T.decodeWorkReport(b.value);
    return d.ok ? d : { ok: false, error: d.error };
  }

  async packageStatus(at: Uint8Array, pkg: Uint8Array, anchor: Uint8Array): Promise<Res<unknown>> {
    const r = await this.rpc.call('workPackageStatus', [toBase64(at), toBase64(pkg), toBase64(anchor)]);
    return r.ok ? { ok: true, value: r.value } : fail('workPackageStatus', r.error);
  }
}

// The GP serialization codec, decoding side only (GP 0.7.2 Appendix C): fixed-width little-endian
// integers, the variable-length natural `E(x)` (eq. C.1), length-prefixed sequences and blobs,
// `0 | 1 ++ x` options. Every read is checked against the bytes left, and a sequence's length is
// checked against the bytes that could still hold it before anything is allocated, so a malformed
// or hostile blob costs at most its own size. Errors are thrown as `DecodeError` inside a decode and
// turned into values by `decodeAll` at the boundary; nothing outside this module sees an exception.

export class DecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
    this.name = 'DecodeError';
  }
}

/** A decoded value, or why it could not be decoded. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

export class Reader {
  private pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  fail(message: string): never {
    throw new DecodeError(message, this.pos);
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) this.fail(`${what}: needs ${n} bytes, ${this.remaining} left`);
  }

  /** `n` raw bytes (a copy, so the value does not pin the whole blob). */
  fixed(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(): number {
    this.need(1, 'u8');
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.need(2, 'u16');
    const b = this.bytes;
    const v = b[this.pos]! | (b[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4, 'u32');
    const b = this.bytes;
    const v = (b[this.pos]! | (b[this.pos + 1]! << 8) | (b[this.pos + 2]! << 16)) + b[this.pos + 3]! * 0x1000000;
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    const lo = this.u32();
    const hi = this.u32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  bool(): boolean {
    const b = this.u8();
    if (b > 1) this.fail(`a boolean is 0 or 1, not ${b}`);
    return b === 1;
  }

  /** `E(x)`, GP eq. C.1: the count of leading one bits of the first octet says how many follow. */
  natural(): bigint {
    const first = this.u8();
    if (first === 0xff) return this.u64();
    let l = 0;
    while (l < 8 && first & (0x80 >> l)) l++;
    // The first octet is 2^8 − 2^(8−l) + ⌊x / 2^(8l)⌋.
    const high = BigInt(first & (0xff >> (l + 1)));
    let low = 0n;
    this.need(l, 'natural');
    for (let i = 0; i < l; i++) low |= BigInt(this.bytes[this.pos + i]!) << BigInt(8 * i);
    this.pos += l;
    return (high << BigInt(8 * l)) | low;
  }

  /** A natural that must fit below `max` (a length, an index, a 16- or 32-bit field). */
  naturalBelow(max: number, what: string): number {
    const start = this.pos;
    const v = this.natural();
    if (v >= BigInt(max)) throw new DecodeError(`${what}: ${v} is not below ${max}`, start);
    return Number(v);
  }

  /**
   * A length prefix for items of at least `minItemBytes` bytes each: it can be no larger than the
   * bytes left allow, which bounds every allocation by the input's size.
   */
  length(what: string, minItemBytes = 1): number {
    const start = this.pos;
    const n = this.natural();
    const room = Math.floor(this.remaining / Math.max(1, minItemBytes));
    if (n > BigInt(room)) throw new DecodeError(`${what}: length ${n} exceeds what the ${this.remaining} bytes left can hold`, start);
    return Number(n);
  }

  /** `↕x`: a length-prefixed blob. */
  blob(what = 'blob'): Uint8Array {
    const n = this.length(what);
    return this.fixed(n, what);
  }

  /** A sequence of known length `n` (no prefix). */
  seqN<T>(n: number, item: (r: Reader) => T, what: string, minItemBytes = 1): T[] {
    if (n * minItemBytes > this.remaining) this.fail(`${what}: ${n} items need at least ${n * minItemBytes} bytes, ${this.remaining} left`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }

  /** `↕[x…]`: a length-prefixed sequence. */
  seq<T>(item: (r: Reader) => T, what: string, minItemBytes = 1): T[] {
    const n = this.length(what, minItemBytes);
    return this.seqN(n, item, what, minItemBytes);
  }

  /** `¿x`: 0 for none, 1 followed by the value. */
  option<T>(item: (r: Reader) => T, what: string): T | null {
    const tag = this.u8();
    if (tag === 0) return null;
    if (tag === 1) return item(this);
    return this.fail(`${what}: an option is tagged 0 or 1, not ${tag}`);
  }
}

/** Decodes the whole of `bytes` with `f`: trailing bytes are an error, and so is any exception. */
export function decodeAll<T>(bytes: Uint8Array, f: (r: Reader) => T, what: string): Decoded<T> {
  const r = new Reader(bytes);
  try {
    const value = f(r);
    if (r.remaining !== 0) return { ok: false, error: `${what}: ${r.remaining} bytes left over after byte ${r.offset}` };
    return { ok: true, value };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, error: `${what}: ${message}` };
  }
}

// Small shared pieces: hashes shortened with the full value on hover and a copy button, error
// boxes, key–value tables. Everything renders text nodes; nothing from the chain becomes HTML.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { short, toHex, utf8 } from './bytes';

export function HashText(props: { hex: string; href?: string; testid?: string; full?: boolean; keep?: number }) {
  const text = props.full ? props.hex : short(props.hex, props.keep ?? 8);
  const body = props.href ? (
    <a href={props.href} title={props.hex} data-testid={props.testid} data-value={props.hex}>
      {text}
    </a>
  ) : (
    <span title={props.hex} data-testid={props.testid} data-value={props.hex}>
      {text}
    </span>
  );
  return (
    <span class="hash">
      {body}
      <CopyButton text={props.hex} />
    </span>
  );
}

export function Bytes(props: { b: Uint8Array; href?: string; testid?: string }) {
  return <HashText hex={toHex(props.b)} href={props.href} testid={props.testid} />;
}

export function CopyButton(props: { text: string }) {
  const [done, setDone] = useState(false);
  const copy = () => {
    const c = globalThis.navigator?.clipboard;
    if (!c) return;
    c.writeText(props.text).then(
      () => {
        setDone(true);
        setTimeout(() => setDone(false), 1200);
      },
      () => {},
    );
  };
  return (
    <button type="button" class="copy" title="copy the full value" aria-label="copy" onClick={copy}>
      {done ? (
        '✓'
      ) : (
        <svg width="11" height="11" viewBox="0 0 16 16" aria-hidden="true">
          <rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.6" />
          <path d="M3 11V3.5A1.5 1.5 0 0 1 4.5 2H11" fill="none" stroke="currentColor" stroke-width="1.6" />
        </svg>
      )}
    </button>
  );
}

export function ErrorBox(props: { messages: (string | null | undefined)[] }) {
  const list = props.messages.filter((m): m is string => !!m);
  if (list.length === 0) return null;
  return (
    <div class="error" data-testid="error" role="alert">
      {list.map((m, i) => (
        <div key={i}>{m}</div>
      ))}
    </div>
  );
}

export function Loading(props: { what: string }) {
  return <p class="muted">Loading {props.what}…</p>;
}

export function KV(props: { rows: [string, ComponentChildren][] }) {
  return (
    <table class="kv">
      <tbody>
        {props.rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Card(props: { title: ComponentChildren; children: ComponentChildren; testid?: string; count?: number; extra?: ComponentChildren; id?: string }) {
  return (
    <section class={props.count === 0 ? 'card empty' : 'card'} data-testid={props.testid} data-count={props.count} id={props.id}>
      <h2>
        {props.title}
        {props.count !== undefined && <span class="count">{props.count}</span>}
        {props.extra}
      </h2>
      {props.children}
    </section>
  );
}

/** A blob as hex and, when it is valid UTF-8, as text; both as text nodes. Long blobs are cut for display. */
export function BlobView(props: { b: Uint8Array; testid?: string; limit?: number }) {
  const limit = props.limit ?? 4096;
  const cut = props.b.length > limit;
  const shown = cut ? props.b.subarray(0, limit) : props.b;
  const text = utf8(props.b);
  return (
    <div class="blob" data-testid={props.testid}>
      <div>
        <span class="label">{props.b.length} bytes, hex</span>
        <code class="wrap" data-role="hex">
          {'0x' + toHex(shown) + (cut ? '…' : '')}
        </code>
      </div>
      {text !== null && (
        <div>
          <span class="label">as UTF-8 text</span>
          <code class="wrap" data-role="text">
            {cut ? text.slice(0, limit) + '…' : text}
          </code>
        </div>
      )}
    </div>
  );
}

export const fmt = (n: number | bigint): string => n.toLocaleString('en-US');

/** Cores whose bit is set in an assurance bitfield (bit i of octet ⌊i/8⌋, least significant first). */
export function setBits(b: Uint8Array, cores: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < cores && i < b.length * 8; i++) if (b[i >> 3]! & (1 << (i & 7))) out.push(i);
  return out;
}

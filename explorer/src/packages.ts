// A work package's status as `subscribeWorkPackageStatus` sends it (JIP-2: one ChainUpdate per
// best block whose status differs from the last: `{header_hash, slot, value}` with value
// `{"Reportable": {remaining_blocks}}`, `{"Reported": {reported_in, core, report_hash}}`,
// `{"Ready": {reported_in, core, report_hash, ready_in}}` or `{"Failed": "why"}`), the page's
// stage for it, and the life (each stage with the block it was reached in) the updates add up to.

import { fromBase64, toHex } from './bytes';

export type Stage = 'unknown' | 'reportable' | 'reported' | 'ready' | 'failed';

export interface At {
  hex: string;
  slot: number;
}

export type Status =
  | { stage: 'reportable'; remaining: number }
  | { stage: 'reported'; reportedIn: At; core: number; reportHash: string }
  | { stage: 'ready'; reportedIn: At; core: number; reportHash: string; readyIn: At }
  | { stage: 'failed'; why: string };

export interface Update {
  at: At;
  status: Status;
}

function at(v: unknown): At | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as { header_hash?: unknown; slot?: unknown };
  const h = typeof o.header_hash === 'string' ? fromBase64(o.header_hash) : null;
  if (!h || h.length !== 32 || typeof o.slot !== 'number' || !Number.isInteger(o.slot) || o.slot < 0) return null;
  return { hex: toHex(h), slot: o.slot };
}

const u16 = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 65536 ? v : null);

function hash(v: unknown): string | null {
  const h = typeof v === 'string' ? fromBase64(v) : null;
  return h && h.length === 32 ? toHex(h) : null;
}

/** One JIP-2 WorkPackageStatus value; an error message for anything else. */
export function parseStatus(v: unknown): Status | { error: string } {
  const bad = { error: `workPackageStatus: unexpected answer ${JSON.stringify(v)?.slice(0, 120)}` };
  if (typeof v !== 'object' || v === null) return bad;
  const entries = Object.entries(v);
  if (entries.length !== 1) return bad;
  const [kind, body] = entries[0]!;
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  switch (kind) {
    case 'Reportable': {
      const n = b.remaining_blocks;
      return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? { stage: 'reportable', remaining: n } : bad;
    }
    case 'Reported':
    case 'Ready': {
      const reportedIn = at(b.reported_in);
      const core = u16(b.core);
      const reportHash = hash(b.report_hash);
      if (!reportedIn || core === null || reportHash === null) return bad;
      if (kind === 'Reported') return { stage: 'reported', reportedIn, core, reportHash };
      const readyIn = at(b.ready_in);
      return readyIn ? { stage: 'ready', reportedIn, core, reportHash, readyIn } : bad;
    }
    case 'Failed':
      return typeof body === 'string' ? { stage: 'failed', why: body } : bad;
    default:
      return bad;
  }
}

/** A subscription notification's result: `{header_hash, slot, value}`. */
export function parseUpdate(v: unknown): Update | { error: string } {
  if (typeof v !== 'object' || v === null) return { error: `subscribeWorkPackageStatus: unexpected update ${JSON.stringify(v)?.slice(0, 120)}` };
  const a = at(v);
  if (!a) return { error: `subscribeWorkPackageStatus: update without a block descriptor: ${JSON.stringify(v)?.slice(0, 120)}` };
  const s = parseStatus((v as { value?: unknown }).value);
  return 'error' in s ? s : { at: a, status: s };
}

export interface LifeEntry {
  stage: Exclude<Stage, 'unknown'>;
  /** The block it was reached in (from the status itself when it names one, else the update's block). */
  at: At;
}

const ORDER: Record<LifeEntry['stage'], number> = { reportable: 0, reported: 1, ready: 2, failed: 3 };

/**
 * The stages seen, each once, with the block it was reached in: a Ready status names the blocks it
 * was reported and made available in even when the page never saw it Reported. A report hash of
 * all zeros is the server saying the report is gone (only the stage is known).
 */
export function addToLife(life: LifeEntry[], u: Update): LifeEntry[] {
  const out = [...life];
  const put = (stage: LifeEntry['stage'], a: At) => {
    const i = out.findIndex((e) => e.stage === stage);
    // A status that names the block wins over the block an update happened to arrive with.
    if (i < 0) out.push({ stage, at: a });
    else if (stage === 'reported' || stage === 'ready') out[i] = { stage, at: a };
  };
  const s = u.status;
  if (s.stage === 'reportable') put('reportable', u.at);
  else if (s.stage === 'reported') put('reported', s.reportedIn);
  else if (s.stage === 'ready') {
    put('reported', s.reportedIn);
    put('ready', s.readyIn);
  } else put('failed', u.at);
  return out.sort((a, b) => ORDER[a.stage] - ORDER[b.stage] || a.at.slot - b.at.slot);
}

export const ZERO_HASH = '0'.repeat(64);

// The chain's parameters as JIP-2's `parameters()` names them (`{"V1": {…}}`), and the lengths the
// GP codec needs from them: `V` validators, `C` cores, `E` slots per epoch.

export interface Parameters {
  [name: string]: number;
}

/** The spec-dependent lengths the decoders use. */
export interface Spec {
  validators: number;
  cores: number;
  epochLength: number;
  /** Slot period in seconds (`P`), for the chain plots. */
  slotSeconds: number;
}

/** `⌊2V/3⌋ + 1`: the judgments in one verdict (GP eq. 10.3). */
export function votesPerVerdict(spec: Spec): number {
  return Math.floor((2 * spec.validators) / 3) + 1;
}

/** GP 0.7.2's tiny and full specs (Appendix I and the vectors' README), for tests and fallbacks. */
export const TINY: Spec = { validators: 6, cores: 2, epochLength: 12, slotSeconds: 6 };
export const FULL: Spec = { validators: 1023, cores: 341, epochLength: 600, slotSeconds: 6 };

const LIMIT = 100_000;

function field(v: Record<string, unknown>, name: string, max: number): number {
  const x = v[name];
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > max) {
    throw new Error(`parameters: ${name} is ${JSON.stringify(x)}, not a whole number in 1..${max}`);
  }
  return x;
}

/** Reads `parameters()`'s answer; a value out of a sane range is an error, not a giant allocation later. */
export function specFromParameters(answer: unknown): { ok: true; spec: Spec; raw: Record<string, unknown> } | { ok: false; error: string } {
  try {
    if (typeof answer !== 'object' || answer === null || !('V1' in answer)) {
      throw new Error('parameters: expected {"V1": {…}}');
    }
    const v = (answer as { V1: unknown }).V1;
    if (typeof v !== 'object' || v === null) throw new Error('parameters: V1 is not an object');
    const raw = v as Record<string, unknown>;
    return {
      ok: true,
      raw,
      spec: {
        validators: field(raw, 'val_count', LIMIT),
        cores: field(raw, 'core_count', LIMIT),
        epochLength: field(raw, 'epoch_period', LIMIT),
        slotSeconds: field(raw, 'slot_period_sec', 3600),
      },
    };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

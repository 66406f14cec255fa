// Where the work packages seen in recent blocks stand, derived from the blocks alone: a guarantee
// puts a report on its core (reported in that block); a later block whose assurances set that
// core's bit for more than two thirds of the validators makes it available (GP 0.7.2 §11.2.1,
// eq. 11.16: W = the reports of the cores c with Σ_a a_f[c] > 2V/3). Within one block the
// assurances act first, on the reports of the blocks before it, then its guarantees add new ones
// (eq. 11.17 then §11.4), so a block can free a core and fill it again.

import { setBits } from './ui';

/** The cores made available by one block's assurance bitfields (each ⌈C/8⌉ octets, bit c of octet ⌊c/8⌋). */
export function availableCores(bitfields: Uint8Array[], validators: number, cores: number): number[] {
  const counts = new Array<number>(cores).fill(0);
  for (const b of bitfields) for (const c of setBits(b, cores)) counts[c]!++;
  const out: number[] = [];
  // Σ > 2V/3, in integers.
  for (let c = 0; c < cores; c++) if (3 * counts[c]! > 2 * validators) out.push(c);
  return out;
}

export interface At {
  hex: string;
  slot: number;
}

/** What the derivation needs of a block. */
export interface BlockWork extends At {
  guarantees: { core: number; pkg: string }[];
  bitfields: Uint8Array[];
}

export interface PackageLife {
  pkg: string;
  core: number;
  reported: At;
  /** The block whose assurances made it available; null while it is not (yet) seen so. */
  available: At | null;
  /** A later guarantee on the same core before it was seen available: it timed out. */
  replaced: At | null;
}

/** The packages guaranteed in `blocks` (oldest first, each the parent of the next), in order of their guarantees. */
export function packageStages(blocks: BlockWork[], validators: number, cores: number): PackageLife[] {
  const onCore: (PackageLife | null)[] = new Array(cores).fill(null);
  const out: PackageLife[] = [];
  for (const b of blocks) {
    const at = { hex: b.hex, slot: b.slot };
    for (const c of availableCores(b.bitfields, validators, cores)) {
      const p = onCore[c];
      if (p) p.available = at;
      onCore[c] = null;
    }
    for (const g of b.guarantees) {
      if (g.core < 0 || g.core >= cores) continue;
      const old = onCore[g.core];
      if (old) old.replaced = at;
      const life: PackageLife = { pkg: g.pkg, core: g.core, reported: at, available: null, replaced: null };
      onCore[g.core] = life;
      out.push(life);
    }
  }
  return out;
}

// Fork points: a best-head notification whose block does not descend from the previous best head
// (the node switched to another fork). The check walks back from the new head by `parent` while
// the slots stay above the old head's: meeting the old head means the chain only grew (a skipped
// notification is not a fork); passing below its slot without meeting it means a switch.

export interface Head {
  hex: string;
  slot: number;
}

export interface ForkPoint {
  /** The new head's slot. */
  slot: number;
  old: Head;
  new: Head;
}

/** A block's parent (hash and slot), or null when the page cannot learn it. */
export type ParentOf = (hex: string) => Promise<Head | null>;

/**
 * Whether `next` descends from `prev` (true), is on another fork (false), or the page cannot
 * tell (null: a parent it could not read, or more than `limit` blocks between them).
 */
export async function descends(prev: Head, next: Head, parentOf: ParentOf, limit = 32): Promise<boolean | null> {
  if (next.hex === prev.hex) return true;
  if (next.slot <= prev.slot) return false;
  let cur = next;
  for (let i = 0; i < limit; i++) {
    const p = await parentOf(cur.hex);
    if (!p) return null;
    if (p.hex === prev.hex) return true;
    if (p.slot <= prev.slot) return false;
    cur = p;
  }
  return null;
}

/** Follows best-head updates in order and keeps the last `bound` fork points, newest first. */
export class ForkWatch {
  private last: Head | null = null;
  private chain: Promise<void> = Promise.resolve();
  points: ForkPoint[] = [];

  constructor(
    private readonly parentOf: ParentOf,
    private readonly onChange: (points: ForkPoint[]) => void,
    private readonly bound = 50,
  ) {}

  /** Feeds the next best head; the checks run one after another, in arrival order. */
  push(head: Head): Promise<void> {
    this.chain = this.chain.then(async () => {
      const prev = this.last;
      this.last = head;
      if (!prev || prev.hex === head.hex) return;
      if ((await descends(prev, head, this.parentOf)) !== false) return;
      this.points = [{ slot: head.slot, old: prev, new: head }, ...this.points].slice(0, this.bound);
      this.onChange(this.points);
    });
    return this.chain;
  }
}

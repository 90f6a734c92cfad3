/**
 * The contexts of one VM by id. Context ids only grow (one or more per stream, as Envoy's
 * ContextBase ids) and stream contexts live for one request, so a JS Map keyed by them keeps
 * inserting fresh keys next to freshly deleted ones: V8's OrderedHashMap then rebuilds its
 * table every few insertions (deleted entries fill it up; a runtime call and a new backing
 * store each time), which showed as createStreamContext self time in the jwt-auth cached-path
 * profile. Measured in isolation: set + get + delete of a new id ≈ 65–75 ns with a Map,
 * ≈ 13–15 ns here.
 *
 * Direct-mapped slots (id & mask) hold the records; ids that collide with a live record of
 * another id (a long-lived root context, or more live streams than slots) go to an overflow
 * Map. The slot array doubles when the overflow grows, so many live streams stay O(1) too.
 */
export interface IdRecord {
  readonly id: number;
}

const INITIAL_SLOTS = 64;

export class ContextTable<R extends IdRecord> {
  private slots: (R | undefined)[] = new Array<R | undefined>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  private readonly overflow = new Map<number, R>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): R | undefined {
    const record = this.slots[id & this.mask];
    if (record !== undefined && record.id === id) return record;
    return this.overflow.size === 0 ? undefined : this.overflow.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds or replaces the record of `record.id`. */
  set(record: R): void {
    const id = record.id;
    if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`context id must be a positive integer, got ${id}`);
    const index = id & this.mask;
    const current = this.slots[index];
    if (current === undefined || current.id === id) {
      if (current === undefined && !this.overflow.has(id)) this.count++;
      if (current === undefined && this.overflow.has(id)) this.overflow.delete(id);
      this.slots[index] = record;
      return;
    }
    if (!this.overflow.has(id)) this.count++;
    this.overflow.set(id, record);
    if (this.overflow.size > this.slots.length >> 2) this.grow();
  }

  delete(id: number): boolean {
    const index = id & this.mask;
    const record = this.slots[index];
    if (record !== undefined && record.id === id) {
      this.slots[index] = undefined;
      this.count--;
      return true;
    }
    if (this.overflow.delete(id)) {
      this.count--;
      return true;
    }
    return false;
  }

  values(): R[] {
    const out: R[] = [];
    for (const record of this.slots) if (record !== undefined) out.push(record);
    for (const record of this.overflow.values()) out.push(record);
    return out;
  }

  /** Doubles the slots and re-places every record (the overflow holds what still collides). */
  private grow(): void {
    const records = this.values();
    this.slots = new Array<R | undefined>(this.slots.length * 2).fill(undefined);
    this.mask = this.slots.length - 1;
    this.overflow.clear();
    this.count = 0;
    for (const record of records) this.set(record);
  }
}

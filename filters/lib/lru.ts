/**
 * Bounded least-recently-used hash table of intrusive entries (the caller's objects extend
 * LruEntry: no node or map-entry allocation per insert, none per lookup).
 *
 * The table only buckets by the caller's 64-bit hash; it never decides that two keys are equal.
 * Callers walk a bucket's chain (`first`, then `chainNext`) comparing their full keys, so a hash
 * collision can only cost a comparison, never hand out another key's entry — which is what lets a
 * cache of credentials use a fast non-cryptographic hash.
 *
 * Buckets: a power of two, doubled as entries are added up to the first power of two ≥ capacity
 * (load factor ≤ 1: chains of about one entry). Capacity 0 disables the table.
 */
export class LruEntry {
  hash: u64 = 0;
  /** Next entry in the same bucket. */
  chainNext: LruEntry | null = null;
  /** Recency list: towards the most / least recently used entry. */
  newer: LruEntry | null = null;
  older: LruEntry | null = null;
}

const INITIAL_BUCKETS: i32 = 16;

export class LruTable {
  private buckets: StaticArray<LruEntry | null>;
  private mask: u64;
  private readonly maxBuckets: i32;
  private newest: LruEntry | null = null;
  private oldest: LruEntry | null = null;
  size: i32 = 0;

  constructor(public readonly capacity: i32) {
    let max = 1;
    while (max < capacity) max <<= 1;
    this.maxBuckets = max;
    const initial = min(max, INITIAL_BUCKETS);
    this.buckets = new StaticArray<LruEntry | null>(initial);
    this.mask = <u64>(initial - 1);
  }

  /** The first entry of the chain `hash` falls into (walk `chainNext`; compare keys in full). */
  first(hash: u64): LruEntry | null {
    return unchecked(this.buckets[<i32>(hash & this.mask)]);
  }

  /** Marks `entry` (in the table) as the most recently used. */
  touch(entry: LruEntry): void {
    if (this.newest === entry) return;
    this.unlinkRecency(entry);
    this.pushNewest(entry);
  }

  /**
   * Adds `entry` (its `hash` set; the caller removed any entry with an equal key) as the most
   * recently used, evicting the least recently used beyond capacity.
   */
  insert(entry: LruEntry): void {
    if (this.capacity <= 0) return;
    if (this.size >= this.buckets.length && this.buckets.length < this.maxBuckets) this.grow();
    const index = <i32>(entry.hash & this.mask);
    entry.chainNext = unchecked(this.buckets[index]);
    unchecked(this.buckets[index] = entry);
    this.pushNewest(entry);
    this.size++;
    while (this.size > this.capacity) {
      const last = this.oldest;
      if (last === null) break;
      this.remove(last);
    }
  }

  remove(entry: LruEntry): void {
    const index = <i32>(entry.hash & this.mask);
    let at = unchecked(this.buckets[index]);
    if (at === entry) {
      unchecked(this.buckets[index] = entry.chainNext);
    } else {
      while (at !== null && at.chainNext !== entry) at = at.chainNext;
      if (at === null) return; // not in this table
      at.chainNext = entry.chainNext;
    }
    entry.chainNext = null;
    this.unlinkRecency(entry);
    this.size--;
  }

  clear(): void {
    for (let i = 0; i < this.buckets.length; i++) unchecked(this.buckets[i] = null);
    this.newest = null;
    this.oldest = null;
    this.size = 0;
  }

  private grow(): void {
    const old = this.buckets;
    const count = old.length << 1;
    const buckets = new StaticArray<LruEntry | null>(count);
    const mask = <u64>(count - 1);
    for (let i = 0; i < old.length; i++) {
      let entry = unchecked(old[i]);
      while (entry !== null) {
        const next = entry.chainNext;
        const index = <i32>(entry.hash & mask);
        entry.chainNext = unchecked(buckets[index]);
        unchecked(buckets[index] = entry);
        entry = next;
      }
    }
    this.buckets = buckets;
    this.mask = mask;
  }

  private unlinkRecency(entry: LruEntry): void {
    const newer = entry.newer;
    const older = entry.older;
    if (newer !== null) newer.older = older; else this.newest = older;
    if (older !== null) older.newer = newer; else this.oldest = newer;
    entry.newer = null;
    entry.older = null;
  }

  private pushNewest(entry: LruEntry): void {
    entry.older = this.newest;
    entry.newer = null;
    const newest = this.newest;
    if (newest !== null) newest.newer = entry;
    this.newest = entry;
    if (this.oldest === null) this.oldest = entry;
  }
}

/**
 * The set of predicates a request satisfied, and the policies it may therefore match
 * (candidates.ts). Filled once per request by the attribute indexes, then read by the rule
 * evaluator. Generation stamps instead of cleared bitsets: starting a new request is O(1)
 * whatever the number of predicates and policies.
 */
/**
 * Address of `array[index]`. The hot loops below read and write their typed arrays through it:
 * the optimizer leaves the typed-array and Array accessors (`unchecked(a[i])`, `.length`) as
 * function calls (same function count with and without --debug; `node --cpu-prof` shows them as
 * separate frames), and these run once per marked predicate and per rule literal.
 */
// @ts-ignore: decorator
@inline export function u32At(array: Uint32Array, index: i32): usize {
  return array.dataStart + (<usize>index << 2);
}

/** Address of `array[index]` (see u32At). */
// @ts-ignore: decorator
@inline export function i32At(array: Array<i32>, index: i32): usize {
  return array.dataStart + (<usize>index << 2);
}

export class MatchSet {
  private stamps: Uint32Array;
  /** Predicates marked by this request, in marking order (each once). */
  private marked: Uint32Array;
  private count: i32 = 0;
  private candidates: Uint32Array;
  /** Candidate policy serials of this request, ascending once sortCandidates ran. */
  private candidateList: Uint32Array;
  private candidateTotal: i32 = 0;
  private generation: u32 = 1;

  constructor(size: i32, policyCount: i32) {
    this.stamps = new Uint32Array(max(size, 1));
    this.marked = new Uint32Array(max(size, 1));
    this.candidates = new Uint32Array(max(policyCount, 1));
    this.candidateList = new Uint32Array(max(policyCount, 1));
  }

  /** Forget every mark (next request). */
  reset(): void {
    this.generation++;
    this.count = 0;
    this.candidateTotal = 0;
    if (this.generation == 0) {
      // Wrapped after 2^32 requests: clear once so stale stamps cannot read as fresh.
      this.stamps = new Uint32Array(this.stamps.length);
      this.candidates = new Uint32Array(this.candidates.length);
      this.generation = 1;
    }
  }

  mark(id: i32): void {
    const stamp = u32At(this.stamps, id);
    if (load<u32>(stamp) == this.generation) return;
    store<u32>(stamp, this.generation);
    store<u32>(u32At(this.marked, this.count++), id);
  }

  markAll(ids: Array<i32>): void {
    for (let i = 0, n = ids.length; i < n; i++) this.mark(load<i32>(i32At(ids, i)));
  }

  // @ts-ignore: decorator
  @inline has(id: i32): bool {
    return load<u32>(u32At(this.stamps, id)) == this.generation;
  }

  get markedCount(): i32 { return this.count; }

  // @ts-ignore: decorator
  @inline markedAt(i: i32): i32 { return load<i32>(u32At(this.marked, i)); }

  markCandidate(serial: i32): void {
    const stamp = u32At(this.candidates, serial);
    if (load<u32>(stamp) == this.generation) return;
    store<u32>(stamp, this.generation);
    store<u32>(u32At(this.candidateList, this.candidateTotal++), serial);
  }

  get candidateCount(): i32 { return this.candidateTotal; }

  // @ts-ignore: decorator
  @inline candidateAt(i: i32): i32 { return load<i32>(u32At(this.candidateList, i)); }

  /** Configuration order: a request has few candidates, so an insertion sort. */
  sortCandidates(): void {
    const list = this.candidateList;
    for (let i = 1, n = this.candidateTotal; i < n; i++) {
      const serial = unchecked(list[i]);
      let j = i - 1;
      while (j >= 0 && unchecked(list[j]) > serial) { unchecked(list[j + 1] = list[j]); j--; }
      unchecked(list[j + 1] = serial);
    }
  }
}

/** Inserts `length` into the ascending, duplicate-free list `lengths`. */
export function addLength(lengths: Array<i32>, length: i32): void {
  let at = 0;
  while (at < lengths.length && lengths[at] < length) at++;
  if (at < lengths.length && lengths[at] == length) return;
  lengths.push(0);
  for (let i = lengths.length - 1; i > at; i--) lengths[i] = lengths[i - 1];
  lengths[at] = length;
}

/**
 * Copies of module memory that outlive the call (filter-state values set with
 * proxy_set_property), carved out of a shared slab instead of one ArrayBuffer each.
 *
 * Why: a Uint8Array over 64 bytes gets an off-heap backing store in V8
 * (v8_typed_array_max_size_in_heap), and allocating and later freeing one cost ≈ 0.8 µs for
 * a 200-byte value here — more than everything else proxy_set_property does. A view into a
 * slab costs ≈ 0.2 µs. Small values keep `slice()` (on-heap, cheaper than a view), large ones
 * get their own buffer so one big value never pins a slab.
 *
 * Each copy is a disjoint view: nothing writes a region again once handed out (the slab only
 * moves forward and is replaced when full), so a holder sees a stable value. A slab lives as
 * long as any view into it: at most SLAB_BYTES per slab kept alive by long-lived values.
 */
const SLAB_BYTES = 16 * 1024;
/** V8 keeps typed arrays up to this size on the heap: slice() is cheapest there. */
const ON_HEAP_MAX = 64;
/** Values above this get their own buffer (a slab is for the many small per-request values). */
const OWN_BUFFER_MIN = 2 * 1024;

export class ByteSlab {
  private slab = new Uint8Array(SLAB_BYTES);
  private used = 0;

  /** A stable copy of memory[start, start + n) (the caller checked the range): no view of it is made for small or large values. */
  copyFrom(memory: Uint8Array, start: number, n: number): Uint8Array {
    if (n <= ON_HEAP_MAX || n >= OWN_BUFFER_MIN) return memory.slice(start, start + n);
    return this.copy(memory.subarray(start, start + n));
  }

  /** A stable copy of `source` (a view of module memory, valid only during the call). */
  copy(source: Uint8Array): Uint8Array {
    const n = source.length;
    if (n <= ON_HEAP_MAX || n >= OWN_BUFFER_MIN) return source.slice();
    if (this.used + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.used = 0;
    }
    const out = new Uint8Array(this.slab.buffer, this.used, n);
    out.set(source);
    this.used += n;
    return out;
  }
}

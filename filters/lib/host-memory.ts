/**
 * The module's allocator as the host sees it (proxy_on_memory_allocate, and `malloc`, its legacy
 * name: proxy-wasm spec abi-versions/v0.2.1), with one addition: a scratch area for values the
 * filter reads in place and drops right away (a property's bytes, a header's value).
 *
 * Every value the host returns (proxy_get_property, proxy_get_header_map_value, …) is copied into
 * memory the host first asks the module for. The SDK's allocator (proxy-runtime malloc.ts) makes
 * that a managed, pinned ArrayBuffer: allocation, zeroing, pin, unpin, then a sweep and a free —
 * for 8 bytes of response code as for 1 KB of peer metadata, on every read of every stream. A
 * filter that reads through `fetchScratch` (lib/properties.ts, metrics' header reads) arms the
 * scratch area for the one allocation its host call makes; the host copies into it, the filter
 * reads the bytes in place, and nothing is left for the collector.
 *
 * Filters that export the SDK's allocator instead (`export * from ".../proxy"`) get the SDK's
 * buffers; `releaseScratch` unpins those, so the same reading code is right with either.
 *
 * The area is unmanaged memory (TLSF, not the collector), grown to the largest value read, and
 * only values up to SCRATCH_MAX use it: a larger one gets an ordinary buffer, so the area stays
 * small whatever a peer sends.
 */

// @ts-ignore: decorator
@inline const SCRATCH_MAX: usize = 64 * 1024;

let scratch: usize = 0;
let scratchSize: usize = 0;
/** Set by armScratch: the next allocation request (and only that one) may use the area. */
let armed: bool = false;

/** The next host allocation may use the scratch area (call right before the host call). */
// @ts-ignore: decorator
@inline export function armScratch(): void {
  armed = true;
}

/** Right after the host call: a host that allocated nothing must not leave the area armed. */
// @ts-ignore: decorator
@inline export function disarmScratch(): void {
  armed = false;
}

/** Gives back what the host allocated for a value read through armScratch. */
export function releaseScratch(ptr: usize): void {
  if (ptr != 0 && (ptr < scratch || ptr >= scratch + scratchSize)) __unpin(ptr);
}

function scratchFor(size: usize): usize {
  if (size > scratchSize || scratch == 0) {
    const grown = max<usize>(size, max<usize>(256, scratchSize << 1));
    if (scratch != 0) heap.free(scratch);
    scratch = heap.alloc(grown);
    scratchSize = grown;
  }
  return scratch;
}

/** The SDK's allocator (managed, pinned: the SDK unpins it when it takes the buffer), or the scratch area when armed. */
export function malloc(size: i32): usize {
  if (armed) {
    armed = false;
    if (<usize>size <= SCRATCH_MAX) return scratchFor(<usize>size);
  }
  return __pin(changetype<usize>(new ArrayBuffer(size)));
}

export function proxy_on_memory_allocate(size: usize): usize {
  return malloc(<i32>size);
}

export function free(ptr: usize): void {
  releaseScratch(ptr);
}

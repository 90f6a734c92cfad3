// wasmesh's memory manager: AssemblyScript's TLSF allocator under a two-colour mark & sweep
// collector of our own that knows how big the managed heap is, so it can be paced.
//
// Why not AssemblyScript's runtimes:
// - `incremental` (ITCMS) needs a shadow stack: the compiler spills every managed local to linear
//   memory around each call and runs a write barrier on every reference store. In our filters
//   that was about a third of the code (before data packing, jwt-auth 172 KB → 117 KB, rbac
//   138 KB → 87 KB) and a cost on every call.
// - `minimal` (TCMS) has no shadow stack, so it may only collect when no managed reference is
//   on the wasm stack, and it leaves the moment to the embedder. But it keeps the heap size to
//   itself, so the embedder cannot tell when a collection is worth its cost.
// This collector has TCMS's shape (objects on intrusive lists, colours in the low bits of the
// link, a flip per cycle) plus `__heap_total` and `__collect_when_due`, which the SDK's exports
// call at the end of an outermost host→VM callback (proxy-runtime assembly/collector.ts).
//
// Header layout is fixed by the compiler (~lib/rt/common OBJECT): mmInfo | next+colour | prev |
// rtId | rtSize, then the payload.
import "~lib/rt/tlsf";
import { BLOCK, BLOCK_OVERHEAD, OBJECT_OVERHEAD, OBJECT_MAXSIZE, TOTAL_OVERHEAD } from "~lib/rt/common";

// @ts-ignore: decorator
@inline const COLOUR_MASK: usize = 3;
// Pinned objects (buffers handed to the host by malloc) are always reachable.
// @ts-ignore: decorator
@inline const PINNED: i32 = 3;
// The heap may grow to twice what survived the last collection, and to at least this much,
// before the next one: the pacing of ITCMS's idle threshold. The floor keeps a filter with a
// small live heap from marking it every few dozen requests (rbac at 10 policies: a collection
// every ~60 requests at 64 KiB); it costs each VM at most this much memory.
// @ts-ignore: decorator
@inline const COLLECT_FLOOR: usize = 256 * 1024;

@unmanaged class Managed extends BLOCK {
  nextAndColour: usize;
  prev: Managed;
  rtId: u32;
  rtSize: u32;

  @inline get next(): Managed {
    return changetype<Managed>(this.nextAndColour & ~COLOUR_MASK);
  }
  @inline set next(object: Managed) {
    this.nextAndColour = changetype<usize>(object) | (this.nextAndColour & COLOUR_MASK);
  }
  @inline get colour(): i32 {
    return i32(this.nextAndColour & COLOUR_MASK);
  }
  /** Block size including the allocator's own header, as TLSF accounts it. */
  @inline get blockSize(): usize {
    return BLOCK_OVERHEAD + (this.mmInfo & ~3);
  }

  unlink(): void {
    const next = this.next;
    // Static objects (below __heap_base) are on no list until first visited.
    if (next === null) return;
    const prev = this.prev;
    // A linked object always has both neighbours; anything else is a corrupted heap, and
    // trapping beats sweeping live objects. The check also keeps unlink (and so __visit) out of
    // line: binaryen inlines small call-free functions at -O3, and __visit has a site for every
    // managed field of every class (rbac: 12 KB more code when it was inlined).
    if (prev === null) throw new Error("heap corrupted: object linked without a predecessor");
    next.prev = prev;
    prev.next = next;
  }

  appendTo(list: Managed, colour: i32): void {
    const last = list.prev;
    this.nextAndColour = changetype<usize>(list) | colour;
    this.prev = last;
    last.next = this;
    list.prev = this;
  }
}

// Unvisited objects carry `white`; this cycle's survivors get !white, and the colours flip after
// the sweep, so survivors need no repainting.
let white: i32 = 0;
// The three list heads live in static memory. They are set up on first use, not by global
// initializers: those run in the start function in compile order, after other modules' top-level
// code has already allocated (TLSF sets itself up the same way).
let unvisited: Managed = changetype<Managed>(0);
let reached: Managed = changetype<Managed>(0);
let pinned: Managed = changetype<Managed>(0);
let heapTotal: usize = 0;
let nextCollectionAt: usize = COLLECT_FLOOR;

function emptyList(head: Managed): Managed {
  head.nextAndColour = changetype<usize>(head);
  head.prev = head;
  return head;
}

function setUpLists(): void {
  unvisited = emptyList(changetype<Managed>(memory.data(offsetof<Managed>())));
  reached = emptyList(changetype<Managed>(memory.data(offsetof<Managed>())));
  pinned = emptyList(changetype<Managed>(memory.data(offsetof<Managed>())));
}

// @ts-ignore: decorator
@inline function headerOf(ptr: usize): Managed {
  return changetype<Managed>(ptr - TOTAL_OVERHEAD);
}

// @ts-ignore: decorator
@global @unsafe
function __new(size: usize, id: i32): usize {
  if (size > OBJECT_MAXSIZE) throw new Error("Allocation too large");
  if (changetype<usize>(unvisited) == 0) setUpLists();
  const object = changetype<Managed>(__alloc(OBJECT_OVERHEAD + size) - BLOCK_OVERHEAD);
  object.rtId = id;
  object.rtSize = <u32>size;
  object.appendTo(unvisited, white);
  heapTotal += object.blockSize;
  const ptr = changetype<usize>(object) + TOTAL_OVERHEAD;
  // asc counts a custom runtime as incremental, and for that runtime the standard library
  // (StaticArray, Array, typed arrays, ...) and the compiler's field initialization rely on
  // __new returning zeroed memory, as ITCMS's does.
  memory.fill(ptr, 0, size);
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
function __renew(oldPtr: usize, size: usize): usize {
  const old = headerOf(oldPtr);
  // A static object cannot be resized in place: copy it to the heap.
  if (oldPtr < __heap_base) {
    const moved = __new(size, old.rtId);
    memory.copy(moved, oldPtr, min(size, <usize>old.rtSize));
    return moved;
  }
  if (size > OBJECT_MAXSIZE) throw new Error("Allocation too large");
  const oldSize = <usize>old.rtSize;
  heapTotal -= old.blockSize;
  const ptr = __realloc(oldPtr - OBJECT_OVERHEAD, OBJECT_OVERHEAD + size) + OBJECT_OVERHEAD;
  const object = headerOf(ptr);
  object.rtSize = <u32>size;
  // The block may have moved: its neighbours must point at the new address.
  object.next.prev = object;
  object.prev.next = object;
  heapTotal += object.blockSize;
  // Zeroed growth, like __new (Array and ArrayBuffer growth rely on it).
  if (size > oldSize) memory.fill(ptr + oldSize, 0, size - oldSize);
  return ptr;
}

// No write barrier: collections are never interleaved with the program.
// @ts-ignore: decorator
@global @unsafe
function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {}

// @ts-ignore: decorator
@global @unsafe
function __visit(ptr: usize, cookie: i32): void {
  if (!ptr) return;
  const object = headerOf(ptr);
  if (object.colour == white) {
    object.unlink();
    object.appendTo(reached, i32(!white));
  }
}

// @ts-ignore: decorator
@global @unsafe
function __pin(ptr: usize): usize {
  if (ptr) {
    if (changetype<usize>(unvisited) == 0) setUpLists();
    const object = headerOf(ptr);
    if (object.colour == PINNED) throw new Error("Object already pinned");
    object.unlink();
    object.appendTo(pinned, PINNED);
  }
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
function __unpin(ptr: usize): void {
  if (!ptr) return;
  const object = headerOf(ptr);
  if (object.colour != PINNED) throw new Error("Object is not pinned");
  object.unlink();
  object.appendTo(unvisited, white);
}

/**
 * A full collection. Only safe when no managed reference is held on the wasm stack: the roots are
 * the globals and the pinned objects.
 */
// @ts-ignore: decorator
@global @unsafe
function __collect(): void {
  if (changetype<usize>(unvisited) == 0) setUpLists();
  __visit_globals(0);
  let object = pinned.next;
  while (object != pinned) {
    __visit_members(changetype<usize>(object) + TOTAL_OVERHEAD, 0);
    object = object.next;
  }
  // Visiting appends to `reached`, so this walk also covers what it discovers.
  object = reached.next;
  while (object != reached) {
    __visit_members(changetype<usize>(object) + TOTAL_OVERHEAD, 0);
    object = object.next;
  }
  object = unvisited.next;
  while (object != unvisited) {
    const following = object.next;
    if (changetype<usize>(object) < __heap_base) {
      // A static object that became unreachable goes back to "on no list", coloured as
      // unvisited for the next cycle (the colours flip below) so it is traced if it is
      // reachable again.
      object.nextAndColour = <usize>(i32(!white));
      object.prev = changetype<Managed>(0);
    } else {
      heapTotal -= object.blockSize;
      __free(changetype<usize>(object) + BLOCK_OVERHEAD);
    }
    object = following;
  }
  const swept = unvisited;
  swept.nextAndColour = changetype<usize>(swept);
  swept.prev = swept;
  unvisited = reached;
  reached = swept;
  white = i32(!white);
  nextCollectionAt = max(COLLECT_FLOOR, heapTotal << 1);
}

/** Bytes of managed objects currently allocated, reachable or not (allocator headers included). */
// @ts-ignore: decorator
@global @unsafe
function __heap_total(): usize {
  return heapTotal;
}

/** Collects if the heap has doubled since the last collection. Same safety rule as __collect. */
// @ts-ignore: decorator
@global @unsafe
function __collect_when_due(): void {
  if (heapTotal >= nextCollectionAt) __collect();
}

/**
 * wasmesh's runtime (filters/lib/runtime): a mark & sweep collector without a shadow stack,
 * paced by the managed heap size. Run on a module built with the filters' asconfig.json.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { compileHarness } from '../fixtures/harness-build.js';

interface GcHarness {
  heapTotal(): number;
  collect(): void;
  collectWhenDue(): void;
  memoryPages(): number;
  allocateGarbage(count: number, size: number): void;
  buildChain(count: number, size: number): void;
  checkChain(): number;
  dropChain(): void;
  growArray(count: number, size: number): void;
  checkArray(): number;
  dropArray(): void;
  pinnedBuffer(size: number, fill: number): number;
  unpin(pointer: number): void;
  bufferHolds(pointer: number, size: number, fill: number): number;
  swapText(heap: number): void;
  textLength(): number;
  freshMemoryIsZero(): number;
  staticSlotsAreStatic(): number;
  storeInStatic(size: number): void;
  storeInLateStatic(size: number): void;
  checkStatics(): number;
}

const COLLECT_FLOOR = 256 * 1024;

const build = (extraFlags: readonly string[] = []) => compileHarness({ entry: 'test/fixtures/runtime/gc-harness.ts', simd: false, extraFlags });
const module = build().then((binary) => WebAssembly.compile(new Uint8Array(binary)));

async function instantiate(): Promise<GcHarness> {
  const instance = await WebAssembly.instantiate(await module, {});
  (instance.exports['_initialize'] as () => void)();
  return instance.exports as unknown as GcHarness;
}

describe('runtime: mark & sweep', () => {
  let gc: GcHarness;
  beforeEach(async () => { gc = await instantiate(); });

  it('runtime: __collect frees what no global reaches', () => {
    gc.collect();
    const base = gc.heapTotal();
    gc.allocateGarbage(1000, 100);
    expect(gc.heapTotal()).toBeGreaterThan(base + 100_000);
    gc.collect();
    expect(gc.heapTotal()).toBe(base);
  });

  it('runtime: __collect keeps everything reachable from globals intact', () => {
    gc.buildChain(5000, 24);
    gc.allocateGarbage(2000, 64);
    gc.collect();
    gc.collect();
    expect(gc.checkChain()).toBe(5000);
    gc.dropChain();
    gc.collect();
    expect(gc.checkChain()).toBe(0);
  });

  it('runtime: objects moved by reallocation keep their links', () => {
    // Array growth reallocates its buffer (__renew); interleaved garbage makes TLSF move it.
    for (let round = 0; round < 20; round++) {
      gc.growArray(50, 8);
      gc.allocateGarbage(20, 40);
      if (round % 3 === 0) gc.collect();
    }
    gc.collect();
    expect(gc.checkArray()).toBe(1000);
    gc.dropArray();
    gc.collect();
    expect(gc.checkArray()).toBe(0);
  });

  it('runtime: a pinned buffer survives collections until it is unpinned', () => {
    const pointer = gc.pinnedBuffer(4096, 0xab);
    gc.allocateGarbage(500, 200);
    gc.collect();
    gc.allocateGarbage(500, 200);
    gc.collect();
    expect(gc.bufferHolds(pointer, 4096, 0xab)).toBe(1);
    const pinnedTotal = gc.heapTotal();
    gc.unpin(pointer);
    gc.collect();
    expect(gc.heapTotal()).toBeLessThan(pinnedTotal - 4096);
  });

  it('runtime: new and grown objects read as zero, whatever the memory held before', () => {
    expect(gc.freshMemoryIsZero()).toBe(1);
  });

  it('runtime: heap objects stored in static objects live as long as the static object', () => {
    expect(gc.staticSlotsAreStatic()).toBe(1);
    gc.storeInStatic(64);
    // Collections first, so the second store happens after the colours have flipped.
    gc.collect();
    gc.collect();
    gc.collect();
    gc.storeInLateStatic(64);
    for (let i = 0; i < 4; i++) {
      gc.allocateGarbage(2000, 64);
      gc.collect();
      expect(gc.checkStatics()).toBe(1);
    }
  });

  it('runtime: a static object dropped and taken again is relinked cleanly', () => {
    const literal = gc.textLength();
    for (let i = 0; i < 6; i++) {
      gc.swapText(1);
      gc.collect();
      gc.swapText(0);
      gc.collect();
      expect(gc.textLength()).toBe(literal);
    }
  });
});

describe('runtime: build', () => {
  it('runtime: asconfig.json builds without a shadow stack', async () => {
    // asc names the shadow stack's global __stack_pointer; the debug build keeps names.
    const named = Buffer.from(await build(['--debug']));
    expect(named.includes('gc-harness/buildChain')).toBe(true);
    expect(named.includes('__stack_pointer')).toBe(false);
  });
});

/**
 * Adds garbage in small steps (10 buffers of `size` bytes), asking for a paced collection after
 * each, until one happens. Returns the heap total of the last step that did not collect (`before`)
 * and of the step that did, just before collecting (`grown`).
 */
function garbageUntilCollected(gc: GcHarness, size: number): { before: number; grown: number } {
  let before = gc.heapTotal();
  for (;;) {
    gc.allocateGarbage(10, size);
    const grown = gc.heapTotal();
    gc.collectWhenDue();
    if (gc.heapTotal() < grown) return { before, grown };
    before = grown;
  }
}

describe('runtime: pacing', () => {
  let gc: GcHarness;
  beforeEach(async () => { gc = await instantiate(); });

  it('runtime: __collect_when_due waits for the 256 KiB floor', () => {
    gc.collect();
    const base = gc.heapTotal();
    expect(base).toBeLessThan(COLLECT_FLOOR / 2);
    const { before, grown } = garbageUntilCollected(gc, 100);
    expect(grown).toBeGreaterThanOrEqual(COLLECT_FLOOR);
    expect(before).toBeLessThan(COLLECT_FLOOR);
    expect(gc.heapTotal()).toBe(base);
  });

  it('runtime: __collect_when_due waits until the heap doubles past what survived', () => {
    gc.buildChain(4000, 64);
    gc.collect();
    const live = gc.heapTotal();
    expect(live).toBeGreaterThan(COLLECT_FLOOR);
    // The first collection comes at the step that reaches 2 × live.
    const { before, grown } = garbageUntilCollected(gc, 64);
    expect(grown).toBeGreaterThanOrEqual(2 * live);
    expect(before).toBeLessThan(2 * live);
    expect(gc.heapTotal()).toBe(live);
    expect(gc.checkChain()).toBe(4000);
  });

  it('runtime: memory stops growing once allocation is paced', () => {
    const pagesAfter = (cycles: number) => {
      for (let i = 0; i < cycles; i++) {
        gc.allocateGarbage(50, 300);
        gc.collectWhenDue();
      }
      return gc.memoryPages();
    };
    const warm = pagesAfter(200);
    expect(pagesAfter(5000)).toBe(warm);
  });
});

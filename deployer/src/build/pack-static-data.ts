/**
 * Post-link step: replaces the many small active data segments of an AssemblyScript module by
 * one compact blob (static-data-codec.ts) and a small function, called first thing in
 * `_initialize`, that unpacks it into the addresses the segments had.
 *
 * Why it is safe for Envoy's runtimes (V8, wasmtime, WAMR): the result uses only wasm MVP
 * instructions (byte loads/stores, loops) — no bulk-memory `memory.init` — plus one mutable
 * global, so it validates wherever the input did. proxy-wasm hosts call `_initialize` before any
 * other export (proxy-wasm-cpp-host src/wasm.cc: WasmBase::initialize → startVm; a VM cloned
 * as an already-instantiated module is not started again and inherits the unpacked memory),
 * and the AS start code that `_initialize` runs is the first reader of static data;
 * unpacking before it leaves linear memory exactly as the original segments would have.
 *
 * Layout: the blob is an active segment placed at the top of the initial memory, above every
 * other segment — memory that before the start code runs belongs to nobody (it becomes shadow
 * stack or heap later). The unpacker writes into the (zeroed) region the packed segments
 * covered, then zeroes the blob, so memory after unpacking equals the unpacked module's.
 */
import binaryen from 'binaryen';
import { encodeStaticData, MIN_MATCH } from './static-data-codec.js';

const PAGE = 65_536;
/** Segments closer than this are decoded as one region (the gap costs one byte per 64 zeros). */
const MAX_GAP = 1024;
const UNPACK_FUNCTION = 'wasmesh~unpack-static-data';
const UNPACKED_FLAG = 'wasmesh~static-data-unpacked';
const START_EXPORT = '_initialize';

/** Data-segment and function-body accessors of binaryen.js 1xx that its bundled typings predate. */
interface DataSegmentInfo { readonly name: string; readonly offset: number; readonly data: ArrayBuffer; readonly passive: boolean }
interface FunctionApi { readonly Function: { setBody(func: binaryen.FunctionRef, body: binaryen.ExpressionRef): void } }
interface DataSegmentModule {
  getNumDataSegments(): number;
  getDataSegmentByIndex(index: number): number;
  getDataSegmentInfo(segment: number): DataSegmentInfo;
}

export interface StaticSegment { readonly offset: number; readonly data: Uint8Array }

export interface PackStats {
  readonly segmentsBefore: number;
  readonly segmentsAfter: number;
  /** Bytes of the segments that were packed, and of their encoding. */
  readonly packedPayload: number;
  readonly encodedBytes: number;
}

export type PackResult =
  | { readonly packed: true; readonly bytes: Uint8Array; readonly stats: PackStats }
  | { readonly packed: false; readonly bytes: Uint8Array; readonly reason: string };

/** Active segments sorted by address, split into runs whose gaps are at most MAX_GAP bytes. */
export function clusterSegments(segments: readonly StaticSegment[]): StaticSegment[][] {
  const sorted = [...segments].sort((a, b) => a.offset - b.offset);
  const clusters: StaticSegment[][] = [];
  let end = -Infinity;
  for (const segment of sorted) {
    if (segment.offset < end) throw new Error(`data segment at ${segment.offset} overlaps the previous one (ends at ${end})`);
    if (segment.offset - end > MAX_GAP || clusters.length === 0) clusters.push([]);
    clusters[clusters.length - 1]!.push(segment);
    end = segment.offset + segment.data.length;
  }
  return clusters;
}

/** How many data segments a module has (for reports and tests). */
export function dataSegmentCount(bytes: Uint8Array): number {
  const module = binaryen.readBinary(bytes);
  try {
    return (module as unknown as DataSegmentModule).getNumDataSegments();
  } finally {
    module.dispose();
  }
}

const payloadOf = (cluster: readonly StaticSegment[]): number => cluster.reduce((sum, s) => sum + s.data.length, 0);

/**
 * Packs the module's static data when that makes it smaller; otherwise returns it unchanged with
 * the reason (a module this step does not understand is left alone, never half-rewritten).
 */
export function packStaticData(input: Uint8Array): PackResult {
  const module = binaryen.readBinary(input);
  try {
    const unchanged = (reason: string): PackResult => ({ packed: false, bytes: input, reason });
    // Everything binaryen knows; only lets the module validate what it already contained.
    module.setFeatures(binaryen.Features.All);
    if (!module.hasMemory()) return unchanged('the module has no memory');
    const memory = module.getMemoryInfo();
    if (memory.module) return unchanged(`its memory is imported (${memory.module}.${memory.base ?? ''})`);
    if (memory.is64 || memory.shared) return unchanged('its memory is 64-bit or shared');
    const startExport = module.getExport(START_EXPORT);
    if (!startExport) return unchanged(`it exports no ${START_EXPORT}`);
    const start = binaryen.getExportInfo(startExport);
    if (start.kind !== binaryen.ExternalFunction) return unchanged(`${START_EXPORT} is not a function`);
    const startFunction = module.getFunction(start.value);
    const startInfo = binaryen.getFunctionInfo(startFunction);
    if (startInfo.params !== binaryen.none || startInfo.results !== binaryen.none) return unchanged(`${START_EXPORT} is not () -> ()`);

    const segmentApi = module as unknown as DataSegmentModule;
    const count = segmentApi.getNumDataSegments();
    const segments: StaticSegment[] = [];
    for (let i = 0; i < count; i++) {
      const info = segmentApi.getDataSegmentInfo(segmentApi.getDataSegmentByIndex(i));
      if (info.passive) return unchanged('it has passive data segments');
      if (typeof info.offset !== 'number') return unchanged('a data segment offset is not a constant');
      segments.push({ offset: info.offset, data: new Uint8Array(info.data) });
    }
    if (segments.length < 2) return unchanged('it has fewer than two data segments');

    const clusters = clusterSegments(segments);
    const target = clusters.reduce((best, c) => (payloadOf(c) > payloadOf(best) ? c : best));
    const regionStart = target[0]!.offset;
    const last = target[target.length - 1]!;
    const region = new Uint8Array(last.offset + last.data.length - regionStart);
    for (const segment of target) region.set(segment.data, segment.offset - regionStart);
    const encoded = encodeStaticData(region);

    // The blob goes at the top of the initial memory, above every segment; grow the initial
    // size if it does not fit there (never past a declared maximum).
    const dataEnd = Math.max(...segments.map((s) => s.offset + s.data.length));
    let initialPages = memory.initial;
    const blobStart = (pages: number): number => (pages * PAGE - encoded.length) & ~7;
    while (blobStart(initialPages) < dataEnd) initialPages++;
    if (memory.max !== undefined && initialPages > memory.max) return unchanged(`the packed data does not fit below the memory maximum of ${memory.max} pages`);
    const blobAt = blobStart(initialPages);

    const kept = clusters.filter((c) => c !== target).flat();
    const newSegments = [
      ...kept.map((s) => ({ offset: module.i32.const(s.offset), data: s.data, passive: false })),
      { offset: module.i32.const(blobAt), data: encoded, passive: false },
    ];
    // setMemory replaces the memory (same internal name, so its export still points at it) and
    // all data segments at once.
    module.setMemory(initialPages, memory.max ?? -1, null, newSegments, false, false, memoryInternalName(module));

    addUnpacker(module, { blobAt, blobEnd: blobAt + encoded.length, regionStart });
    const body = binaryen.getFunctionInfo(startFunction).body;
    (binaryen as unknown as FunctionApi).Function.setBody(startFunction, module.block(null, [module.call(UNPACK_FUNCTION, [], binaryen.none), body], binaryen.none));

    if (!module.validate()) throw new Error('packing the static data produced an invalid module');
    const bytes = emitLikeTheCompiler(module);
    if (bytes.length >= input.length) return unchanged(`packing would not make it smaller (${bytes.length} ≥ ${input.length} bytes)`);
    return {
      packed: true,
      bytes,
      stats: { segmentsBefore: count, segmentsAfter: newSegments.length, packedPayload: payloadOf(target), encodedBytes: encoded.length },
    };
  } finally {
    module.dispose();
  }
}

/**
 * Emits the module the way asc does at -O3: through binaryen's optimized Stack IR. Reading a
 * binary into binaryen IR turns values left on the wasm stack into `scratch` locals; a plain
 * emit writes them back as local.set/local.get pairs (+394 bytes on jwt-auth, spread over small
 * hot getters such as String#charCodeAt), which Stack IR optimization folds back. The settings
 * are binaryen globals shared with the compiler, so they are restored afterwards.
 */
function emitLikeTheCompiler(module: binaryen.Module): Uint8Array {
  const saved = {
    optimizeLevel: binaryen.getOptimizeLevel(),
    shrinkLevel: binaryen.getShrinkLevel(),
    generateStackIR: binaryen.getGenerateStackIR(),
    optimizeStackIR: binaryen.getOptimizeStackIR(),
  };
  try {
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(0);
    binaryen.setGenerateStackIR(true);
    binaryen.setOptimizeStackIR(true);
    return module.emitBinary();
  } finally {
    binaryen.setOptimizeLevel(saved.optimizeLevel);
    binaryen.setShrinkLevel(saved.shrinkLevel);
    binaryen.setGenerateStackIR(saved.generateStackIR);
    binaryen.setOptimizeStackIR(saved.optimizeStackIR);
  }
}

/** The internal name of the exported memory; binaryen names an unexported one "0". */
function memoryInternalName(module: binaryen.Module): string {
  for (let i = 0; i < module.getNumExports(); i++) {
    const info = binaryen.getExportInfo(module.getExportByIndex(i));
    if (info.kind === binaryen.ExternalMemory) return info.value;
  }
  return '0';
}

interface UnpackerLayout { readonly blobAt: number; readonly blobEnd: number; readonly regionStart: number }

/**
 * Adds the unpacker, the wasm twin of decodeStaticData: a zeros token advances the output; the
 * other tokens copy `count` bytes one by one from `from` — the blob for literal and widen (output
 * stride 1 or 2), earlier output for a match. A flag makes a second `_initialize` call a no-op
 * (the blob is scrubbed by then; decoding it again would overwrite the data).
 */
function addUnpacker(module: binaryen.Module, layout: UnpackerLayout): void {
  const { i32 } = module;
  const SRC = 0;
  const OUT = 1;
  const TOKEN = 2;
  const FROM = 3;
  const COUNT = 4;
  const STRIDE = 5;
  const get = (index: number): binaryen.ExpressionRef => module.local.get(index, binaryen.i32);
  const set = (index: number, value: binaryen.ExpressionRef): binaryen.ExpressionRef => module.local.set(index, value);
  const add = (index: number, by: binaryen.ExpressionRef): binaryen.ExpressionRef => set(index, i32.add(get(index), by));
  const constant = (value: number): binaryen.ExpressionRef => i32.const(value);
  module.addGlobal(UNPACKED_FLAG, binaryen.i32, true, constant(0));
  // 111xxxxx lo hi: count = x + 4, copied from `distance` bytes back in the output.
  const match = module.block(null, [
    set(COUNT, i32.add(i32.and(get(TOKEN), constant(0x1f)), constant(MIN_MATCH))),
    set(FROM, i32.sub(get(OUT), i32.load16_u(0, 1, get(SRC)))),
    add(SRC, constant(2)),
    set(STRIDE, constant(1)),
  ]);
  // 0xxxxxxx: count = x + 1, stride 1; 110xxxxx: count = x + 1, stride 2. `wide` (0 or 1) picks
  // the 7- or 5-bit count mask (0x7f >> 2·wide) and the stride (1 + wide).
  const wide = i32.ge_u(get(TOKEN), constant(0xc0));
  const inline = module.block(null, [
    set(STRIDE, i32.add(wide, constant(1))),
    set(COUNT, i32.add(i32.and(get(TOKEN), i32.shr_u(constant(0x7f), i32.shl(i32.sub(get(STRIDE), constant(1)), constant(1)))), constant(1))),
    set(FROM, get(SRC)),
    add(SRC, get(COUNT)),
  ]);
  const copy = module.block(null, [
    module.if(i32.ge_u(get(TOKEN), constant(0xe0)), match, inline),
    module.loop('copy', module.block(null, [
      i32.store8(0, 1, get(OUT), i32.load8_u(0, 1, get(FROM))),
      add(FROM, constant(1)),
      add(OUT, get(STRIDE)),
      set(COUNT, i32.sub(get(COUNT), constant(1))),
      module.br('copy', get(COUNT)),
    ])),
  ]);
  const body = module.block(null, [
    module.if(module.global.get(UNPACKED_FLAG, binaryen.i32), module.return()),
    module.global.set(UNPACKED_FLAG, constant(1)),
    set(SRC, constant(layout.blobAt)),
    set(OUT, constant(layout.regionStart)),
    module.loop('token', module.block(null, [
      set(TOKEN, i32.load8_u(0, 1, get(SRC))),
      add(SRC, constant(1)),
      module.if(
        // 10xxxxxx: skip x + 1 zero bytes.
        i32.eq(i32.shr_u(get(TOKEN), constant(6)), constant(2)),
        add(OUT, i32.add(i32.and(get(TOKEN), constant(0x3f)), constant(1))),
        copy,
      ),
      module.br('token', i32.lt_u(get(SRC), constant(layout.blobEnd))),
    ])),
    // Scrub the blob: that memory becomes stack or heap, which the unpacked module starts with zeroed.
    set(SRC, constant(layout.blobAt)),
    module.loop('scrub', module.block(null, [
      i32.store8(0, 1, get(SRC), constant(0)),
      add(SRC, constant(1)),
      module.br('scrub', i32.lt_u(get(SRC), constant(layout.blobEnd))),
    ])),
  ]);
  module.addFunction(UNPACK_FUNCTION, binaryen.none, binaryen.none, new Array<binaryen.Type>(6).fill(binaryen.i32), body);
}

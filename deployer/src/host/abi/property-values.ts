/**
 * Values of stream attributes, serialized as Envoy does (envoy:context.cc serializeValue):
 * integers as 8 bytes little-endian, booleans as 1 byte. Shared by the generic path walk
 * (properties.ts) and the per-path resolvers (property-fast-paths.ts).
 *
 * Integers are written into one scratch buffer instead of a new Uint8Array per call: every
 * value a resolver answers is copied into module memory before the next lookup, so nothing
 * holds the scratch across calls. Callers that keep a value (the per-connection cache, the
 * exported getProperty) take `owned(value)`.
 */
import type { HeaderList } from '../api.js';
import type { StreamFacts } from '../context.js';
import type { WasmVm } from '../vm.js';
import { writeU32 } from './utf8.js';

const SCRATCH = new Uint8Array(8);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);
const TRUE = Uint8Array.of(1);
const FALSE = Uint8Array.of(0);
const TWO_32 = 2 ** 32;

/** 8 bytes little-endian in the scratch buffer; safe non-negative integers skip BigInt. */
export function eightBytes(n: number | bigint, signed: boolean): Uint8Array {
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) {
    writeU32(SCRATCH, 0, n % TWO_32);
    writeU32(SCRATCH, 4, Math.floor(n / TWO_32));
  } else if (signed) {
    SCRATCH_VIEW.setBigInt64(0, typeof n === 'bigint' ? n : BigInt(n), true);
  } else {
    SCRATCH_VIEW.setBigUint64(0, typeof n === 'bigint' ? n : BigInt(n), true);
  }
  return SCRATCH;
}

export function boolBytes(b: boolean): Uint8Array {
  return b ? TRUE : FALSE;
}

/**
 * A resolved value into module memory: the integer scratch by two u32 stores straight into
 * the allocated block (no byte copy), any other bytes as they are.
 */
export function copyBytesOut(vm: WasmVm, bytes: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
  if (bytes === SCRATCH) return vm.copyU64ToPointerSize(SCRATCH_VIEW.getUint32(0, true), SCRATCH_VIEW.getUint32(4, true), ptrPtr, sizePtr);
  return vm.copyToPointerSize(bytes, ptrPtr, sizePtr);
}

/** A value safe to keep past the next lookup (the scratch buffer copied, shared constants as they are). */
export function owned<T>(value: T): T {
  return (value === SCRATCH ? SCRATCH.slice() : value) as T;
}

export function joinedHeader(pairs: HeaderList, name: string): string | undefined {
  let joined: string | undefined;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    if (pair[0] === name) joined = joined === undefined ? pair[1] : `${joined},${pair[1]}`;
  }
  return joined;
}

export function headerBytes(pairs: HeaderList): number {
  let n = 0;
  for (let i = 0; i < pairs.length; i++) n += pairs[i]![0].length + pairs[i]![1].length;
  return n;
}

export function startNanos(f: StreamFacts): bigint {
  return BigInt((f.info.startTime ?? new Date()).getTime()) * 1_000_000n;
}

/** request.duration in ns; undefined until the stream completed. */
export function durationNanos(f: StreamFacts): bigint | undefined {
  const end = f.completedAtNanos;
  return end === undefined ? undefined : end - startNanos(f);
}

export function responseCode(f: StreamFacts): number | undefined {
  if (f.completion !== undefined) return f.completion.responseCode;
  if (f.localReply !== undefined) return f.localReply.status;
  const status = f.responseHeaders === undefined ? undefined : joinedHeader(f.responseHeaders, ':status');
  return status === undefined ? undefined : Number(status);
}

/** Envoy's ResponseFlag bits (envoy/stream_info/stream_info.h), by their access-log short codes. */
const RESPONSE_FLAG_BITS: Readonly<Record<string, number>> = {
  LH: 0x1, UH: 0x2, UT: 0x4, LR: 0x8, UR: 0x10, UF: 0x20, UC: 0x40, UO: 0x80, NR: 0x100, DI: 0x200, FI: 0x400,
  RL: 0x800, UAEX: 0x1000, RLSE: 0x2000, DC: 0x4000, URX: 0x8000, SI: 0x10000, IH: 0x20000, DPE: 0x40000,
};

/** Bits of a flags text (`-`, `UF,URX`), remembered per text: streams repeat a handful of them. */
const flagBits = new Map<string, number>();
export function responseFlagBits(f: StreamFacts): number {
  if (f.completion === undefined) return 0;
  const text = f.completion.responseFlags;
  let bits = flagBits.get(text);
  if (bits === undefined) {
    bits = 0;
    for (const flag of text.split(',')) bits |= RESPONSE_FLAG_BITS[flag] ?? 0;
    if (flagBits.size < 256) flagBits.set(text, bits);
  }
  return bits;
}

/**
 * Envoy's grpc_status without a grpc-status header or trailer: mapped from the HTTP status
 * (source/common/grpc/common.cc getGrpcStatus → utility.cc httpToGrpcStatus).
 */
function grpcStatusOfHttp(code: number): number {
  switch (code) {
    case 400: return 13; // INTERNAL
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 12; // UNIMPLEMENTED
    case 429: case 502: case 503: case 504: return 14; // UNAVAILABLE
    default: return 2; // UNKNOWN
  }
}

/** response.grpc_status: trailer, then header, then mapped from the HTTP status; undefined without a response. */
export function grpcStatus(f: StreamFacts): number | undefined {
  const v = (f.responseTrailers && joinedHeader(f.responseTrailers, 'grpc-status')) ?? (f.responseHeaders && joinedHeader(f.responseHeaders, 'grpc-status'));
  if (v !== undefined) return Number(v);
  const code = responseCode(f);
  return code === undefined || code <= 0 ? undefined : grpcStatusOfHttp(code);
}

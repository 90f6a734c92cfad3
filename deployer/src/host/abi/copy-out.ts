/**
 * Values handed to the module the way cpp-host WasmBase::copyToPointerSize does (allocate in
 * the module, copy, write pointer and size; an empty value is ptr 0, size 0 without
 * allocating), but written straight into module memory: no intermediate Uint8Array per
 * header map or per string on the per-request path.
 */
import type { HeaderList } from '../api.js';
import type { WasmVm } from '../vm.js';
import { measurePairs, writePairs } from './pairs.js';

/** Allocates `size` bytes and stores (ptr, size): the pointer to fill, -1 for an empty value, undefined on a fault. */
function reserve(vm: WasmVm, size: number, ptrPtr: number, sizePtr: number): number | undefined {
  if (size === 0) return vm.setPointerSize(ptrPtr, sizePtr, 0, 0) ? -1 : undefined;
  const ptr = vm.reserve(size, ptrPtr, sizePtr);
  return ptr === 0 ? undefined : ptr;
}

/** Serialized header map (pairs.ts format) into module memory; false on a memory fault. */
export function copyPairsOut(vm: WasmVm, pairs: HeaderList, ptrPtr: number, sizePtr: number): boolean {
  // Envoy hands an empty map over as size 0 (SDKs treat it as no headers).
  if (pairs.length === 0) return reserve(vm, 0, ptrPtr, sizePtr) !== undefined;
  const measured = measurePairs(pairs);
  const ptr = reserve(vm, measured.size, ptrPtr, sizePtr);
  if (ptr === undefined) return false;
  writePairs(measured, vm.memoryBytes(), ptr);
  return true;
}

/**
 * An already serialized header map (a stream's cached serialization); null (map not available
 * now) or an empty map is handed over as ptr 0 / size 0, as copyPairsOut does.
 */
export function copySerializedPairsOut(vm: WasmVm, serialized: Uint8Array | null, ptrPtr: number, sizePtr: number): boolean {
  if (serialized === null || serialized.length <= EMPTY_PAIRS_SIZE) return reserve(vm, 0, ptrPtr, sizePtr) !== undefined;
  return vm.copyToPointerSize(serialized, ptrPtr, sizePtr);
}

/** Serialized size of a map without pairs (just the u32 count). */
const EMPTY_PAIRS_SIZE = 4;

const encoder = new TextEncoder();

/** Strings up to this length are checked and written by JS loops; longer ones by native Buffer code. */
const SHORT_STRING_MAX = 32;
/** Longer values are never kept in the encoded-values cache (bounds its memory at 32 × 16 KiB). */
const CACHED_VALUE_MAX = 16 * 1024;
const SLOTS = 32;

/**
 * Encodings of the long values handed out again and again: Istio's `x-envoy-peer-metadata`
 * (≈ 1 KB of base64 read on every request from the same peers), its `-id`, a repeated host or
 * bearer token. A hit is an `===` compare (a pointer compare for the same string object, a
 * native memcmp for an equal one) and a memcpy into module memory; no UTF-8 measuring or
 * encoding. Slots are picked by length and a value is admitted on its second sight in a row,
 * so values that never repeat (request ids) cost only the compare and are not copied.
 */
const cachedStrings: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
const cachedBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
const candidates: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

/**
 * Buffer's native writers at an offset, without the encoding switch of Buffer#write. Both
 * exist on every Node Buffer (lib/buffer.js); utf8Write replaces lone surrogates with U+FFFD
 * exactly as TextEncoder does, and Buffer.byteLength counts them as its 3 bytes.
 */
interface NativeWriters {
  latin1Write(value: string, offset: number, length: number): number;
  utf8Write(value: string, offset: number, length: number): number;
}

/** A string as UTF-8 into module memory; false on a memory fault. */
export function copyStringOut(vm: WasmVm, value: string, ptrPtr: number, sizePtr: number): boolean {
  const length = value.length;
  if (length === 0) return vm.setPointerSize(ptrPtr, sizePtr, 0, 0);
  if (length <= SHORT_STRING_MAX) return copyShortStringOut(vm, value, ptrPtr, sizePtr);
  const slot = length & (SLOTS - 1);
  if (cachedStrings[slot] === value) return vm.copyToPointerSize(cachedBytes[slot]!, ptrPtr, sizePtr);
  // All-ASCII exactly when the UTF-8 length equals the UTF-16 length (every other unit takes 2–3 bytes).
  const size = Buffer.byteLength(value, 'utf8');
  const ptr = vm.reserve(size, ptrPtr, sizePtr);
  if (ptr === 0) return false;
  const memory = vm.memoryBuffer() as Buffer & NativeWriters;
  if (size === length) memory.latin1Write(value, ptr, size);
  else memory.utf8Write(value, ptr, size);
  if (size <= CACHED_VALUE_MAX) {
    if (candidates[slot] === value) {
      cachedStrings[slot] = value;
      // A copy (Uint8Array#slice): Buffer#slice would be a view of module memory.
      cachedBytes[slot] = vm.memoryBytes().slice(ptr, ptr + size);
      candidates[slot] = undefined;
    } else {
      candidates[slot] = value;
    }
  }
  return true;
}

/** Short strings: checked for ASCII and written by loops, cheaper than any native call at this size. */
function copyShortStringOut(vm: WasmVm, value: string, ptrPtr: number, sizePtr: number): boolean {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    if (value.charCodeAt(i) > 0x7f) return vm.copyToPointerSize(encoder.encode(value), ptrPtr, sizePtr);
  }
  const ptr = vm.reserve(length, ptrPtr, sizePtr);
  if (ptr === 0) return false;
  const memory = vm.memoryBytes();
  for (let i = 0; i < length; i++) memory[ptr + i] = value.charCodeAt(i);
  return true;
}

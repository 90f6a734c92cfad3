/**
 * Values handed to the module the way cpp-host WasmBase::copyToPointerSize does (allocate in
 * the module, copy, write pointer and size; an empty value is ptr 0, size 0 without
 * allocating), but written straight into module memory: no intermediate Uint8Array per
 * header map or per string on the per-request path.
 */
import type { HeaderList } from '../api.js';
import type { WasmVm } from '../vm.js';
import { measurePairs, writePairs } from './pairs.js';
import { nonAsciiBytes, writeAscii } from './utf8.js';

/** Allocates `size` bytes and stores (ptr, size): the pointer to fill, -1 for an empty value, undefined on a fault. */
function reserve(vm: WasmVm, size: number, ptrPtr: number, sizePtr: number): number | undefined {
  if (size === 0) return vm.setU32(ptrPtr, 0) && vm.setU32(sizePtr, 0) ? -1 : undefined;
  const ptr = vm.allocate(size);
  if (ptr === 0 || !vm.inBounds(ptr, size)) return undefined;
  return vm.setU32(ptrPtr, ptr) && vm.setU32(sizePtr, size) ? ptr : undefined;
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

/** A string as UTF-8 into module memory; false on a memory fault. */
export function copyStringOut(vm: WasmVm, value: string, ptrPtr: number, sizePtr: number): boolean {
  const bytes = nonAsciiBytes(value);
  if (bytes !== undefined) return vm.copyToPointerSize(bytes, ptrPtr, sizePtr);
  const ptr = reserve(vm, value.length, ptrPtr, sizePtr);
  if (ptr === undefined) return false;
  if (ptr >= 0) writeAscii(vm.memoryBytes(), ptr, value);
  return true;
}

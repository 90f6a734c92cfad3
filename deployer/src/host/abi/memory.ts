/** Small helpers shared by the ABI groups: reading strings/bytes from module memory. */
import type { WasmVm } from '../vm.js';
import { decodeMostlyAscii } from './utf8.js';

const decoder = new TextDecoder();

/**
 * UTF-8 string at (ptr, size), or undefined when out of bounds (→ InvalidMemoryAccess).
 * Header names and short values are ASCII: those skip TextDecoder (utf8.ts decodeMostlyAscii,
 * which falls back to it for any non-ASCII byte, so the result is the same).
 */
export function readString(vm: WasmVm, ptr: number, size: number): string | undefined {
  const bytes = vm.bytes(ptr, size);
  return bytes === undefined ? undefined : decodeMostlyAscii(bytes, decoder);
}

export function u32(value: number): number {
  return value >>> 0;
}

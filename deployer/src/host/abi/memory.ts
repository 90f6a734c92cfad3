/** Small helpers shared by the ABI groups: reading strings/bytes from module memory. */
import type { WasmVm } from '../vm.js';

const decoder = new TextDecoder();

/** UTF-8 string at (ptr, size), or undefined when out of bounds (→ InvalidMemoryAccess). */
export function readString(vm: WasmVm, ptr: number, size: number): string | undefined {
  const bytes = vm.bytes(ptr, size);
  return bytes === undefined ? undefined : decoder.decode(bytes);
}

export function u32(value: number): number {
  return value >>> 0;
}

/**
 * Strings read from module memory, remembered by (address, length) and reused while the bytes
 * there are unchanged. Modules pass header names and the values they send on every request
 * from buffers that live as long as the VM (a filter's constants: `x-envoy-peer-metadata` and
 * its ~1 KB base64 value, sent on every request by the metrics filter), so decoding them again
 * on every call is wasted work. A hit compares the bytes in place (natively for long values)
 * and allocates nothing beyond that view; a miss decodes as readString does. Bounded: a
 * module reading ever-new buffers just misses.
 */
import type { WasmVm } from '../vm.js';
import { decodeMostlyAscii } from './utf8.js';

const MAX_ENTRIES = 64;
const MAX_LENGTH = 16 * 1024;
/** Above this length the comparison is native (Buffer.equals); below it a JS loop is cheaper. */
const NATIVE_COMPARE_MIN = 48;

interface Entry {
  readonly bytes: Buffer;
  readonly text: string;
}

export class StringCache {
  private readonly entries = new Map<number, Entry>();
  private readonly decoder = new TextDecoder();

  /** `vm` is asked on each read: import objects are built before the module is instantiated. */
  constructor(private readonly vm: () => WasmVm) {}

  /** The UTF-8 string at (ptr, size); undefined when out of bounds. */
  read(ptr: number, size: number): string | undefined {
    ptr >>>= 0;
    size >>>= 0;
    const memory = this.vm().memoryBytes();
    if (ptr + size > memory.length) return undefined;
    if (size > MAX_LENGTH) return this.decoder.decode(memory.subarray(ptr, ptr + size));
    const key = ptr * MAX_LENGTH + size;
    const entry = this.entries.get(key);
    if (entry !== undefined && sameBytes(entry.bytes, memory, ptr, size)) return entry.text;
    const bytes = Buffer.from(memory.slice(ptr, ptr + size).buffer);
    const text = decodeMostlyAscii(bytes, this.decoder);
    if (entry !== undefined || this.entries.size < MAX_ENTRIES) this.entries.set(key, { bytes, text });
    return text;
  }
}

function sameBytes(bytes: Buffer, memory: Uint8Array, ptr: number, size: number): boolean {
  if (size >= NATIVE_COMPARE_MIN) return bytes.equals(Buffer.from(memory.buffer, memory.byteOffset + ptr, size));
  for (let i = 0; i < size; i++) if (bytes[i] !== memory[ptr + i]) return false;
  return true;
}

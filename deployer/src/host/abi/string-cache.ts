/**
 * Strings read from module memory, remembered by address and reused while the bytes there
 * are unchanged. Modules pass header names and the values they send on every request from
 * buffers that live as long as the VM (a filter's constants: `x-envoy-peer-metadata` and its
 * ~1 KB base64 value, sent on every request by the metrics filter), so decoding them again on
 * every call is wasted work. A hit compares the bytes in place (natively for long values,
 * against the module memory's Buffer view: nothing is allocated) and answers the same string
 * object, and for header names the same lower-cased one (Envoy's Http::LowerCaseString), so
 * map lookups compare known strings. A miss decodes as readString does. Bounded: a module
 * reading ever-new buffers just misses (address-table.ts).
 */
import type { WasmVm } from '../vm.js';
import { decodeMostlyAscii } from './utf8.js';
import { AddressTable, KnownBytes } from './address-table.js';

const SLOTS = 64;
const MAX_LENGTH = 16 * 1024;
/**
 * From this length the comparison is native (Buffer#compare on a range, ≈ 200 ns whatever the
 * length up to a few KB); below it aligned word compares are cheaper (≈ 0.6 ns per word).
 */
const NATIVE_COMPARE_MIN = 256;

interface Entry {
  readonly ptr: number;
  readonly size: number;
  readonly known: KnownBytes;
  /** The same bytes as a Buffer, for the native compare of long values. */
  readonly bytes: Buffer;
  readonly text: string;
  lower: string | undefined;
}

export class StringCache {
  private readonly entries = new AddressTable<Entry>(SLOTS);
  private readonly decoder = new TextDecoder();

  /** `vm` is asked on each read: import objects are built before the module is instantiated. */
  constructor(private readonly vm: () => WasmVm) {}

  /** The UTF-8 string at (ptr, size); undefined when out of bounds. */
  read(ptr: number, size: number): string | undefined {
    return this.entry(ptr, size)?.text;
  }

  /** The same string lower-cased (header names), remembered with the entry. */
  readLower(ptr: number, size: number): string | undefined {
    const entry = this.entry(ptr, size);
    if (entry === undefined) return undefined;
    return (entry.lower ??= entry.text.toLowerCase());
  }

  private entry(ptr: number, size: number): Entry | undefined {
    ptr >>>= 0;
    size >>>= 0;
    const vm = this.vm();
    const view = vm.memoryView();
    if (ptr + size > view.byteLength) return undefined;
    if (size > MAX_LENGTH) return fresh(view, ptr, size, this.decoder);
    const entry = this.entries.get(ptr);
    if (entry !== undefined && entry.size === size) {
      if (size >= NATIVE_COMPARE_MIN ? entry.bytes.compare(vm.memoryBuffer(), ptr, ptr + size) === 0 : entry.known.at(view, ptr, vm.memoryWords())) return entry;
    }
    const created = fresh(view, ptr, size, this.decoder);
    this.entries.set(created);
    return created;
  }
}

function fresh(memory: DataView, ptr: number, size: number, decoder: TextDecoder): Entry {
  const known = new KnownBytes(memory, ptr, size);
  const bytes = Buffer.from(known.bytes.buffer, 0, size);
  return { ptr, size, known, bytes, text: decodeMostlyAscii(bytes, decoder), lower: undefined };
}

/**
 * A direct-mapped table of things decoded from module memory, by the address they were read
 * from (property paths, header names, the values a module sends on every request). SDKs pass
 * these from buffers that live as long as the VM, so the same few addresses come back on
 * every call; the caller still compares the bytes before trusting an entry, since the module
 * may have reused the buffer.
 *
 * Why not a Map: a lookup here is one array load and an integer compare, a Map.get by number
 * several times that, and it ran several times per proxy_get_property / header call. Bounded
 * by construction: an address whose slot is taken replaces the entry (the evicted one is
 * decoded again when it comes back), so a module building buffers on the fly costs only misses.
 */
export interface AddressEntry {
  readonly ptr: number;
}

export class AddressTable<E extends AddressEntry> {
  private readonly slots: (E | undefined)[];
  private readonly mask: number;

  /** `size`: number of slots, a power of two. */
  constructor(size: number) {
    this.slots = new Array<E | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  /** The entry last stored for `ptr`, if its slot still holds it (the caller compares the bytes). */
  get(ptr: number): E | undefined {
    const entry = this.slots[slotOf(ptr) & this.mask];
    return entry !== undefined && entry.ptr === ptr ? entry : undefined;
  }

  set(entry: E): void {
    this.slots[slotOf(entry.ptr) & this.mask] = entry;
  }
}

/**
 * Module allocators align to 8 or 16 bytes, and constants sit side by side in the data
 * segment: dropping the low bits spreads neighbouring buffers over neighbouring slots.
 */
function slotOf(ptr: number): number {
  return (ptr >>> 3) ^ (ptr >>> 13);
}

/**
 * Bytes copied out of module memory, compared against memory later a 32-bit word at a time:
 * several times cheaper than a byte loop for the 10–100 byte names, paths and values the
 * tables hold, and below a few hundred bytes cheaper than a native compare, whose fixed cost
 * (≈ 200 ns for Buffer#compare on a range) is larger. Where the address is 4-byte aligned — SDK
 * allocators hand out 8- or 16-byte aligned blocks, so nearly always — the words are read
 * through Int32Arrays, whose element loads TurboFan inlines (about twice as fast as DataView
 * getInt32 in node 20); otherwise through DataViews.
 */
export class KnownBytes {
  readonly bytes: Uint8Array;
  /** The bytes' whole words (the copy is padded to a multiple of 4: trailing bytes are compared one by one). */
  private readonly words: Int32Array;
  private readonly view: DataView;

  constructor(memory: DataView, start: number, length: number) {
    const padded = new Uint8Array((length + 3) & ~3);
    padded.set(new Uint8Array(memory.buffer, memory.byteOffset + start, length));
    this.bytes = padded.subarray(0, length);
    this.words = new Int32Array(padded.buffer, 0, length >>> 2);
    this.view = new DataView(padded.buffer);
  }

  get length(): number {
    return this.bytes.length;
  }

  /**
   * Whether `memory` holds these bytes at `start` (the caller checked that the range fits).
   * `memoryWords`: the same memory as an Int32Array from offset 0 (WasmVm.memoryWords), for the
   * aligned fast path.
   */
  at(memory: DataView, start: number, memoryWords?: Int32Array): boolean {
    const n = this.bytes.length;
    let i = 0;
    if (memoryWords !== undefined && (start & 3) === 0) {
      const words = this.words;
      const base = start >>> 2;
      const count = words.length;
      for (let w = 0; w < count; w++) if (words[w] !== memoryWords[base + w]) return false;
      i = count << 2;
    } else {
      const view = this.view;
      for (; i + 4 <= n; i += 4) if (view.getInt32(i) !== memory.getInt32(start + i)) return false;
    }
    const bytes = this.bytes;
    for (; i < n; i++) if (bytes[i] !== memory.getUint8(start + i)) return false;
    return true;
  }
}

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
 * tables hold (≈ 1 ns per byte compared one by one), and below ~128 bytes cheaper than a
 * native compare, whose fixed cost is larger.
 */
export class KnownBytes {
  readonly bytes: Uint8Array;
  private readonly words: DataView;

  constructor(memory: DataView, start: number, length: number) {
    this.bytes = new Uint8Array(memory.buffer, memory.byteOffset + start, length).slice();
    this.words = new DataView(this.bytes.buffer);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Whether `memory` holds these bytes at `start` (the caller checked that the range fits). */
  at(memory: DataView, start: number): boolean {
    const words = this.words;
    const n = this.bytes.length;
    let i = 0;
    for (; i + 4 <= n; i += 4) if (words.getInt32(i) !== memory.getInt32(start + i)) return false;
    for (; i < n; i++) if (words.getUint8(i) !== memory.getUint8(start + i)) return false;
    return true;
  }
}

/**
 * google.protobuf.Struct on the wire (protobuf binary encoding), just what the metadata exchange
 * needs: read the string and nested-struct members of node metadata, and write a Struct with
 * selected members in deterministic order (map keys sorted, as Istio's
 * serializeToStringDeterministic does: istio/proxy extensions/metadata_exchange/plugin.cc).
 *
 *   Struct { map<string, Value> fields = 1; }  — each entry: { string key = 1; Value value = 2; }
 *   Value  { oneof kind: null_value = 1 (varint), number_value = 2 (fixed64), string_value = 3,
 *            bool_value = 4 (varint), struct_value = 5, list_value = 6 }
 *
 * Hand-written rather than a protobuf library: a few hundred bytes of wasm instead of a runtime.
 */

const WIRE_VARINT: u32 = 0;
const WIRE_FIXED64: u32 = 1;
const WIRE_BYTES: u32 = 2;
const WIRE_FIXED32: u32 = 5;

/** One member of a Struct: its key and the bounds of its encoded Value inside `bytes`. */
export class StructEntry {
  constructor(
    readonly key: string,
    /** The whole map entry (tag of field 1 excluded): re-emitted as-is when kept. */
    readonly entryStart: i32,
    readonly entryEnd: i32,
    readonly valueStart: i32,
    readonly valueEnd: i32,
  ) {}
}

class Reader {
  pos: i32;
  ok: bool = true;
  constructor(readonly bytes: Uint8Array, start: i32, readonly end: i32) { this.pos = start; }

  varint(): u64 {
    let result: u64 = 0;
    let shift: u64 = 0;
    while (this.pos < this.end && shift < 64) {
      const b = <u64>this.bytes[this.pos++];
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) return result;
      shift += 7;
    }
    this.ok = false;
    return 0;
  }

  /** Skips a field of `wire` type; false on a malformed or unknown wire type. */
  skip(wire: u32): bool {
    if (wire == WIRE_VARINT) this.varint();
    else if (wire == WIRE_FIXED64) this.pos += 8;
    else if (wire == WIRE_FIXED32) this.pos += 4;
    else if (wire == WIRE_BYTES) this.pos += <i32>this.varint();
    else this.ok = false;
    if (this.pos > this.end) this.ok = false;
    return this.ok;
  }

  /** Length of a length-delimited field; -1 when it overruns. */
  length(): i32 {
    const n = this.varint();
    if (!this.ok || n > <u64>(this.end - this.pos)) { this.ok = false; return -1; }
    return <i32>n;
  }
}

function decodeUtf8(bytes: Uint8Array, start: i32, end: i32): string {
  return String.UTF8.decodeUnsafe(bytes.dataStart + <usize>start, <usize>(end - start));
}

/** The members of the Struct encoded in bytes[start, end); null when malformed. */
export function structEntries(bytes: Uint8Array, start: i32, end: i32): Array<StructEntry> | null {
  const out = new Array<StructEntry>();
  const r = new Reader(bytes, start, end);
  while (r.pos < end) {
    const tag = <u32>r.varint();
    if (!r.ok) return null;
    if (tag >> 3 != 1 || (tag & 7) != WIRE_BYTES) {
      if (!r.skip(tag & 7)) return null;
      continue;
    }
    const length = r.length();
    if (length < 0) return null;
    const entryStart = r.pos;
    const entryEnd = r.pos + length;
    const e = new Reader(bytes, entryStart, entryEnd);
    let key = "";
    let valueStart = -1;
    let valueEnd = -1;
    while (e.pos < entryEnd) {
      const t = <u32>e.varint();
      if (!e.ok) return null;
      if ((t & 7) == WIRE_BYTES && (t >> 3 == 1 || t >> 3 == 2)) {
        const n = e.length();
        if (n < 0) return null;
        if (t >> 3 == 1) key = decodeUtf8(bytes, e.pos, e.pos + n);
        else { valueStart = e.pos; valueEnd = e.pos + n; }
        e.pos += n;
      } else if (!e.skip(t & 7)) {
        return null;
      }
    }
    out.push(new StructEntry(key, entryStart, entryEnd, valueStart, valueEnd));
    r.pos = entryEnd;
  }
  return out;
}

/** The string_value of the Value in bytes[start, end); null for another kind. */
export function valueString(bytes: Uint8Array, start: i32, end: i32): string | null {
  if (start < 0) return null;
  const r = new Reader(bytes, start, end);
  let found: string | null = null;
  while (r.pos < end) {
    const tag = <u32>r.varint();
    if (!r.ok) return null;
    if (tag == ((3 << 3) | WIRE_BYTES)) {
      const n = r.length();
      if (n < 0) return null;
      found = decodeUtf8(bytes, r.pos, r.pos + n);
      r.pos += n;
    } else if (!r.skip(tag & 7)) {
      return null;
    }
  }
  return found;
}

/** Bounds [start, end) of the struct_value inside the Value in bytes[start, end); null otherwise. */
export function valueStruct(bytes: Uint8Array, start: i32, end: i32): StaticArray<i32> | null {
  if (start < 0) return null;
  const r = new Reader(bytes, start, end);
  while (r.pos < end) {
    const tag = <u32>r.varint();
    if (!r.ok) return null;
    if (tag == ((5 << 3) | WIRE_BYTES)) {
      const n = r.length();
      if (n < 0) return null;
      const bounds = new StaticArray<i32>(2);
      bounds[0] = r.pos;
      bounds[1] = r.pos + n;
      return bounds;
    }
    if (!r.skip(tag & 7)) return null;
  }
  return null;
}

class ByteWriter {
  out: Array<u8> = new Array();
  varint(v: u64): void {
    while (v >= 0x80) { this.out.push(<u8>(v | 0x80)); v >>= 7; }
    this.out.push(<u8>v);
  }
  raw(bytes: Uint8Array, start: i32, end: i32): void {
    for (let i = start; i < end; i++) this.out.push(bytes[i]);
  }
  bytes(): Uint8Array {
    const n = this.out.length;
    const result = new Uint8Array(n);
    for (let i = 0; i < n; i++) result[i] = this.out[i];
    return result;
  }
}

function sortEntries(entries: Array<StructEntry>): void {
  entries.sort((a: StructEntry, b: StructEntry): i32 => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The Struct in bytes[start, end) re-encoded with only the members named in `keep` (all when
 * empty), members sorted by key at every level of nested structs. Null when malformed.
 */
export function canonicalStruct(bytes: Uint8Array, start: i32, end: i32, keep: Array<string>): Uint8Array | null {
  const w = new ByteWriter();
  return writeStruct(w, bytes, start, end, keep) ? w.bytes() : null;
}

function writeStruct(w: ByteWriter, bytes: Uint8Array, start: i32, end: i32, keep: Array<string>): bool {
  const entries = structEntries(bytes, start, end);
  if (entries === null) return false;
  sortEntries(entries);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (keep.length > 0 && !keep.includes(entry.key)) continue;
    const nested = valueStruct(bytes, entry.valueStart, entry.valueEnd);
    if (nested === null) {
      w.varint((1 << 3) | WIRE_BYTES);
      w.varint(<u64>(entry.entryEnd - entry.entryStart));
      w.raw(bytes, entry.entryStart, entry.entryEnd);
      continue;
    }
    // A nested struct: encoded on its own first (its length prefixes the entry).
    const inner = new ByteWriter();
    if (!writeStruct(inner, bytes, nested[0], nested[1], new Array<string>())) return false;
    const structBytes = inner.out.length;
    const keyBytes = String.UTF8.byteLength(entry.key);
    const valueLength = 1 + varintSize(<u64>structBytes) + structBytes;
    const entryLength = 1 + varintSize(<u64>keyBytes) + keyBytes + 1 + varintSize(<u64>valueLength) + valueLength;
    w.varint((1 << 3) | WIRE_BYTES);
    w.varint(<u64>entryLength);
    w.varint((1 << 3) | WIRE_BYTES);
    w.varint(<u64>keyBytes);
    const key = Uint8Array.wrap(String.UTF8.encode(entry.key));
    w.raw(key, 0, key.length);
    w.varint((2 << 3) | WIRE_BYTES);
    w.varint(<u64>valueLength);
    w.varint((5 << 3) | WIRE_BYTES);
    w.varint(<u64>structBytes);
    for (let j = 0; j < structBytes; j++) w.out.push(inner.out[j]);
  }
  return true;
}

function varintSize(v: u64): i32 {
  let n = 1;
  while (v >= 0x80) { v >>= 7; n++; }
  return n;
}

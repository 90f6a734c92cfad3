/**
 * Envoy's header-map serialization (cpp-host src/pairs_util.cc, used for header maps,
 * proxy_send_local_response headers, http call headers and map-valued properties):
 * u32 count, then (u32 key length, u32 value length) per pair, then `key\0value\0` per pair.
 * All integers little-endian.
 */
import type { HeaderList } from '../api.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type MutablePair = [name: string, value: string];

/** Serializes pairs; strings are UTF-8 encoded. */
export function serializePairs(pairs: HeaderList): Uint8Array {
  const count = pairs.length;
  const encoded: Uint8Array[] = new Array(count * 2);
  let size = 4 + count * 8;
  for (let i = 0; i < count; i++) {
    const pair = pairs[i]!;
    const key = encoder.encode(pair[0]);
    const value = encoder.encode(pair[1]);
    encoded[2 * i] = key;
    encoded[2 * i + 1] = value;
    size += key.length + value.length + 2;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, count, true);
  let offset = 4;
  for (let i = 0; i < count; i++) {
    view.setUint32(offset, encoded[2 * i]!.length, true);
    view.setUint32(offset + 4, encoded[2 * i + 1]!.length, true);
    offset += 8;
  }
  for (let i = 0; i < 2 * count; i++) {
    const bytes = encoded[i]!;
    out.set(bytes, offset);
    offset += bytes.length + 1; // NUL terminator (already zero)
  }
  return out;
}

export class PairsFormatError extends Error {}

/**
 * Parses a serialized pair list. An empty buffer is an empty list (SDKs send size 0 for no
 * headers). Throws PairsFormatError on a truncated or inconsistent buffer.
 */
export function parsePairs(bytes: Uint8Array): MutablePair[] {
  if (bytes.length === 0) return [];
  if (bytes.length < 4) throw new PairsFormatError(`pair buffer of ${bytes.length} bytes is shorter than its 4-byte count`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  let sizesEnd = 4 + count * 8;
  if (sizesEnd > bytes.length) throw new PairsFormatError(`pair count ${count} needs ${sizesEnd} bytes of sizes, buffer has ${bytes.length}`);
  const pairs: MutablePair[] = new Array(count);
  let data = sizesEnd;
  for (let i = 0; i < count; i++) {
    const keyLen = view.getUint32(4 + i * 8, true);
    const valueLen = view.getUint32(8 + i * 8, true);
    if (data + keyLen + valueLen + 2 > bytes.length) throw new PairsFormatError(`pair ${i} (key ${keyLen} bytes, value ${valueLen} bytes) runs past the ${bytes.length}-byte buffer`);
    const key = decoder.decode(bytes.subarray(data, data + keyLen));
    data += keyLen + 1;
    const value = decoder.decode(bytes.subarray(data, data + valueLen));
    data += valueLen + 1;
    pairs[i] = [key, value];
  }
  sizesEnd = data;
  return pairs;
}

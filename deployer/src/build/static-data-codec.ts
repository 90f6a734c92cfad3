/**
 * Compact encoding of an AssemblyScript module's static data (string literals, RTTI, constant
 * tables), unpacked into linear memory by a small wasm function when the module starts
 * (see pack-static-data.ts).
 *
 * Why a custom encoding: AS emits every string literal as UTF-16 behind a 20-byte object header,
 * and binaryen's memory-packing pass splits the data at zero runs into ~900 active segments
 * (≈7 bytes of segment header each). About half the payload is zero bytes — mostly the high
 * byte of each ASCII UTF-16 code unit — and error messages repeat words ("expected", field
 * names). Four token kinds cover that shape with a decoder of a few dozen wasm MVP instructions
 * (byte loads and stores; no bulk memory, no compression library in the module):
 *
 *   0xxxxxxx        literal: the next x+1 bytes (1..128) are copied to the output
 *   10xxxxxx        zeros:   the output skips x+1 bytes (1..64) — linear memory starts zeroed
 *   110xxxxx        widen:   the next x+1 bytes (1..32) are written at every other output
 *                            byte, the bytes between left zero (Latin-1 text as UTF-16LE)
 *   111xxxxx lo hi  match:   x+4 bytes (4..35) are copied, byte by byte, from the output
 *                            (hi << 8 | lo) bytes back (1..65535; LZ77, may overlap)
 *
 * The encoder picks the shortest token sequence by dynamic programming over the input, with the
 * longest match at each position found through 4-byte hash chains (bounded search: the result is
 * deterministic and near-optimal; a miss only costs size, never correctness).
 */

export const MAX_LITERAL = 128;
export const MAX_ZEROS = 64;
export const MAX_WIDEN = 32;
export const MIN_MATCH = 4;
export const MAX_MATCH = 35;
export const MAX_DISTANCE = 0xffff;
/** Earlier positions with the same 4 bytes tried per position. */
const MATCH_CANDIDATES = 64;

const ZEROS_TAG = 0x80;
const WIDEN_TAG = 0xc0;
const MATCH_TAG = 0xe0;

const enum Kind { Literal, Zeros, Widen, Match }

interface Match { readonly length: number; readonly distance: number }

/** Longest match (≥ MIN_MATCH bytes, else length 0) for every position. */
function findMatches(data: Uint8Array): Match[] {
  const matches: Match[] = new Array<Match>(data.length);
  const chains = new Map<number, number[]>();
  for (let i = 0; i < data.length; i++) {
    matches[i] = { length: 0, distance: 0 };
    if (i + MIN_MATCH > data.length) continue;
    const key = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    const chain = chains.get(key) ?? [];
    let best: Match = matches[i]!;
    for (let k = chain.length - 1; k >= 0 && k >= chain.length - MATCH_CANDIDATES; k--) {
      const from = chain[k]!;
      if (i - from > MAX_DISTANCE) break;
      let length = 0;
      while (length < MAX_MATCH && i + length < data.length && data[from + length] === data[i + length]) length++;
      if (length > best.length) best = { length, distance: i - from };
    }
    matches[i] = best;
    chain.push(i);
    chains.set(key, chain);
  }
  return matches;
}

/** Encodes `data` (the bytes of one memory region, gaps already zero) as a token stream. */
export function encodeStaticData(data: Uint8Array): Uint8Array {
  const n = data.length;
  // zeroRun[i]: zero bytes starting at i; widenRun[i]: how many (byte, 0) pairs start at i.
  const zeroRun = new Uint32Array(n + 1);
  const widenRun = new Uint32Array(n + 2);
  for (let i = n - 1; i >= 0; i--) {
    zeroRun[i] = data[i] === 0 ? zeroRun[i + 1]! + 1 : 0;
    widenRun[i] = i + 1 < n && data[i + 1] === 0 ? widenRun[i + 2]! + 1 : 0;
  }
  const matches = findMatches(data);
  // cost[i]: fewest encoded bytes for data[i..n); kind/covered: the token chosen at i and how
  // many output bytes it covers.
  const cost = new Float64Array(n + 1);
  const kind = new Uint8Array(n + 1);
  const covered = new Uint32Array(n + 1);
  for (let i = n - 1; i >= 0; i--) {
    let best = Infinity;
    const consider = (k: Kind, length: number, bytes: number): void => {
      const total = bytes + cost[i + length]!;
      if (total < best) { best = total; kind[i] = k; covered[i] = length; }
    };
    for (let len = 1; len <= MAX_LITERAL && i + len <= n; len++) consider(Kind.Literal, len, 1 + len);
    for (let len = 1; len <= Math.min(MAX_ZEROS, zeroRun[i]!); len++) consider(Kind.Zeros, len, 1);
    for (let chars = 1; chars <= Math.min(MAX_WIDEN, widenRun[i]!); chars++) consider(Kind.Widen, 2 * chars, 1 + chars);
    for (let len = MIN_MATCH; len <= matches[i]!.length; len++) consider(Kind.Match, len, 3);
    cost[i] = best;
  }
  const out = new Uint8Array(cost[0]!);
  let o = 0;
  for (let i = 0; i < n; i += covered[i]!) {
    const length = covered[i]!;
    switch (kind[i]) {
      case Kind.Literal:
        out[o++] = length - 1;
        out.set(data.subarray(i, i + length), o);
        o += length;
        break;
      case Kind.Zeros:
        out[o++] = ZEROS_TAG | (length - 1);
        break;
      case Kind.Widen:
        out[o++] = WIDEN_TAG | (length / 2 - 1);
        for (let k = 0; k < length; k += 2) out[o++] = data[i + k]!;
        break;
      default: {
        const distance = matches[i]!.distance;
        out[o++] = MATCH_TAG | (length - MIN_MATCH);
        out[o++] = distance & 0xff;
        out[o++] = distance >>> 8;
      }
    }
  }
  return out;
}

/**
 * Reference decoder (the wasm one in pack-static-data.ts does the same): writes the decoded
 * bytes into `target` (expected zeroed) and returns how many output bytes the stream covered.
 */
export function decodeStaticData(encoded: Uint8Array, target: Uint8Array): number {
  let out = 0;
  for (let src = 0; src < encoded.length;) {
    const at = src;
    const token = encoded[src++]!;
    if (token >= ZEROS_TAG && token < WIDEN_TAG) {
      out += (token & 0x3f) + 1;
      continue;
    }
    let from: Uint8Array = encoded;
    let read: number;
    let count: number;
    let stride = 1;
    if (token >= MATCH_TAG) {
      count = (token & 0x1f) + MIN_MATCH;
      if (src + 2 > encoded.length) throw new RangeError(`match at ${at} is cut off`);
      const distance = encoded[src]! | (encoded[src + 1]! << 8);
      src += 2;
      if (distance === 0 || distance > out) throw new RangeError(`match at ${at} reaches ${distance} bytes back from output offset ${out}`);
      from = target;
      read = out - distance;
    } else {
      stride = token >= WIDEN_TAG ? 2 : 1;
      count = (token & (stride === 2 ? 0x1f : 0x7f)) + 1;
      if (src + count > encoded.length) throw new RangeError(`${stride === 2 ? 'widen' : 'literal'} of ${count} bytes at ${at} runs past the stream`);
      read = src;
      src += count;
    }
    if (out + count * stride > target.length) throw new RangeError(`token at ${at} writes past the ${target.length}-byte target`);
    for (let k = 0; k < count; k++, out += stride) target[out] = from[read + k]!;
  }
  return out;
}

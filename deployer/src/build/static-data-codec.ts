/**
 * Compact encoding of an AssemblyScript module's static data (string literals, RTTI, constant
 * tables), unpacked into linear memory by a small wasm function when the module starts
 * (see pack-static-data.ts).
 *
 * Why a custom encoding: AS emits every string literal as UTF-16 behind a 20-byte object header,
 * and binaryen's memory-packing pass splits the data at zero runs into ~900 active segments
 * (≈7 bytes of segment header each). About half the payload is zero bytes — mostly the high
 * byte of each ASCII UTF-16 code unit. Three token kinds cover that shape with a decoder of a
 * few dozen instructions that needs nothing beyond wasm MVP (byte loads and stores):
 *
 *   0xxxxxxx  literal: the next x+1 bytes (1..128) are copied to the output
 *   10xxxxxx  zeros:   the output skips x+1 bytes (1..64) — linear memory starts zeroed
 *   11xxxxxx  widen:   the next x+1 bytes (1..64) are written at every other output byte,
 *                      the bytes between them left zero (ASCII text as UTF-16LE)
 *
 * The encoder picks the shortest token sequence by dynamic programming over the input.
 */

export const MAX_LITERAL = 128;
export const MAX_ZEROS = 64;
export const MAX_WIDEN = 64;

const LITERAL_TAG = 0x00;
const ZEROS_TAG = 0x80;
const WIDEN_TAG = 0xc0;

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
  // cost[i]: fewest encoded bytes for data[i..n); step[i]: the token chosen at i, as
  // (kind << 16) | output bytes it covers.
  const cost = new Float64Array(n + 1);
  const step = new Uint32Array(n + 1);
  const LITERAL = 0;
  const ZEROS = 1;
  const WIDEN = 2;
  for (let i = n - 1; i >= 0; i--) {
    let best = Infinity;
    let choice = 0;
    const consider = (kind: number, covered: number, bytes: number): void => {
      const total = bytes + cost[i + covered]!;
      if (total < best) { best = total; choice = (kind << 16) | covered; }
    };
    for (let len = 1; len <= MAX_LITERAL && i + len <= n; len++) consider(LITERAL, len, 1 + len);
    for (let len = 1; len <= Math.min(MAX_ZEROS, zeroRun[i]!); len++) consider(ZEROS, len, 1);
    for (let chars = 1; chars <= Math.min(MAX_WIDEN, widenRun[i]!); chars++) consider(WIDEN, 2 * chars, 1 + chars);
    cost[i] = best;
    step[i] = choice;
  }
  const out = new Uint8Array(cost[0]!);
  let o = 0;
  for (let i = 0; i < n;) {
    const kind = step[i]! >>> 16;
    const covered = step[i]! & 0xffff;
    if (kind === LITERAL) {
      out[o++] = LITERAL_TAG | (covered - 1);
      out.set(data.subarray(i, i + covered), o);
      o += covered;
    } else if (kind === ZEROS) {
      out[o++] = ZEROS_TAG | (covered - 1);
    } else {
      const chars = covered / 2;
      out[o++] = WIDEN_TAG | (chars - 1);
      for (let k = 0; k < chars; k++) out[o++] = data[i + 2 * k]!;
    }
    i += covered;
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
    const token = encoded[src++]!;
    if (token < ZEROS_TAG) {
      const len = token + 1;
      if (src + len > encoded.length || out + len > target.length) throw new RangeError(`literal of ${len} bytes at ${src - 1} runs past the stream or target`);
      target.set(encoded.subarray(src, src + len), out);
      src += len;
      out += len;
    } else if (token < WIDEN_TAG) {
      out += (token & 0x3f) + 1;
    } else {
      const chars = (token & 0x3f) + 1;
      if (src + chars > encoded.length || out + 2 * chars > target.length) throw new RangeError(`widen of ${chars} bytes at ${src - 1} runs past the stream or target`);
      for (let k = 0; k < chars; k++) target[out + 2 * k] = encoded[src + k]!;
      src += chars;
      out += 2 * chars;
    }
  }
  return out;
}

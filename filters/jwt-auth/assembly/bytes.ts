/**
 * Byte-range helpers for the per-request path, working on raw pointers (host buffers, cached
 * tokens). Equality is the suite's one implementation (filters/lib/bytes.ts: unaligned 8-byte
 * loads, as a token in the host's header buffer and its cached copy rarely share alignment).
 */
export { bytesEqual } from "../../lib/bytes";

/** True when the `length` bytes at `ptr` are all ASCII (then UTF-8 decoding is the identity). */
export function isAsciiBytes(ptr: usize, length: usize): bool {
  let i: usize = 0;
  for (; i + 8 <= length; i += 8) if ((load<u64>(ptr + i) & 0x8080808080808080) != 0) return false;
  for (; i < length; i++) if ((load<u8>(ptr + i) & 0x80) != 0) return false;
  return true;
}

/**
 * 64-bit hash of `length` bytes, 8 per step (a multiply-xorshift mix in the style of
 * wyhash/xxhash). Not a security boundary: callers confirm a match by comparing the bytes.
 */
export function hashBytes(ptr: usize, length: usize): u64 {
  let h: u64 = 0x9e3779b97f4a7c15 ^ <u64>length;
  let i: usize = 0;
  for (; i + 8 <= length; i += 8) {
    h ^= load<u64>(ptr + i) * 0xbf58476d1ce4e5b9;
    h = rotl<u64>(h, 31) * 0x94d049bb133111eb;
  }
  for (; i < length; i++) {
    h ^= <u64>load<u8>(ptr + i) * 0xbf58476d1ce4e5b9;
    h = rotl<u64>(h, 31) * 0x94d049bb133111eb;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  return h;
}

/** How many trailing bytes of a token hashTokenBytes mixes in. */
const TOKEN_HASH_TAIL: usize = 64;

/**
 * Bucket hash of a compact JWS: its length and its last 64 bytes. The tail is the signature
 * (RFC 7515 §7.1: `header.payload.signature`; ≥ 43 base64url characters for every accepted
 * algorithm), which differs between any two tokens an issuer signs, so buckets spread as well as
 * with the whole token, at a tenth of the work for a typical 800-byte token. Crafted tokens
 * sharing a tail cannot crowd a bucket: only verified tokens are inserted, and a lookup matches
 * on every byte (token-cache.ts).
 */
export function hashTokenBytes(ptr: usize, length: usize): u64 {
  const tail = length < TOKEN_HASH_TAIL ? length : TOKEN_HASH_TAIL;
  return hashBytes(ptr + length - tail, tail) ^ (<u64>length * 0x9e3779b97f4a7c15);
}

/**
 * Verified-token cache (per VM): bounded LRU keyed by a 64-bit hash of the token's bytes, holding
 * the bytes themselves so a hit is confirmed by exact comparison (as Envoy's jwt_authn JwtCache, which is
 * keyed by the token string). A repeated token skips parsing and signature verification. An entry
 * is only used while the token's own exp/nbf allow it, for a provider the current rule accepts,
 * and while the key sets and configuration it was verified against are unchanged (any JWKS change
 * drops the cache).
 */
import { LruCache } from "../../lib/lru";

export class VerifiedToken {
  /** The token's UTF-8 bytes: a hit must match them all (the hash only picks the entry). */
  token: ArrayBuffer = new ArrayBuffer(0);
  providerIndex: i32 = 0;
  exp: i64 = -1;
  nbf: i64 = -1;
  /**
   * Everything the outputs need, serialized once when the token is verified, so a hit does no
   * JSON or string work: the payload segment (base64url) and payload JSON, "<iss>/<sub>", and the
   * headers to set (name, value, name, value, ...: outputs.ts outputHeaderValues), all UTF-8.
   */
  payloadSegmentUtf8: ArrayBuffer = new ArrayBuffer(0);
  payloadUtf8: ArrayBuffer = new ArrayBuffer(0);
  principalUtf8: ArrayBuffer = new ArrayBuffer(0);
  outputHeaders: Array<ArrayBuffer> = new Array<ArrayBuffer>();
}

/**
 * 64-bit hash of the token's bytes, 8 bytes per step (a multiply-xorshift mix in the style of
 * wyhash/xxhash): ~100 steps for a typical 800-byte token, where a cryptographic hash would cost
 * microseconds. Not a security boundary: a hit is confirmed by comparing every byte of the token.
 */
function tokenHash(ptr: usize, length: usize): u64 {
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

export class TokenCache {
  private lru: LruCache<VerifiedToken>;
  generation: i32 = 0;
  constructor(capacity: i32) { this.lru = new LruCache<VerifiedToken>(capacity); }

  /** The entry for the token whose UTF-8 bytes are at `ptr`, or null. */
  lookup(ptr: usize, length: i32, generation: i32): VerifiedToken | null {
    if (this.lru.capacity <= 0) return null;
    if (generation != this.generation) { this.lru.clear(); this.generation = generation; return null; }
    const entry = this.lru.get(tokenHash(ptr, <usize>length));
    // Full comparison: a hash collision must never hand another token's identity out.
    if (entry === null || entry.token.byteLength != length ||
      memory.compare(changetype<usize>(entry.token), ptr, <usize>length) != 0) return null;
    return entry;
  }

  /** Caches `entry` for `token` (UTF-8 bytes, owned: kept by the entry). */
  insert(token: ArrayBuffer, entry: VerifiedToken, generation: i32): void {
    if (this.lru.capacity <= 0) return;
    if (generation != this.generation) { this.lru.clear(); this.generation = generation; }
    entry.token = token;
    this.lru.set(tokenHash(changetype<usize>(token), <usize>token.byteLength), entry);
  }
}

/**
 * Verified-token cache (per VM): bounded LRU keyed by a 64-bit hash of the token, holding the
 * token itself so a hit is confirmed by exact comparison (as Envoy's jwt_authn JwtCache, which is
 * keyed by the token string). A repeated token skips parsing and signature verification. An entry
 * is only used while the token's own exp/nbf allow it, for a provider the current rule accepts,
 * and while the key sets and configuration it was verified against are unchanged (any JWKS change
 * drops the cache).
 */
import { LruCache } from "../../lib/lru";

export class VerifiedToken {
  token: string = "";
  providerIndex: i32 = 0;
  exp: i64 = -1;
  nbf: i64 = -1;
  payloadSegment: string = "";
  /** UTF-8 of the payload JSON and of "<iss>/<sub>", encoded once for proxy_set_property. */
  payloadUtf8: ArrayBuffer = new ArrayBuffer(0);
  principalUtf8: ArrayBuffer = new ArrayBuffer(0);
  /** header, value, header, value, ... for output_claim_to_headers. */
  claimHeaders: Array<string> = new Array<string>();
}

/**
 * 64-bit hash of the token's UTF-16 code units, 8 bytes per step (a multiply-xorshift mix in the
 * style of wyhash/xxhash). Not a security boundary: hits are confirmed by comparing the token.
 */
function tokenHash(token: string): u64 {
  const ptr = changetype<usize>(token);
  const bytes = <usize>token.length << 1;
  let h: u64 = 0x9e3779b97f4a7c15 ^ <u64>bytes;
  let i: usize = 0;
  for (; i + 8 <= bytes; i += 8) {
    h ^= load<u64>(ptr + i) * 0xbf58476d1ce4e5b9;
    h = rotl<u64>(h, 31) * 0x94d049bb133111eb;
  }
  for (; i < bytes; i += 2) {
    h ^= <u64>load<u16>(ptr + i) * 0xbf58476d1ce4e5b9;
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

  lookup(token: string, generation: i32): VerifiedToken | null {
    if (this.lru.capacity <= 0) return null;
    if (generation != this.generation) { this.lru.clear(); this.generation = generation; return null; }
    const entry = this.lru.get(tokenHash(token));
    if (entry === null || entry.token != token) return null;
    return entry;
  }

  insert(token: string, entry: VerifiedToken, generation: i32): void {
    if (this.lru.capacity <= 0) return;
    if (generation != this.generation) { this.lru.clear(); this.generation = generation; }
    entry.token = token;
    this.lru.set(tokenHash(token), entry);
  }
}

/**
 * Verified-token cache (per VM): bounded LRU keyed by a 64-bit hash of the token's bytes, holding
 * the bytes themselves so a hit is confirmed by exact comparison (as Envoy's jwt_authn JwtCache, which is
 * keyed by the token string). A repeated token skips parsing and signature verification. An entry
 * is only used while the token's own exp/nbf allow it, for a provider the current rule accepts,
 * and while the key sets and configuration it was verified against are unchanged (any JWKS change
 * drops the cache).
 */
import { LruCache } from "../../lib/lru";
import { bytesEqual, hashBytes } from "./bytes";

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

export class TokenCache {
  private lru: LruCache<VerifiedToken>;
  generation: i32 = 0;
  constructor(capacity: i32) { this.lru = new LruCache<VerifiedToken>(capacity); }

  /** The entry for the token whose UTF-8 bytes are at `ptr`, or null. */
  lookup(ptr: usize, length: i32, generation: i32): VerifiedToken | null {
    if (this.lru.capacity <= 0) return null;
    if (generation != this.generation) { this.lru.clear(); this.generation = generation; return null; }
    const entry = this.lru.get(hashBytes(ptr, <usize>length));
    // Full comparison: a hash collision must never hand another token's identity out.
    if (entry === null || entry.token.byteLength != length || !bytesEqual(changetype<usize>(entry.token), ptr, <usize>length)) return null;
    return entry;
  }

  /** Caches `entry` for `token` (UTF-8 bytes, owned: kept by the entry). */
  insert(token: ArrayBuffer, entry: VerifiedToken, generation: i32): void {
    if (this.lru.capacity <= 0) return;
    if (generation != this.generation) { this.lru.clear(); this.generation = generation; }
    entry.token = token;
    this.lru.set(hashBytes(changetype<usize>(token), <usize>token.byteLength), entry);
  }
}

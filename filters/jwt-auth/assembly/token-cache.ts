/**
 * Verified-token cache (per VM): bounded LRU keyed by SHA-256 of the token, so a repeated token
 * skips parsing and signature verification. An entry is only used while the token's own exp/nbf
 * allow it, for a provider the current rule accepts, and while the key sets and configuration it
 * was verified against are unchanged (any JWKS change drops the cache).
 */
import { Sha2 } from "../../lib/crypto/sha2";
import { HashAlg } from "../../lib/crypto/hash";
import { LruCache } from "../../lib/lru";

export class VerifiedToken {
  /** Full digest words 1..3 (word 0 is the map key). */
  d1: u64 = 0; d2: u64 = 0; d3: u64 = 0;
  providerIndex: i32 = 0;
  exp: i64 = -1;
  nbf: i64 = -1;
  payloadSegment: string = "";
  payloadText: string = "";
  principal: string = "";
  /** header, value, header, value, ... for output_claim_to_headers. */
  claimHeaders: Array<string> = new Array<string>();
}

const hasher = new Sha2(HashAlg.SHA256);
const digest = new StaticArray<u8>(32);

export class TokenCache {
  private lru: LruCache<VerifiedToken>;
  generation: i32 = 0;
  constructor(capacity: i32) { this.lru = new LruCache<VerifiedToken>(capacity); }

  /** Hashes `token` into the module digest buffer; returns the map key. */
  private hash(token: string): u64 {
    hasher.reset(HashAlg.SHA256);
    // Tokens are ASCII after extraction checks; hash the UTF-16 code units directly (no copy).
    hasher.updateRaw(changetype<usize>(token), token.length << 1);
    hasher.finishInto(changetype<usize>(digest));
    return load<u64>(changetype<usize>(digest));
  }

  lookup(token: string, generation: i32): VerifiedToken | null {
    if (this.lru.capacity <= 0) return null;
    if (generation != this.generation) { this.lru.clear(); this.generation = generation; return null; }
    const key = this.hash(token);
    const entry = this.lru.get(key);
    if (entry === null) return null;
    const d = changetype<usize>(digest);
    if (entry.d1 != load<u64>(d, 8) || entry.d2 != load<u64>(d, 16) || entry.d3 != load<u64>(d, 24)) return null;
    return entry;
  }

  insert(token: string, entry: VerifiedToken, generation: i32): void {
    if (this.lru.capacity <= 0) return;
    if (generation != this.generation) { this.lru.clear(); this.generation = generation; }
    const key = this.hash(token);
    const d = changetype<usize>(digest);
    entry.d1 = load<u64>(d, 8); entry.d2 = load<u64>(d, 16); entry.d3 = load<u64>(d, 24);
    this.lru.set(key, entry);
  }

  evict(token: string): void {
    this.lru.delete(this.hash(token));
  }
}

/**
 * Verified-token cache (per VM): bounded LRU bucketed by a fast 64-bit hash of the token's bytes;
 * an entry is found only by comparing every byte of the token (as Envoy's jwt_authn JwtCache,
 * keyed by the token string), never by the hash alone. A repeated token skips parsing and signature verification. An entry
 * is only used while the token's own exp/nbf allow it, for a provider the current rule accepts,
 * and while the key sets and configuration it was verified against are unchanged (any JWKS change
 * drops the cache).
 */
import { LruEntry, LruTable } from "../../lib/lru";
import { bytesEqual, hashTokenBytes } from "./bytes";

export class VerifiedToken extends LruEntry {
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
  issuerUtf8: ArrayBuffer = new ArrayBuffer(0);
  outputHeaders: Array<ArrayBuffer> = new Array<ArrayBuffer>();
}

export class TokenCache {
  private table: LruTable;
  generation: i32 = 0;
  constructor(capacity: i32) { this.table = new LruTable(capacity); }

  /** The entry for the token whose UTF-8 bytes are at `ptr`, or null. */
  lookup(ptr: usize, length: i32, generation: i32): VerifiedToken | null {
    if (this.table.capacity <= 0) return null;
    if (generation != this.generation) { this.table.clear(); this.generation = generation; return null; }
    const entry = this.find(hashTokenBytes(ptr, <usize>length), ptr, length);
    if (entry !== null) this.table.touch(entry);
    return entry;
  }

  /** Caches `entry` for `token` (UTF-8 bytes, owned: kept by the entry), replacing an entry for the same token. */
  insert(token: ArrayBuffer, entry: VerifiedToken, generation: i32): void {
    if (this.table.capacity <= 0) return;
    if (generation != this.generation) { this.table.clear(); this.generation = generation; }
    const hash = hashTokenBytes(changetype<usize>(token), <usize>token.byteLength);
    const previous = this.find(hash, changetype<usize>(token), token.byteLength);
    if (previous !== null) this.table.remove(previous);
    entry.token = token;
    entry.hash = hash;
    this.table.insert(entry);
  }

  /** Walks the hash's bucket comparing full tokens: a collision must never hand out another token's identity. */
  private find(hash: u64, ptr: usize, length: i32): VerifiedToken | null {
    let at = this.table.first(hash);
    while (at !== null) {
      const entry = changetype<VerifiedToken>(at);
      if (entry.token.byteLength == length && bytesEqual(changetype<usize>(entry.token), ptr, <usize>length)) return entry;
      at = at.chainNext;
    }
    return null;
  }
}

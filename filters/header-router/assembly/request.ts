/**
 * What a request offers to the matchers, without decoding it: the host's serialized request
 * header map (proxy-wasm ABI: u32 count, u32 key/value lengths, then `key\0value\0`...) stays
 * where the host wrote it, and every lookup answers a span — (foundPtr, foundLen) — of UTF-8
 * bytes in it. Header names are looked up by the number compile.ts gave them, each at most once
 * per request; query parameters and cookies are scanned in place. Strings are built only for
 * what needs them: JWT claims, connection properties, redirect and regex-rewrite results.
 *
 * One map fetch rather than one proxy_get_header_map_value per name: Envoy's getHeaderMapValue
 * answers only the first value of a repeated header (envoy source/extensions/common/wasm/context.cc),
 * while Envoy's header matcher sees them joined with ","; and the one fetch measured cheaper
 * (filters/header-router/README.md, "Size and speed").
 */
@external("env", "proxy_get_header_map_pairs")
declare function proxy_get_header_map_pairs(map_type: u32, return_ptr: usize, return_size: usize): u32;

import { JsonValue, parseJson } from "../../lib/json";
import { base64UrlDecode } from "../../lib/base64";
import { spanEquals } from "../../lib/bytes";
import { propertyInt, propertyString } from "../../lib/properties";
import { HEADER_JWT_PAYLOAD } from "./compile";

const headerCells = new StaticArray<u32>(2);
const NAME_COOKIE = String.UTF8.encode("cookie");
/** jwt-auth's hand-over (filters/jwt-auth/assembly/outputs.ts): filter state, else the internal header. */
const PATH_JWT_PAYLOAD = String.UTF8.encode("wasmesh.jwt.payload");
const PATH_SOURCE_ADDRESS = String.UTF8.encode("source\0address");
const PATH_DESTINATION_PORT = String.UTF8.encode("destination\0port");
const PATH_PEER_URI_SAN = String.UTF8.encode("connection\0uri_san_peer_certificate");
const JWT_HEADER_BYTES = String.UTF8.encode(HEADER_JWT_PAYLOAD);

// @ts-ignore: decorator
@inline function byteAt(ptr: usize, i: i32): u32 {
  return <u32>load<u8>(ptr + <usize>i);
}

/** A UTF-8 span as a string (for the few consumers that need one). */
export function spanString(ptr: usize, len: i32): string {
  return len <= 0 ? "" : String.UTF8.decodeUnsafe(ptr, <usize>len);
}

export class RequestFacts {
  /** Bumped per request: cached lookups (and regex answers) of older requests are void. */
  generation: u32 = 0;
  /** The span the last successful lookup found. */
  foundPtr: usize = 0;
  foundLen: i32 = 0;

  pathPtr: usize = 0;
  pathLen: i32 = 0;
  /** :path up to `?` or `#`. */
  pathOnlyLen: i32 = 0;
  methodPtr: usize = 0;
  methodLen: i32 = 0;
  authorityPtr: usize = 0;
  authorityLen: i32 = 0;
  /** :authority without the port (host matching folds case as it compares). */
  hostLen: i32 = 0;
  schemePtr: usize = 0;
  schemeLen: i32 = 0;

  /** The host's buffer, pinned by proxy_on_memory_allocate until release(). */
  private buffer: usize = 0;
  /** Per header: name pointer, name length, value pointer, value length. */
  private table: StaticArray<u32> = new StaticArray<u32>(4 * 32);
  private count: i32 = 0;
  /** Per configured header name (RouterConfig.headerNames): generation, pointer, length (-1: absent). */
  private cacheGeneration: StaticArray<u32> = new StaticArray<u32>(0);
  private cachePtr: StaticArray<u32> = new StaticArray<u32>(0);
  private cacheLen: StaticArray<i32> = new StaticArray<i32>(0);
  /** Joined values of repeated headers, alive until release(). */
  private joined: Array<ArrayBuffer> = new Array();

  private claimsRead: bool = false;
  private payload: JsonValue | null = null;
  private sourceIpValue: string | null = null;
  private principalRead: bool = false;
  private principalValue: string | null = null;
  private portValue: i64 = -2;
  private jwtHeaderId: i32 = -1;

  /** Sizes the per-name cache for a configuration with `names` header names. */
  configure(names: i32): void {
    this.cacheGeneration = new StaticArray<u32>(names);
    this.cachePtr = new StaticArray<u32>(names);
    this.cacheLen = new StaticArray<i32>(names);
  }

  /** Fetches the request header map (one host call) and finds the pseudo-headers in it. */
  read(jwtHeaderId: i32): void {
    this.release();
    if (++this.generation == 0) {
      // Wrapped: entries stamped long ago must not look current.
      this.generation = 1;
      this.cacheGeneration.fill(0);
    }
    this.count = 0;
    this.pathPtr = this.methodPtr = this.authorityPtr = this.schemePtr = 0;
    this.pathLen = this.methodLen = this.authorityLen = this.schemeLen = 0;
    this.claimsRead = false;
    this.payload = null;
    this.sourceIpValue = null;
    this.principalRead = false;
    this.principalValue = null;
    this.portValue = -2;
    this.jwtHeaderId = jwtHeaderId;
    const cells = changetype<usize>(headerCells);
    if (proxy_get_header_map_pairs(0 /* RequestHeaders */, cells, cells + 4) == 0) {
      const base = <usize>load<u32>(cells);
      const size = <usize>load<u32>(cells + 4);
      this.buffer = base;
      if (base != 0 && size >= 4) this.index(base, base + size);
    }
    let cut = 0;
    const path = this.pathPtr;
    while (cut < this.pathLen && byteAt(path, cut) != 0x3f && byteAt(path, cut) != 0x23) cut++;
    this.pathOnlyLen = cut;
    this.hostLen = hostLength(this.authorityPtr, this.authorityLen);
  }

  private index(base: usize, end: usize): void {
    const count = <usize>load<u32>(base);
    if (count > (end - base - 4) / 8) return;
    if (<i32>count * 4 > this.table.length) this.table = new StaticArray<u32>(<i32>count * 4);
    const table = this.table;
    let sizes = base + 4;
    let data = base + 4 + count * 8;
    let n = 0;
    for (let i: usize = 0; i < count; i++) {
      const keyLength = load<u32>(sizes);
      const valueLength = load<u32>(sizes + 4);
      sizes += 8;
      if (data + <usize>keyLength + <usize>valueLength + 2 > end) break;
      const value = data + <usize>keyLength + 1;
      if (keyLength > 1 && load<u8>(data) == 0x3a) this.pseudo(data, <i32>keyLength, value, <i32>valueLength);
      unchecked(table[n] = <u32>data);
      unchecked(table[n + 1] = keyLength);
      unchecked(table[n + 2] = <u32>value);
      unchecked(table[n + 3] = valueLength);
      n += 4;
      data = value + <usize>valueLength + 1;
    }
    this.count = n >> 2;
  }

  private pseudo(name: usize, nameLen: i32, value: usize, valueLen: i32): void {
    const c = byteAt(name, 1);
    if (nameLen == 5 && c == 0x70 /* :path */) { this.pathPtr = value; this.pathLen = valueLen; }
    else if (nameLen == 7 && c == 0x6d /* :method */) { this.methodPtr = value; this.methodLen = valueLen; }
    else if (nameLen == 10 && c == 0x61 /* :authority */) { this.authorityPtr = value; this.authorityLen = valueLen; }
    else if (nameLen == 7 && c == 0x73 /* :scheme */) { this.schemePtr = value; this.schemeLen = valueLen; }
  }

  /** Lets the host's buffer go (the spans are void from here on). */
  release(): void {
    if (this.buffer != 0) __unpin(this.buffer);
    this.buffer = 0;
    this.count = 0;
    if (this.joined.length > 0) this.joined.length = 0;
  }

  /**
   * Header number `id` (named `name`): found → its value in (foundPtr, foundLen), the values of
   * a repeated header joined with "," as Envoy's header matcher sees them.
   */
  header(id: i32, name: ArrayBuffer): bool {
    if (unchecked(this.cacheGeneration[id]) == this.generation) {
      const len = unchecked(this.cacheLen[id]);
      if (len < 0) return false;
      this.foundPtr = <usize>unchecked(this.cachePtr[id]);
      this.foundLen = len;
      return true;
    }
    const table = this.table;
    let first = -1;
    let repeats = 0;
    let total = 0;
    for (let i = 0, n = this.count << 2; i < n; i += 4) {
      if (!spanEquals(<usize>unchecked(table[i]), <i32>unchecked(table[i + 1]), name)) continue;
      if (first < 0) first = i;
      repeats++;
      total += <i32>unchecked(table[i + 3]) + 1;
    }
    unchecked(this.cacheGeneration[id] = this.generation);
    if (first < 0) {
      unchecked(this.cacheLen[id] = -1);
      return false;
    }
    if (repeats == 1) {
      this.foundPtr = <usize>unchecked(table[first + 2]);
      this.foundLen = <i32>unchecked(table[first + 3]);
    } else {
      this.join(first, name, total - 1);
    }
    unchecked(this.cachePtr[id] = <u32>this.foundPtr);
    unchecked(this.cacheLen[id] = this.foundLen);
    return true;
  }

  private join(first: i32, name: ArrayBuffer, size: i32): void {
    const out = new ArrayBuffer(size);
    this.joined.push(out);
    const table = this.table;
    let at = changetype<usize>(out);
    for (let i = first, n = this.count << 2; i < n; i += 4) {
      if (!spanEquals(<usize>unchecked(table[i]), <i32>unchecked(table[i + 1]), name)) continue;
      if (at != changetype<usize>(out)) store<u8>(at++, 0x2c);
      const len = <usize>unchecked(table[i + 3]);
      memory.copy(at, <usize>unchecked(table[i + 2]), len);
      at += len;
    }
    this.foundPtr = changetype<usize>(out);
    this.foundLen = size;
  }

  /** First value of query parameter `name` (no percent-decoding, as Envoy's query matcher). */
  query(name: ArrayBuffer): bool {
    const p = this.pathPtr;
    if (this.pathOnlyLen >= this.pathLen || byteAt(p, this.pathOnlyLen) != 0x3f) return false;
    let end = this.pathOnlyLen + 1;
    while (end < this.pathLen && byteAt(p, end) != 0x23) end++;
    let at = this.pathOnlyLen + 1;
    while (at < end) {
      let partEnd = at;
      while (partEnd < end && byteAt(p, partEnd) != 0x26) partEnd++;
      let eq = at;
      while (eq < partEnd && byteAt(p, eq) != 0x3d) eq++;
      if (partEnd > at && spanEquals(p + <usize>at, eq - at, name)) {
        this.foundPtr = p + <usize>min(eq + 1, partEnd);
        this.foundLen = eq < partEnd ? partEnd - eq - 1 : 0;
        return true;
      }
      at = partEnd + 1;
    }
    return false;
  }

  /** Cookie `name` from the Cookie header(s) (RFC 6265 §5.4: ";"-separated pairs), quotes removed. */
  cookie(name: ArrayBuffer): bool {
    const table = this.table;
    for (let i = 0, n = this.count << 2; i < n; i += 4) {
      if (!spanEquals(<usize>unchecked(table[i]), <i32>unchecked(table[i + 1]), NAME_COOKIE)) continue;
      if (findCookie(<usize>unchecked(table[i + 2]), <i32>unchecked(table[i + 3]), name, this)) return true;
    }
    return false;
  }

  pathString(): string { return spanString(this.pathPtr, this.pathLen); }
  pathOnlyString(): string { return spanString(this.pathPtr, this.pathOnlyLen); }
  authorityString(): string { return spanString(this.authorityPtr, this.authorityLen); }
  schemeString(): string { return spanString(this.schemePtr, this.schemeLen); }

  /** Claim `path` (dot-separated) of the verified JWT, as a string (numbers/booleans as JSON); null if absent. */
  claim(path: string): string | null {
    if (!this.claimsRead) {
      this.claimsRead = true;
      let text = propertyString(PATH_JWT_PAYLOAD);
      if (text === null && this.jwtHeaderId >= 0 && this.header(this.jwtHeaderId, JWT_HEADER_BYTES)) {
        const decoded = base64UrlDecode(spanString(this.foundPtr, this.foundLen));
        if (decoded !== null) text = String.UTF8.decode(decoded.buffer);
      }
      if (text !== null) {
        const parsed = parseJson(text);
        if (parsed !== null && parsed.isObject()) this.payload = parsed;
      }
    }
    const payload = this.payload;
    if (payload === null) return null;
    const value = payload.getPath(path);
    if (value === null) return null;
    if (value.isString()) return value.stringValue;
    if (value.isNumber() || value.isBool()) return value.toJson();
    if (value.isArray()) {
      // A list claim matches through its string members, joined as Envoy joins header values.
      let out = "";
      for (let i = 0; i < value.items.length; i++) {
        if (!value.items[i].isString()) continue;
        out += (out.length > 0 ? "," : "") + value.items[i].stringValue;
      }
      return out;
    }
    return null;
  }

  /** The downstream peer's IP (no port). */
  sourceIp(): string | null {
    let ip = this.sourceIpValue;
    if (ip === null) {
      const address = propertyString(PATH_SOURCE_ADDRESS);
      if (address === null) return null;
      ip = stripPort(address);
      if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.substring(1, ip.length - 1);
      this.sourceIpValue = ip;
    }
    return ip;
  }

  principal(): string | null {
    if (!this.principalRead) {
      this.principalRead = true;
      this.principalValue = propertyString(PATH_PEER_URI_SAN);
    }
    return this.principalValue;
  }

  port(): i64 {
    if (this.portValue == -2) this.portValue = propertyInt(PATH_DESTINATION_PORT, -1);
    return this.portValue;
  }
}


/** Finds cookie `name` in one Cookie header value; the value goes to facts.found*. */
function findCookie(p: usize, len: i32, name: ArrayBuffer, facts: RequestFacts): bool {
  let at = 0;
  while (at < len) {
    let end = at;
    while (end < len && byteAt(p, end) != 0x3b) end++;
    let s = at;
    let e = end;
    while (s < e && isSpace(byteAt(p, s))) s++;
    while (e > s && isSpace(byteAt(p, e - 1))) e--;
    let eq = s;
    while (eq < e && byteAt(p, eq) != 0x3d) eq++;
    if (eq > s && eq < e && spanEquals(p + <usize>s, eq - s, name)) {
      let vs = eq + 1;
      let ve = e;
      if (ve - vs >= 2 && byteAt(p, vs) == 0x22 && byteAt(p, ve - 1) == 0x22) { vs++; ve--; }
      facts.foundPtr = p + <usize>vs;
      facts.foundLen = ve - vs;
      return true;
    }
    at = end + 1;
  }
  return false;
}

// @ts-ignore: decorator
@inline function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x09;
}

/**
 * Length of the host part of an authority: `host:port` → host; `[v6]:port` → `[v6]`; a bare
 * IPv6 literal (several colons) stays whole.
 */
export function hostLength(p: usize, len: i32): i32 {
  if (len > 0 && byteAt(p, 0) == 0x5b) {
    for (let i = 1; i < len; i++) if (byteAt(p, i) == 0x5d) return i + 1;
    return len;
  }
  let colon = -1;
  for (let i = 0; i < len; i++) {
    if (byteAt(p, i) != 0x3a) continue;
    if (colon >= 0) return len;
    colon = i;
  }
  return colon < 0 ? len : colon;
}

/** `host:port` → host; `[v6]:port` → `[v6]`; a bare IPv6 literal stays as is. */
export function stripPort(authority: string): string {
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    return close < 0 ? authority : authority.substring(0, close + 1);
  }
  const colon = authority.lastIndexOf(":");
  if (colon < 0 || authority.indexOf(":") != colon) return authority;
  return authority.substring(0, colon);
}

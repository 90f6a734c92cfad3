/**
 * IP addresses and CIDR ranges for `ipBlocks`, `remoteIpBlocks`, `source.ip`, `remote.ip` and
 * `destination.ip`. Istio accepts a bare address (a /32 or /128) or a CIDR
 * (pilot/pkg/networking/util `AddrStrToCidrRange`); Envoy's CidrRange masks host bits.
 * All ranges of all policies live in one binary trie per family, so a request costs at most
 * 32 (IPv4) or 128 (IPv6) steps whatever the number of ranges.
 */
import { MatchSet } from "./match-set";

/**
 * A parsed address: 4 or 16 bytes, network order. Mutable so that a request parses its
 * addresses into objects reused from request to request (RequestFacts) instead of allocating.
 */
export class IpAddress {
  bytes: Uint8Array = new Uint8Array(16);
  /** 4 (IPv4) or 16 (IPv6). */
  length: i32 = 0;
  get isV4(): bool { return this.length == 4; }
}

export class CidrRange {
  constructor(readonly address: IpAddress, readonly prefixLength: i32) {}
}

/**
 * The parsers read text in place, either UTF-8 bytes (a property value as the host handed it
 * over: no string is decoded per request) or a string's UTF-16 units (`wide`). Addresses are
 * ASCII, so one parser serves both; any other unit is refused like a bad character.
 */
// @ts-ignore: decorator
@inline function unitAt(text: usize, i: i32, wide: bool): u32 {
  return wide ? <u32>load<u16>(text + (<usize>i << 1)) : <u32>load<u8>(text + <usize>i);
}

/** Dotted quad in [start, end) into out[at, at + 4). */
function parseIpv4(text: usize, wide: bool, start: i32, end: i32, out: Uint8Array, at: i32): bool {
  let part = 0;
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = start; i <= end; i++) {
    const c = i < end ? unitAt(text, i, wide) : 0x2e;
    if (c == 0x2e) {
      // "01" is refused: some parsers read a leading zero as octal (the CVE-2021-29921 class).
      if (digits == 0 || part > 3 || (leadingZero && digits > 1)) return false;
      unchecked(out[at + part++] = <u8>value);
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || digits == 3) return false;
    if (digits == 0) leadingZero = c == 0x30;
    value = value * 10 + (c - 0x30);
    if (value > 255) return false;
    digits++;
  }
  return part == 4;
}

function hexValue(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** The 16-bit groups of an IPv6 address being parsed (one VM runs one request at a time). */
const words = new StaticArray<u16>(8);
const quad = new Uint8Array(4);

/**
 * 16-bit groups separated by `:` in [start, end), appended to `words` from `count`; the last
 * group may be a dotted IPv4 (two words) when allowed. The new count, or -1.
 */
function parseWords(text: usize, wide: bool, start: i32, end: i32, allowIpv4Tail: bool, count: i32): i32 {
  if (start == end) return count;
  for (let groupStart = start; groupStart <= end; ) {
    let groupEnd = groupStart;
    let dotted = false;
    while (groupEnd < end) {
      const c = unitAt(text, groupEnd, wide);
      if (c == 0x3a) break;
      if (c == 0x2e) dotted = true;
      groupEnd++;
    }
    const last = groupEnd == end;
    if (last && allowIpv4Tail && dotted) {
      if (count > 6 || !parseIpv4(text, wide, groupStart, groupEnd, quad, 0)) return -1;
      for (let i = 0; i < 2; i++) unchecked(words[count++] = (<u16>quad[i * 2] << 8) | quad[i * 2 + 1]);
      return count;
    }
    const length = groupEnd - groupStart;
    if (length == 0 || length > 4 || count == 8) return -1;
    let v = 0;
    for (let i = groupStart; i < groupEnd; i++) {
      const h = hexValue(unitAt(text, i, wide));
      if (h < 0) return -1;
      v = (v << 4) | h;
    }
    unchecked(words[count++] = <u16>v);
    if (last) return count;
    groupStart = groupEnd + 1;
  }
  return -1; // not reached: the group ending at `end` returned
}

/** Index of `::` in [start, end) from `from`, or -1. */
function doubleColonAt(text: usize, wide: bool, from: i32, end: i32): i32 {
  for (let i = from; i + 1 < end; i++) {
    if (unitAt(text, i, wide) == 0x3a && unitAt(text, i + 1, wide) == 0x3a) return i;
  }
  return -1;
}

/** RFC 4291 §2.2 text forms, including `::` and a trailing dotted IPv4. No zone ids. */
function parseIpv6(text: usize, wide: bool, start: i32, end: i32, out: Uint8Array): bool {
  if (end - start < 2) return false;
  const doubleColon = doubleColonAt(text, wide, start, end);
  if (doubleColon >= 0 && doubleColonAt(text, wide, doubleColon + 1, end) >= 0) return false;
  const headEnd = doubleColon >= 0 ? doubleColon : end;
  const tailStart = doubleColon >= 0 ? doubleColon + 2 : end;
  const headCount = parseWords(text, wide, start, headEnd, doubleColon < 0 || tailStart == end, 0);
  if (headCount < 0) return false;
  const total = doubleColon >= 0 ? parseWords(text, wide, tailStart, end, true, headCount) : headCount;
  if (total < 0) return false;
  if (doubleColon < 0 ? total != 8 : total > 7) return false;
  // The `::` stands for the zero words between the head and the tail.
  const tailCount = total - headCount;
  for (let i = 0; i < 8; i++) {
    const word: u16 = i < headCount ? unchecked(words[i]) : i >= 8 - tailCount ? unchecked(words[headCount + i - (8 - tailCount)]) : 0;
    unchecked(out[i * 2] = <u8>(word >> 8));
    unchecked(out[i * 2 + 1] = <u8>word);
  }
  return true;
}

/**
 * Parses the address in [start, end) into `out`. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is read
 * as the IPv4 address so that a dual-stack listener cannot slip a v4 client past a v4 range.
 */
function parseInto(text: usize, wide: bool, start: i32, end: i32, out: IpAddress): bool {
  let colon = false;
  for (let i = start; i < end && !colon; i++) colon = unitAt(text, i, wide) == 0x3a;
  const bytes = out.bytes;
  if (!colon) {
    out.length = 4;
    return parseIpv4(text, wide, start, end, bytes, 0);
  }
  out.length = 16;
  if (!parseIpv6(text, wide, start, end, bytes)) return false;
  for (let i = 0; i < 10; i++) if (unchecked(bytes[i]) != 0) return true;
  if (unchecked(bytes[10]) != 0xff || unchecked(bytes[11]) != 0xff) return true;
  for (let i = 0; i < 4; i++) unchecked(bytes[i] = bytes[12 + i]);
  out.length = 4;
  return true;
}

/** Parses an address (configuration values, X-Forwarded-For entries). */
export function parseIp(text: string): IpAddress | null {
  const out = new IpAddress();
  return parseInto(changetype<usize>(text), true, 0, text.length, out) ? out : null;
}

/** Parses `text` into the reused `out`; false when it is not an address. */
export function parseIpInto(text: string, out: IpAddress): bool {
  return parseInto(changetype<usize>(text), true, 0, text.length, out);
}

/**
 * Envoy's `source.address` / `destination.address` property as the host serialized it (UTF-8
 * `ip:port` or `[v6]:port`; envoy source/extensions/common/wasm/context.cc), parsed into `out`
 * straight from the bytes. Same split as addressPart; Envoy never pads these with spaces.
 */
export function parseAddressBytes(bytes: usize, length: i32, out: IpAddress): bool {
  let start = 0;
  let end = length;
  if (length > 0 && load<u8>(bytes) == 0x5b /* [ */) {
    let close = 1;
    while (close < length && load<u8>(bytes + <usize>close) != 0x5d /* ] */) close++;
    if (close < length) { start = 1; end = close; }
  } else {
    let colons = 0;
    let first = -1;
    for (let i = 0; i < length; i++) {
      if (load<u8>(bytes + <usize>i) != 0x3a) continue;
      if (colons++ == 0) first = i;
    }
    if (colons == 1) end = first;
  }
  return parseInto(bytes, false, start, end, out);
}

/** `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32`; null when malformed or the length is out of range. */
export function parseCidr(text: string): CidrRange | null {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.substring(0, slash);
  const address = parseIp(addressText);
  if (address === null) return null;
  // A v4-mapped IPv6 range (::ffff:10.0.0.0/104) is ambiguous once read as IPv4: write the IPv4 range.
  if (slash >= 0 && address.isV4 && addressText.indexOf(":") >= 0) return null;
  const bits = address.length * 8;
  if (slash < 0) return new CidrRange(address, bits);
  const lengthText = text.substring(slash + 1);
  if (lengthText.length == 0 || lengthText.length > 3) return null;
  let length = 0;
  for (let i = 0; i < lengthText.length; i++) {
    const c = lengthText.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
    length = length * 10 + (c - 0x30);
  }
  if (length > bits) return null;
  return new CidrRange(address, length);
}

/**
 * Splits Envoy's `ip:port` / `[v6]:port` address property into the address; also accepts a bare
 * address (X-Forwarded-For entries).
 */
export function addressPart(text: string): string {
  const t = text.trim();
  if (t.startsWith("[")) {
    const close = t.indexOf("]");
    return close < 0 ? t : t.substring(1, close);
  }
  const colon = t.indexOf(":");
  if (colon >= 0 && t.indexOf(":", colon + 1) < 0) return t.substring(0, colon);
  return t;
}

/** Binary trie of ranges; each node holds the predicates whose range ends there. */
class BitTrie {
  zero: Array<i32> = [-1];
  one: Array<i32> = [-1];
  ids: Array<Array<i32> | null> = [null];

  insert(bytes: Uint8Array, prefixLength: i32, id: i32): void {
    let node = 0;
    for (let bit = 0; bit < prefixLength; bit++) {
      const set = (<i32>bytes[bit >> 3] >> (7 - (bit & 7))) & 1;
      const next = set ? this.one[node] : this.zero[node];
      if (next >= 0) { node = next; continue; }
      const created = this.zero.length;
      this.zero.push(-1);
      this.one.push(-1);
      this.ids.push(null);
      if (set) this.one[node] = created; else this.zero[node] = created;
      node = created;
    }
    let list = this.ids[node];
    if (list === null) { list = new Array<i32>(); this.ids[node] = list; }
    list.push(id);
  }

  match(bytes: Uint8Array, totalBits: i32, out: MatchSet): void {
    let node = 0;
    for (let bit = 0; ; bit++) {
      const list = unchecked(this.ids[node]);
      if (list !== null) out.markAll(list);
      if (bit == totalBits) return;
      const set = (<i32>unchecked(bytes[bit >> 3]) >> (7 - (bit & 7))) & 1;
      node = set ? unchecked(this.one[node]) : unchecked(this.zero[node]);
      if (node < 0) return;
    }
  }
}

export class CidrIndex {
  private v4: BitTrie = new BitTrie();
  private v6: BitTrie = new BitTrie();
  private size: i32 = 0;

  get isEmpty(): bool { return this.size == 0; }

  add(range: CidrRange, id: i32): void {
    this.size++;
    if (range.address.isV4) this.v4.insert(range.address.bytes, range.prefixLength, id);
    else this.v6.insert(range.address.bytes, range.prefixLength, id);
  }

  match(address: IpAddress | null, out: MatchSet): void {
    if (address === null || this.size == 0) return;
    if (address.isV4) this.v4.match(address.bytes, 32, out);
    else this.v6.match(address.bytes, 128, out);
  }
}

/**
 * IP addresses and CIDR ranges for `ipBlocks`, `remoteIpBlocks`, `source.ip`, `remote.ip` and
 * `destination.ip`. Istio accepts a bare address (a /32 or /128) or a CIDR
 * (pilot/pkg/networking/util `AddrStrToCidrRange`); Envoy's CidrRange masks host bits.
 * All ranges of all policies live in one binary trie per family, so a request costs at most
 * 32 (IPv4) or 128 (IPv6) steps whatever the number of ranges.
 */
import { MatchSet } from "./match-set";

/** A parsed address: 4 or 16 bytes, network order. */
export class IpAddress {
  constructor(readonly bytes: Uint8Array) {}
  get isV4(): bool { return this.bytes.length == 4; }
}

export class CidrRange {
  constructor(readonly address: IpAddress, readonly prefixLength: i32) {}
}

/** Dotted quad, scanned in place (no split: this runs on every request's peer address). */
function parseIpv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0, n = text.length; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 0x2e;
    if (c == 0x2e) {
      // "01" is refused: some parsers read a leading zero as octal (the CVE-2021-29921 class).
      if (digits == 0 || part > 3 || (leadingZero && digits > 1)) return null;
      out[part++] = <u8>value;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || digits == 3) return null;
    if (digits == 0) leadingZero = c == 0x30;
    value = value * 10 + (c - 0x30);
    if (value > 255) return null;
    digits++;
  }
  return part == 4 ? out : null;
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** RFC 4291 §2.2 text forms, including `::` and a trailing dotted IPv4. No zone ids. */
function parseIpv6(text: string): Uint8Array | null {
  if (text.length < 2) return null;
  const out = new Uint8Array(16);
  const doubleColon = text.indexOf("::");
  if (doubleColon >= 0 && text.indexOf("::", doubleColon + 1) >= 0) return null;
  const head = doubleColon >= 0 ? text.substring(0, doubleColon) : text;
  const tail = doubleColon >= 0 ? text.substring(doubleColon + 2) : "";
  const headWords = parseWords(head, doubleColon < 0 || tail.length == 0);
  if (headWords === null) return null;
  const tailWords = doubleColon >= 0 ? parseWords(tail, true) : new Array<i32>();
  if (tailWords === null) return null;
  const total = headWords.length + tailWords.length;
  if (doubleColon < 0 ? total != 8 : total > 7) return null;
  for (let i = 0; i < headWords.length; i++) {
    out[i * 2] = <u8>(headWords[i] >> 8);
    out[i * 2 + 1] = <u8>(headWords[i] & 0xff);
  }
  const start = 8 - tailWords.length;
  for (let i = 0; i < tailWords.length; i++) {
    out[(start + i) * 2] = <u8>(tailWords[i] >> 8);
    out[(start + i) * 2 + 1] = <u8>(tailWords[i] & 0xff);
  }
  return out;
}

/** 16-bit groups separated by `:`; the last group may be a dotted IPv4 (two words) when allowed. */
function parseWords(text: string, allowIpv4Tail: bool): Array<i32> | null {
  const words = new Array<i32>();
  if (text.length == 0) return words;
  const groups = text.split(":");
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g];
    if (g == groups.length - 1 && allowIpv4Tail && group.indexOf(".") >= 0) {
      const v4 = parseIpv4(group);
      if (v4 === null) return null;
      words.push((<i32>v4[0] << 8) | v4[1]);
      words.push((<i32>v4[2] << 8) | v4[3]);
      continue;
    }
    if (group.length == 0 || group.length > 4) return null;
    let v = 0;
    for (let i = 0; i < group.length; i++) {
      const h = hexValue(group.charCodeAt(i));
      if (h < 0) return null;
      v = (v << 4) | h;
    }
    words.push(v);
  }
  return words;
}

/**
 * Parses an address. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is read as the IPv4 address so that a
 * dual-stack listener cannot slip a v4 client past a v4 range.
 */
export function parseIp(text: string): IpAddress | null {
  if (text.indexOf(":") < 0) {
    const v4 = parseIpv4(text);
    return v4 === null ? null : new IpAddress(v4);
  }
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  let mapped = true;
  for (let i = 0; i < 10; i++) if (v6[i] != 0) { mapped = false; break; }
  if (mapped && v6[10] == 0xff && v6[11] == 0xff) return new IpAddress(v6.slice(12, 16));
  return new IpAddress(v6);
}

/** `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32`; null when malformed or the length is out of range. */
export function parseCidr(text: string): CidrRange | null {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.substring(0, slash);
  const address = parseIp(addressText);
  if (address === null) return null;
  // A v4-mapped IPv6 range (::ffff:10.0.0.0/104) is ambiguous once read as IPv4: write the IPv4 range.
  if (slash >= 0 && address.isV4 && addressText.indexOf(":") >= 0) return null;
  const bits = address.bytes.length * 8;
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

  match(bytes: Uint8Array, out: MatchSet): void {
    let node = 0;
    const totalBits = bytes.length * 8;
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
    if (address.isV4) this.v4.match(address.bytes, out);
    else this.v6.match(address.bytes, out);
  }
}

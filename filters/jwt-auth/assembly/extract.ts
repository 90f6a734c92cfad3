/**
 * Token extraction from the request (Envoy JwtProvider from_headers / from_params /
 * from_cookies; default `Authorization: Bearer <token>`, RFC 6750 §2.1 where the scheme name is
 * case-insensitive). The first location that yields a token wins, in the order
 * headers → params → cookies of each provider, providers in rule order.
 */
import { ProviderConfig } from "./config";
import { startsWithIgnoreAsciiCase } from "./text";
import { HostName } from "./host-io";
import { HeaderPlan, RequestView } from "./request-view";
import { bytesEqual, isAsciiBytes } from "./bytes";

export enum LocationKind { Header, Param, Cookie }

/**
 * A token found in the request. Its identity is its UTF-8 bytes (the token-cache key): while the
 * request headers are processed they may be borrowed from the host's header buffer (no copy, no
 * string), `detach` makes an owned copy for anything that outlives the callback. AssemblyScript's
 * UTF-8 encoder (WTF-8) is injective on strings, and every token text comes from decoding, so
 * equal bytes ⇔ equal token text, as the string comparison this replaces.
 */
export class ExtractedToken {
  kind: LocationKind = LocationKind.Header;
  /** Header (Header kind) — used to strip the token when it is not forwarded. */
  header: HostName | null = null;
  /** Providers of the rule whose locations include where the token was found. */
  providers: Array<ProviderConfig> = new Array<ProviderConfig>();
  bytesPtr: usize = 0;
  bytesLength: i32 = 0;
  /** Length in UTF-16 code units: what max_token_bytes has always been checked against. */
  textLength: i32 = 0;
  /** Holds the bytes when they are not borrowed (keeps them alive). */
  private owned: ArrayBuffer | null = null;
  private text: string | null = null;

  /** The token as text (decoded once, on the verification path only). */
  get token(): string {
    let text = this.text;
    if (text === null) {
      text = String.UTF8.decodeUnsafe(this.bytesPtr, <usize>this.bytesLength);
      this.text = text;
    }
    return text;
  }

  /** Borrows `length` ASCII bytes at `ptr` (valid until the header view is released). */
  borrowAscii(ptr: usize, length: i32): void {
    this.owned = null;
    this.text = null;
    this.bytesPtr = ptr;
    this.bytesLength = length;
    this.textLength = length;
  }

  setText(text: string): void {
    const bytes = String.UTF8.encode(text);
    this.owned = bytes;
    this.text = text;
    this.bytesPtr = changetype<usize>(bytes);
    this.bytesLength = bytes.byteLength;
    this.textLength = text.length;
  }

  sameToken(other: ExtractedToken): bool {
    return this.bytesLength == other.bytesLength && bytesEqual(this.bytesPtr, other.bytesPtr, <usize>this.bytesLength);
  }

  /** The token's bytes as an owned buffer (copied when borrowed). */
  ownedBytes(): ArrayBuffer {
    let owned = this.owned;
    if (owned === null) {
      owned = new ArrayBuffer(this.bytesLength);
      memory.copy(changetype<usize>(owned), this.bytesPtr, <usize>this.bytesLength);
      this.owned = owned;
      this.bytesPtr = changetype<usize>(owned);
    }
    return owned;
  }

  /** An independent copy that owns its bytes and text: safe to keep after the callback. */
  detach(): ExtractedToken {
    const copy = new ExtractedToken();
    copy.kind = this.kind;
    copy.header = this.header;
    copy.providers = this.providers.slice(0);
    copy.owned = this.ownedBytes();
    copy.bytesPtr = this.bytesPtr;
    copy.bytesLength = this.bytesLength;
    copy.textLength = this.textLength;
    copy.text = this.token;
    return copy;
  }

  /** Takes over `other`'s token and location (not its providers). */
  copyFrom(other: ExtractedToken): void {
    this.kind = other.kind;
    this.header = other.kind == LocationKind.Header ? other.header : null;
    this.owned = other.owned;
    this.text = other.text;
    this.bytesPtr = other.bytesPtr;
    this.bytesLength = other.bytesLength;
    this.textLength = other.textLength;
  }

  reset(): void {
    this.kind = LocationKind.Header;
    this.header = null;
    this.providers.length = 0;
    this.owned = null;
    this.text = null;
    this.bytesPtr = 0;
    this.bytesLength = 0;
    this.textLength = 0;
  }
}

/** Value after `prefix`, trimmed; "" when the prefix does not match. */
function afterPrefix(value: string, prefix: string): string {
  if (prefix.length > 0 && !startsWithIgnoreAsciiCase(value, prefix)) return "";
  return value.substring(prefix.length).trim();
}

/** Decodes %XX escapes of a query value (RFC 3986 §2.1); "" on a malformed escape. */
function percentDecode(s: string): string {
  if (!s.includes("%") && !s.includes("+")) return s;
  const bytes = new Array<u8>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x25) {
      if (i + 2 >= s.length) return "";
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return "";
      const v = (hi << 4) | lo;
      bytes.push(<u8>v);
      i += 2;
    } else if (c == 0x2b) {
      bytes.push(0x20);
    } else if (c < 0x80) {
      bytes.push(<u8>c);
    } else {
      return ""; // raw non-ASCII in a query is malformed
    }
  }
  const buf = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) buf[i] = bytes[i];
  return String.UTF8.decode(buf.buffer);
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function queryParam(path: string, name: string): string {
  const q = path.indexOf("?");
  if (q < 0) return "";
  let query = path.substring(q + 1);
  const hash = query.indexOf("#");
  if (hash >= 0) query = query.substring(0, hash);
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf("&", start);
    if (end < 0) end = query.length;
    const pair = query.substring(start, end);
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.substring(0, eq);
    if (percentDecode(key) == name) return eq < 0 ? "" : percentDecode(pair.substring(eq + 1));
    start = end + 1;
  }
  return "";
}

/** Cookie value from a Cookie header (RFC 6265 §4.2.1: `name=value; name2=value2`). */
function cookieValue(cookieHeader: string, name: string): string {
  let start = 0;
  while (start < cookieHeader.length) {
    let end = cookieHeader.indexOf(";", start);
    if (end < 0) end = cookieHeader.length;
    const part = cookieHeader.substring(start, end).trim();
    start = end + 1;
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    if (part.substring(0, eq) == name) {
      let value = part.substring(eq + 1);
      if (value.length >= 2 && value.startsWith("\"") && value.endsWith("\"")) value = value.substring(1, value.length - 1);
      return value;
    }
  }
  return "";
}

/** Scratch objects for extraction, reused for every request (no allocation on the hot path). */
export class TokenScan {
  readonly found: ExtractedToken = new ExtractedToken();
  readonly candidate: ExtractedToken = new ExtractedToken();
  private pathText: string | null = null;
  private cookieText: string | null = null;
  private view: RequestView | null = null;
  private pathSlot: i32 = 0;
  private cookieSlot: i32 = 0;

  begin(view: RequestView, plan: HeaderPlan): void {
    this.found.reset();
    this.candidate.reset();
    this.pathText = null;
    this.cookieText = null;
    this.view = view;
    this.pathSlot = plan.pathSlot;
    this.cookieSlot = plan.cookieSlot;
  }

  /** :path as text, decoded at most once per request (only for from_params). */
  path(): string {
    let text = this.pathText;
    if (text === null) { text = this.view!.text(this.pathSlot); this.pathText = text; }
    return text;
  }

  cookie(): string {
    let text = this.cookieText;
    if (text === null) { text = this.view!.text(this.cookieSlot); this.cookieText = text; }
    return text;
  }
}

/** ASCII whitespace as String#trim sees it: SP and HT..CR (the only ones below 0x80). */
// @ts-ignore: decorator
@inline function isAsciiSpace(c: u32): bool { return c == 0x20 || c - 0x09 <= 0x0d - 0x09; }

/**
 * afterPrefix on an all-ASCII header value, in place: case-insensitive prefix, then trimmed.
 * Same answer as afterPrefix on the decoded value (decoding ASCII is the identity; a non-ASCII
 * prefix character can never match an ASCII byte, in either version). Empty: no token.
 */
function borrowAfterPrefix(out: ExtractedToken, ptr: usize, length: i32, prefix: string): void {
  const prefixLength = prefix.length;
  if (prefixLength > 0) {
    if (length < prefixLength) { out.borrowAscii(ptr, 0); return; }
    for (let i = 0; i < prefixLength; i++) {
      let a = <u32>load<u8>(ptr + <usize>i);
      let b = <u32>prefix.charCodeAt(i);
      if (a - 0x41 < 26) a += 32;
      if (b - 0x41 < 26) b += 32;
      if (a != b) { out.borrowAscii(ptr, 0); return; }
    }
  }
  let start = ptr + <usize>prefixLength;
  let end = ptr + <usize>length;
  while (start < end && isAsciiSpace(<u32>load<u8>(start))) start++;
  while (end > start && isAsciiSpace(<u32>load<u8>(end - 1))) end--;
  out.borrowAscii(start, <i32>(end - start));
}

/** The provider's token (headers → params → cookies, first non-empty), into `out`. */
function providerToken(provider: ProviderConfig, view: RequestView, plan: HeaderPlan, scan: TokenScan, out: ExtractedToken): void {
  out.reset();
  const slots = plan.locationSlots[provider.index];
  for (let i = 0; i < provider.fromHeaders.length && out.bytesLength == 0; i++) {
    const slot = unchecked(slots[i]);
    const length = view.valueLength(slot);
    if (length == 0) continue;
    const loc = provider.fromHeaders[i];
    const ptr = view.valuePtr(slot);
    // Tokens are ASCII (base64url, RFC 7515 §7.1): the common case borrows the bytes; any other
    // value takes the string path it always took, so the answer is the same for every input.
    if (isAsciiBytes(ptr, <usize>length)) borrowAfterPrefix(out, ptr, length, loc.valuePrefix);
    else {
      const text = afterPrefix(view.text(slot), loc.valuePrefix);
      if (text.length > 0) out.setText(text);
    }
    out.header = loc.header;
  }
  if (out.bytesLength > 0) { out.kind = LocationKind.Header; return; }
  for (let i = 0; i < provider.fromParams.length; i++) {
    const text = queryParam(scan.path(), provider.fromParams[i]);
    if (text.length > 0) { out.setText(text); out.kind = LocationKind.Param; out.header = null; return; }
  }
  for (let i = 0; i < provider.fromCookies.length; i++) {
    const text = cookieValue(scan.cookie(), provider.fromCookies[i]);
    if (text.length > 0) { out.setText(text); out.kind = LocationKind.Cookie; out.header = null; return; }
  }
}

/**
 * Finds the token for one of `providers` (the first provider that has one; later providers that
 * see the same token are added). Null when no location holds one. The result is `scan.found`,
 * possibly borrowing the header buffer: `detach` it to keep it.
 */
export function extractToken(providers: Array<ProviderConfig>, view: RequestView, plan: HeaderPlan, scan: TokenScan): ExtractedToken | null {
  const found = scan.found;
  const candidate = scan.candidate;
  for (let p = 0; p < providers.length; p++) {
    const provider = providers[p];
    providerToken(provider, view, plan, scan, candidate);
    if (candidate.bytesLength == 0) continue;
    if (found.bytesLength == 0) {
      found.copyFrom(candidate);
      found.providers.push(provider);
    } else if (found.sameToken(candidate)) {
      found.providers.push(provider);
    }
  }
  return found.bytesLength == 0 ? null : found;
}

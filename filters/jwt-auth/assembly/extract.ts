/**
 * Token extraction from the request (Envoy JwtProvider from_headers / from_params /
 * from_cookies; default `Authorization: Bearer <token>`, RFC 6750 §2.1 where the scheme name is
 * case-insensitive). The first location that yields a token wins, in the order
 * headers → params → cookies of each provider, providers in rule order.
 */
import { ProviderConfig } from "./config";
import { startsWithIgnoreAsciiCase } from "./text";
import { COOKIE_HEADER, HostName, requestHeader } from "./host-io";

export enum LocationKind { Header, Param, Cookie }

export class ExtractedToken {
  token: string = "";
  kind: LocationKind = LocationKind.Header;
  /** Header (Header kind) — used to strip the token when it is not forwarded. */
  header: HostName | null = null;
  /** Providers of the rule whose locations include where the token was found. */
  providers: Array<ProviderConfig> = new Array<ProviderConfig>();
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

/** Finds the token for one of `providers`. Null when no location holds one. */
export function extractToken(providers: Array<ProviderConfig>, path: string): ExtractedToken | null {
  let found: ExtractedToken | null = null;
  let cookieHeader: string | null = null;
  for (let p = 0; p < providers.length; p++) {
    const provider = providers[p];
    let token = "";
    let kind = LocationKind.Header;
    let header: HostName | null = null;
    for (let i = 0; i < provider.fromHeaders.length && token.length == 0; i++) {
      const loc = provider.fromHeaders[i];
      const value = requestHeader(loc.header);
      if (value.length == 0) continue;
      token = afterPrefix(value, loc.valuePrefix);
      header = loc.header;
    }
    for (let i = 0; i < provider.fromParams.length && token.length == 0; i++) {
      token = queryParam(path, provider.fromParams[i]);
      kind = LocationKind.Param;
    }
    for (let i = 0; i < provider.fromCookies.length && token.length == 0; i++) {
      if (cookieHeader === null) cookieHeader = requestHeader(COOKIE_HEADER);
      token = cookieValue(cookieHeader!, provider.fromCookies[i]);
      kind = LocationKind.Cookie;
    }
    if (token.length == 0) continue;
    if (found === null) {
      found = new ExtractedToken();
      found.token = token;
      found.kind = kind;
      found.header = kind == LocationKind.Header ? header : null;
      found.providers.push(provider);
    } else if (found!.token == token) {
      found!.providers.push(provider);
    }
  }
  return found;
}

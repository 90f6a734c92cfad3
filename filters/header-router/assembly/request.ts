/**
 * What a request offers to the matchers, read once per request: headers (joined with "," for
 * repeated names, as Envoy's header matcher sees them), path and query, cookies, and — only when
 * a rule asks — the JWT payload jwt-auth published and connection properties.
 */
@external("env", "proxy_get_header_map_pairs")
declare function proxy_get_header_map_pairs(map_type: u32, return_ptr: usize, return_size: usize): u32;

const headerCells = new StaticArray<u32>(2);
import { JsonValue, parseJson } from "../../lib/json";
import { base64UrlDecode } from "../../lib/base64";
import { fetchProperty, propertyBytes, propertyInt, propertyLength, propertyString, releaseProperty } from "../../lib/properties";
import { asciiLower, MatchSpec, NamedMatcher, MatchKind, StringMatcher } from "./config";

/** jwt-auth's hand-over (filters/jwt-auth/assembly/outputs.ts): filter state, else the internal header. */
const PATH_JWT_PAYLOAD = String.UTF8.encode("wasmesh.jwt.payload");
const HEADER_JWT_PAYLOAD = "x-wasmesh-jwt-payload";
const PATH_SOURCE_ADDRESS = String.UTF8.encode("source\0address");
const PATH_DESTINATION_PORT = String.UTF8.encode("destination\0port");
const PATH_PEER_URI_SAN = String.UTF8.encode("connection\0uri_san_peer_certificate");

export class RequestFacts {
  names: Array<string> = new Array();
  values: Array<string> = new Array();
  path: string = "/";
  /** :path up to `?` or `#`. */
  pathOnly: string = "/";
  pathLower: string | null = null;
  method: string = "";
  authority: string = "";
  /** :authority lower-cased without the port. */
  host: string = "";
  scheme: string = "";
  private queryNames: Array<string> | null = null;
  private queryValues: Array<string> = new Array();
  private cookieNames: Array<string> | null = null;
  private cookieValues: Array<string> = new Array();
  private claimsRead: bool = false;
  private payload: JsonValue | null = null;
  private sourceIpValue: string | null = null;
  private principalRead: bool = false;
  private principalValue: string | null = null;
  private portValue: i64 = -2;

  /**
   * Reads the request headers straight from the host's serialized map (u32 count, then
   * key/value lengths, then NUL-terminated bytes: the proxy-wasm ABI), decoding each string once
   * without the SDK's intermediate buffers.
   */
  read(): void {
    const names = this.names;
    const values = this.values;
    names.length = 0;
    values.length = 0;
    this.path = "/";
    this.method = "";
    this.authority = "";
    this.scheme = "";
    const cells = changetype<usize>(headerCells);
    if (proxy_get_header_map_pairs(0 /* RequestHeaders */, cells, cells + 4) == 0) {
      const base = <usize>load<u32>(cells);
      const size = <usize>load<u32>(cells + 4);
      if (base != 0 && size >= 4) {
        const end = base + size;
        const count = <usize>load<u32>(base);
        let sizes = base + 4;
        let data = base + 4 + count * 8;
        for (let i: usize = 0; i < count; i++) {
          const keyLength = <usize>load<u32>(sizes);
          const valueLength = <usize>load<u32>(sizes + 4);
          sizes += 8;
          if (data + keyLength + valueLength + 2 > end) break;
          const name = String.UTF8.decodeUnsafe(data, keyLength);
          const value = String.UTF8.decodeUnsafe(data + keyLength + 1, valueLength);
          data += keyLength + valueLength + 2;
          if (keyLength > 0 && load<u8>(data - keyLength - valueLength - 2) == 0x3a) {
            if (name == ":path") this.path = value;
            else if (name == ":method") this.method = value;
            else if (name == ":authority") this.authority = value;
            else if (name == ":scheme") this.scheme = value;
          }
          names.push(name);
          values.push(value);
        }
      }
      // The host allocated the buffer through proxy_on_memory_allocate, which pins it.
      if (base != 0) __unpin(base);
    }
    let cut = this.path.indexOf("?");
    const hash = this.path.indexOf("#");
    if (hash >= 0 && (cut < 0 || hash < cut)) cut = hash;
    this.pathOnly = cut < 0 ? this.path : this.path.substring(0, cut);
    this.pathLower = null;
    this.host = asciiLower(stripPort(this.authority));
    this.queryNames = null;
    this.cookieNames = null;
    this.claimsRead = false;
    this.payload = null;
    this.sourceIpValue = null;
    this.principalRead = false;
    this.principalValue = null;
    this.portValue = -2;
  }

  /** Values of header `name` joined with ","; null when absent. */
  header(name: string): string | null {
    let out: string | null = null;
    for (let i = 0, n = this.names.length; i < n; i++) {
      if (unchecked(this.names[i]) != name) continue;
      out = out === null ? unchecked(this.values[i]) : out! + "," + unchecked(this.values[i]);
    }
    return out;
  }

  lowerPath(): string {
    let p = this.pathLower;
    if (p === null) { p = asciiLower(this.pathOnly); this.pathLower = p; }
    return p!;
  }

  /** First value of query parameter `name` (percent-decoding is not applied, as Envoy). */
  query(name: string): string | null {
    let names = this.queryNames;
    if (names === null) {
      names = new Array<string>();
      this.queryValues.length = 0;
      const q = this.path.indexOf("?");
      if (q >= 0) {
        let end = this.path.indexOf("#", q);
        if (end < 0) end = this.path.length;
        const parts = this.path.substring(q + 1, end).split("&");
        for (let i = 0; i < parts.length; i++) {
          const part = parts[i];
          if (part.length == 0) continue;
          const eq = part.indexOf("=");
          names.push(eq < 0 ? part : part.substring(0, eq));
          this.queryValues.push(eq < 0 ? "" : part.substring(eq + 1));
        }
      }
      this.queryNames = names;
    }
    const at = names!.indexOf(name);
    return at < 0 ? null : this.queryValues[at];
  }

  /** Cookie `name` from the Cookie header(s) (RFC 6265 §5.4: "; "-separated pairs). */
  cookie(name: string): string | null {
    let names = this.cookieNames;
    if (names === null) {
      names = new Array<string>();
      this.cookieValues.length = 0;
      for (let i = 0; i < this.names.length; i++) {
        if (this.names[i] != "cookie") continue;
        const parts = this.values[i].split(";");
        for (let j = 0; j < parts.length; j++) {
          const part = parts[j].trim();
          const eq = part.indexOf("=");
          if (eq <= 0) continue;
          names.push(part.substring(0, eq));
          let value = part.substring(eq + 1);
          if (value.length >= 2 && value.startsWith("\"") && value.endsWith("\"")) value = value.substring(1, value.length - 1);
          this.cookieValues.push(value);
        }
      }
      this.cookieNames = names;
    }
    const at = names!.indexOf(name);
    return at < 0 ? null : this.cookieValues[at];
  }

  /** Claim `path` (dot-separated) of the verified JWT, as a string (numbers/booleans as JSON); null if absent. */
  claim(path: string): string | null {
    if (!this.claimsRead) {
      this.claimsRead = true;
      let text = propertyString(PATH_JWT_PAYLOAD);
      if (text === null) {
        const header = this.header(HEADER_JWT_PAYLOAD);
        if (header !== null) {
          const decoded = base64UrlDecode(header);
          if (decoded !== null) text = String.UTF8.decode(decoded.buffer);
        }
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

function namedAll(list: Array<NamedMatcher>, facts: RequestFacts, kind: i32): bool {
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    let value: string | null = null;
    if (kind == 0) value = facts.header(m.name);
    else if (kind == 1) value = facts.query(m.name);
    else if (kind == 2) value = facts.cookie(m.name);
    else value = facts.claim(m.name);
    if (value === null || !m.matcher.matches(value)) return false;
  }
  return true;
}

/** Node facts read once per configuration (the local workload, for sourceLabels/sourceNamespace). */
export class NodeFacts {
  labels: Array<string> = new Array(); // name, value, ...
  namespace: string = "";

  label(name: string): string | null {
    for (let i = 0; i < this.labels.length; i += 2) if (this.labels[i] == name) return this.labels[i + 1];
    return null;
  }
}

function uriMatches(m: StringMatcher, facts: RequestFacts, ignoreCase: bool): bool {
  // Istio's ignoreUriCase is Envoy's RouteMatch.case_sensitive=false: no effect on regex.
  if (m.kind == MatchKind.Regex) return m.matches(facts.pathOnly);
  return m.matches(ignoreCase ? facts.lowerPath() : facts.pathOnly);
}

/** One HTTPMatchRequest: every field must hold. */
export function matchesRequest(m: MatchSpec, facts: RequestFacts, node: NodeFacts): bool {
  const uri = m.uri;
  if (uri !== null && !uriMatches(uri, facts, m.ignoreUriCase)) return false;
  const method = m.method;
  if (method !== null && !method.matches(facts.method)) return false;
  const authority = m.authority;
  if (authority !== null && !authority.matches(facts.authority)) return false;
  const scheme = m.scheme;
  if (scheme !== null && !scheme.matches(facts.scheme)) return false;
  if (!namedAll(m.headers, facts, 0)) return false;
  for (let i = 0; i < m.withoutHeaders.length; i++) {
    const w = m.withoutHeaders[i];
    const value = facts.header(w.name);
    if (value !== null && w.matcher.matches(value)) return false;
  }
  if (m.queryParams.length > 0 && !namedAll(m.queryParams, facts, 1)) return false;
  if (m.cookies.length > 0 && !namedAll(m.cookies, facts, 2)) return false;
  if (m.claims.length > 0 && !namedAll(m.claims, facts, 3)) return false;
  if (m.port != 0 && facts.port() != <i64>m.port) return false;
  const principal = m.sourcePrincipal;
  if (principal !== null) {
    const p = facts.principal();
    if (p === null || !principal.matches(p)) return false;
  }
  for (let i = 0; i < m.sourceLabels.length; i++) {
    const value = node.label(m.sourceLabels[i].name);
    if (value === null || value != m.sourceLabels[i].matcher.value) return false;
  }
  if (m.sourceNamespace.length > 0 && node.namespace != m.sourceNamespace) return false;
  return true;
}

/** Reads node.metadata LABELS and NAMESPACE (Istio's node metadata) from the host, once. */
export function readNodeFacts(): NodeFacts {
  const node = new NodeFacts();
  const ns = propertyString(String.UTF8.encode("node\0metadata\0NAMESPACE"));
  if (ns !== null) node.namespace = protobufValueString(ns);
  if (fetchProperty(String.UTF8.encode("node\0metadata\0LABELS"))) {
    readStructLabels(propertyBytes(), propertyLength(), node.labels);
    releaseProperty();
  }
  return node;
}

/**
 * A google.protobuf.Value holding a string (field 3) as Envoy returns a Struct field; plain text
 * is taken as is (hosts that hand the string itself).
 */
function protobufValueString(text: string): string {
  if (text.length >= 2 && text.charCodeAt(0) == 0x1a) {
    const bytes = String.UTF8.encode(text);
    const view = Uint8Array.wrap(bytes);
    const len = view[1];
    if (len < 0x80 && 2 + <i32>len == view.length) return String.UTF8.decodeUnsafe(changetype<usize>(bytes) + 2, len);
  }
  return text;
}

function varint(ptr: usize, end: usize, out: StaticArray<u64>): usize {
  let value: u64 = 0;
  let shift: u64 = 0;
  while (ptr < end) {
    const b = load<u8>(ptr++);
    value |= (<u64>(b & 0x7f)) << shift;
    if ((b & 0x80) == 0) { out[0] = value; return ptr; }
    shift += 7;
    if (shift > 63) break;
  }
  return 0;
}

/** Value{struct_value=5: Struct{fields=1: entry{key=1, value=2: Value{string_value=3}}}} → name, value pairs. */
function readStructLabels(ptr: usize, length: i32, out: Array<string>): void {
  const cell = new StaticArray<u64>(1);
  let p = ptr;
  let end = ptr + <usize>length;
  // Unwrap Value.struct_value when present.
  if (p < end && load<u8>(p) == 0x2a) {
    p = varint(p + 1, end, cell);
    if (p == 0) return;
    end = p + <usize>cell[0];
  }
  while (p != 0 && p < end) {
    const tag = load<u8>(p);
    p = varint(p + 1, end, cell);
    if (p == 0) return;
    const entryEnd = p + <usize>cell[0];
    if (tag != 0x0a || entryEnd > end) { p = entryEnd; continue; }
    let key = "";
    let value = "";
    let q = p;
    while (q != 0 && q < entryEnd) {
      const t = load<u8>(q);
      q = varint(q + 1, entryEnd, cell);
      if (q == 0) return;
      const len = <usize>cell[0];
      if (t == 0x0a) key = String.UTF8.decodeUnsafe(q, len);
      else if (t == 0x12 && len > 2 && load<u8>(q) == 0x1a) {
        const inner = varint(q + 1, q + len, cell);
        if (inner != 0) value = String.UTF8.decodeUnsafe(inner, <usize>cell[0]);
      }
      q += len;
    }
    if (key.length > 0) { out.push(key); out.push(value); }
    p = entryEnd;
  }
}

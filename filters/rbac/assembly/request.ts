/**
 * Everything a policy can look at, read once per request (one header-map fetch; connection
 * properties once per connection, only those some policy needs) and then matched against every
 * index in one pass.
 * Property paths and encodings: Envoy attributes (deployer/src/host/README.md, envoy
 * source/extensions/common/wasm/context.cc): segments separated by NUL, ints as 8-byte LE.
 */
import { JsonValue, parseJson } from "../../lib/json";
import { base64UrlDecode } from "../../lib/base64";
import { CompiledPolicies } from "./compiler";
import { IpAddress, addressPart, parseIpInto } from "./cidr";
import { ConnectionCache, ConnectionFacts, needsConnectionFacts, needsSource } from "./connection-facts";
import { markCandidates } from "./candidates";
import { MatchSet } from "./match-set";
import { internMethod } from "./methods";
import { propertyString } from "../../lib/properties";
import { armScratch, disarmScratch, releaseScratch } from "../../lib/host-memory";
import { StringIndex } from "./string-index";
import { spanEquals } from "../../lib/bytes";

/** Set by the jwt-auth filter earlier in the chain (a single path segment). */
export const PROPERTY_JWT_PRINCIPAL = "wasmesh.jwt.principal";
export const PROPERTY_JWT_PAYLOAD = "wasmesh.jwt.payload";
/** The verified token's `iss`, set by jwt-auth with the principal: iss and sub without the payload. */
export const PROPERTY_JWT_ISSUER = "wasmesh.jwt.issuer";
/**
 * Fallback when the property is unavailable: base64url JSON payload in an internal header.
 * Only safe behind jwt-auth, which strips client-sent copies (see README).
 */
export const HEADER_JWT_PAYLOAD = "x-wasmesh-jwt-payload";

export class RequestFacts {
  names: Array<string> = new Array();
  values: Array<string> = new Array();
  method: string = "";
  rawPath: string = "";
  authority: string = "";
  /** Normalized path without query or fragment (set after normalization). */
  path: string = "";
  uriSan: string | null = null;
  sourceIp: IpAddress | null = null;
  remoteIp: IpAddress | null = null;
  destinationIp: IpAddress | null = null;
  destinationPort: i32 = -1;
  sni: string | null = null;
  iss: string | null = null;
  sub: string | null = null;
  payload: JsonValue | null = null;
  /** The cache entry the connection facts came from (null when no policy needs any). */
  connection: ConnectionFacts | null = null;
  /** The whole header map was read (names/values hold the wanted headers), not only pseudo-headers. */
  pairsRead: bool = false;
  /** What remoteIp points at when X-Forwarded-For names the client: parsed in place. */
  readonly remoteAddress: IpAddress = new IpAddress();

  /** Forget the previous request (the object is reused: no per-request allocation of it). */
  reset(): void {
    this.names.length = 0;
    this.values.length = 0;
    this.method = "";
    this.rawPath = "";
    this.authority = "";
    this.path = "";
    this.uriSan = null;
    this.sourceIp = null;
    this.remoteIp = null;
    this.destinationIp = null;
    this.destinationPort = -1;
    this.sni = null;
    this.connection = null;
    this.pairsRead = false;
    this.iss = null;
    this.sub = null;
    this.payload = null;
  }

  /** Values of header `name` joined with ",", as Envoy's header matcher sees them; null if absent. */
  header(name: string): string | null {
    let out: string | null = null;
    for (let i = 0, n = this.names.length; i < n; i++) {
      if (unchecked(this.names[i]) != name) continue;
      out = out === null ? unchecked(this.values[i]) : out + "," + unchecked(this.values[i]);
    }
    return out;
  }
}

/** Encoded once: the runtime's get_property would UTF-8 encode the path on every call. */
const PATH_JWT_PRINCIPAL = String.UTF8.encode(PROPERTY_JWT_PRINCIPAL);
const PATH_JWT_PAYLOAD = String.UTF8.encode(PROPERTY_JWT_PAYLOAD);
const PATH_JWT_ISSUER = String.UTF8.encode(PROPERTY_JWT_ISSUER);

@external("env", "proxy_get_header_map_pairs")
declare function proxy_get_header_map_pairs(map_type: u32, return_ptr: usize, return_size: usize): u32;
import { fetchHeader, fetchedBytes, fetchedLength, releaseFetched } from "../../lib/host-values";
/** HeaderMapType.RequestHeaders */
const REQUEST_HEADERS: u32 = 0;

const headerCells = new StaticArray<u32>(2);

const NAME_METHOD = String.UTF8.encode(":method");
const NAME_PATH = String.UTF8.encode(":path");
const NAME_AUTHORITY = String.UTF8.encode(":authority");

/**
 * The header names some compiled policy reads, as UTF-8 bytes built once per configuration:
 * readHeaders compares raw bytes against them and decodes only those headers, instead of two
 * strings per header per request. `all`: a CUSTOM provider may forward any header to the
 * authorizer, so every header is kept.
 */
class WantedHeaders {
  names: Array<ArrayBuffer> = new Array();
  /** The same names as strings: a wanted header's name is this string, not a decoded copy. */
  texts: Array<string> = new Array();
  all: bool = false;
  /** :authority is read by hosts rules and forwarded to the authorizer; otherwise not decoded. */
  authority: bool = false;
  /**
   * No policy reads a header: only the pseudo-headers are needed, and the jwt-auth fallback
   * header only when the principal property is absent (readJwt then reads the map).
   */
  pseudoOnly: bool = false;
  constructor(readonly policies: CompiledPolicies, readonly trustedHops: i32) {
    this.all = policies.custom.length > 0;
    this.authority = this.all || !policies.hosts.isEmpty;
    for (let i = 0; i < policies.headers.length; i++) this.add(policies.headers[i].name);
    if (trustedHops > 0 && (!policies.sourceIps.isEmpty || !policies.remoteIps.isEmpty)) this.add("x-forwarded-for");
    this.pseudoOnly = !this.all && this.names.length == 0;
    if (policies.needsJwt) this.add(HEADER_JWT_PAYLOAD);
  }

  private add(name: string): void {
    this.names.push(String.UTF8.encode(name));
    this.texts.push(name);
  }

  /** The header's name if some policy reads it (every name when `all`), else null. */
  wanted(name: usize, length: usize): string | null {
    const names = this.names;
    for (let i = 0, n = names.length; i < n; i++) {
      if (spanEquals(name, <i32>length, unchecked(names[i]))) return unchecked(this.texts[i]);
    }
    return this.all ? String.UTF8.decodeUnsafe(name, length) : null;
  }
}

let wantedHeaders: WantedHeaders | null = null;

function wantedFor(policies: CompiledPolicies, trustedHops: i32): WantedHeaders {
  let wanted = wantedHeaders;
  if (wanted === null || wanted.policies !== policies || wanted.trustedHops != trustedHops) {
    wanted = new WantedHeaders(policies, trustedHops);
    wantedHeaders = wanted;
  }
  return wanted;
}

/**
 * Reads the request header map straight from the host's serialization (proxy-wasm spec: u32
 * count, u32 key/value lengths, then `key\0value\0`...), decoding only the pseudo-headers the
 * filter uses and the headers some policy reads (WantedHeaders): no runtime ArrayBuffer copies
 * and no strings for headers nobody looks at — fewer allocations per request, less GC work.
 * When no policy reads a header, only the pseudo-headers are needed: each is read on its own
 * (readPseudoHeaders), sparing the host the serialization of the whole map.
 */
function readHeaders(facts: RequestFacts, wanted: WantedHeaders): void {
  if (wanted.pseudoOnly) readPseudoHeaders(facts, wanted.authority);
  else readHeaderMap(facts, wanted);
}

function readHeaderMap(facts: RequestFacts, wanted: WantedHeaders): void {
  facts.pairsRead = true;
  const cells = changetype<usize>(headerCells);
  // The map is decoded right here and dropped: it may go to the scratch area (lib/host-memory.ts).
  armScratch();
  const status = proxy_get_header_map_pairs(0 /* RequestHeaders */, cells, cells + 4);
  disarmScratch();
  if (status != 0) return;
  const base = <usize>load<u32>(cells);
  const size = <usize>load<u32>(cells + 4);
  if (base == 0) return;
  if (size >= 4) readPairs(facts, wanted, base, base + size);
  releaseScratch(base);
}

function readPairs(facts: RequestFacts, wanted: WantedHeaders, base: usize, end: usize): void {
  const count = <usize>load<u32>(base);
  let sizes = base + 4;
  let data = base + 4 + count * 8;
  for (let i: usize = 0; i < count && data <= end; i++) {
    const keyLength = <usize>load<u32>(sizes);
    const valueLength = <usize>load<u32>(sizes + 4);
    sizes += 8;
    if (data + keyLength + valueLength + 2 > end) break;
    const name = data;
    const valueAt = data + keyLength + 1;
    data = valueAt + valueLength + 1;
    if (spanEquals(name, <i32>keyLength, NAME_METHOD)) facts.method = internMethod(valueAt, valueLength);
    else if (spanEquals(name, <i32>keyLength, NAME_PATH)) facts.rawPath = String.UTF8.decodeUnsafe(valueAt, valueLength);
    else if (wanted.authority && spanEquals(name, <i32>keyLength, NAME_AUTHORITY)) facts.authority = String.UTF8.decodeUnsafe(valueAt, valueLength);
    const wantedName = wanted.wanted(name, keyLength);
    if (wantedName === null) continue;
    facts.names.push(wantedName);
    facts.values.push(String.UTF8.decodeUnsafe(valueAt, valueLength));
  }
}

/** :method, :path and (when a hosts rule needs it) :authority, one proxy_get_header_map_value each (lib/host-values.ts). */
function readPseudoHeaders(facts: RequestFacts, authority: bool): void {
  if (fetchHeader(REQUEST_HEADERS, NAME_METHOD)) {
    facts.method = internMethod(fetchedBytes(), <usize>fetchedLength());
    releaseFetched();
  }
  if (fetchHeader(REQUEST_HEADERS, NAME_PATH)) {
    facts.rawPath = String.UTF8.decodeUnsafe(fetchedBytes(), <usize>fetchedLength());
    releaseFetched();
  }
  if (authority && fetchHeader(REQUEST_HEADERS, NAME_AUTHORITY)) {
    facts.authority = String.UTF8.decodeUnsafe(fetchedBytes(), <usize>fetchedLength());
    releaseFetched();
  }
}

/**
 * Reads the request headers, and the connection facts the compiled policies need (from the
 * per-connection cache: see connection-facts.ts), into `facts`.
 */
export function readRequest(policies: CompiledPolicies, trustedHops: i32, connections: ConnectionCache, facts: RequestFacts): RequestFacts {
  facts.reset();
  const wanted = wantedFor(policies, trustedHops);
  readHeaders(facts, wanted);
  if (needsConnectionFacts(policies)) {
    const connection = connections.lookup(policies);
    facts.connection = connection;
    facts.uriSan = connection.uriSan;
    facts.sourceIp = connection.sourceIp;
    facts.destinationIp = connection.destinationIp;
    facts.destinationPort = connection.destinationPort;
    facts.sni = connection.sni;
    // The remote address may come from this request's X-Forwarded-For: never cached.
    if (needsSource(policies)) facts.remoteIp = remoteAddress(facts, trustedHops);
  }
  if (policies.needsJwt) readJwt(facts, policies.claims.length > 0, wanted);
  return facts;
}

/**
 * Envoy's original client address with `xff_num_trusted_hops` = N: the N-th entry from the
 * right of X-Forwarded-For (each trusted proxy appended one); with N = 0, or when the header
 * has fewer entries or a bad address, the direct peer (Envoy falls back the same way).
 */
function remoteAddress(facts: RequestFacts, trustedHops: i32): IpAddress | null {
  if (trustedHops == 0) return facts.sourceIp;
  const xff = facts.header("x-forwarded-for");
  if (xff === null) return facts.sourceIp;
  const entries = xff.split(",");
  if (entries.length < trustedHops) return facts.sourceIp;
  const remote = facts.remoteAddress;
  return parseIpInto(addressPart(entries[entries.length - trustedHops]), remote) ? remote : facts.sourceIp;
}

/**
 * The verified JWT's iss and sub (and its claims when `needsClaims`). jwt-auth sets the principal
 * `<iss>/<sub>` with the issuer beside it, so iss and sub come without parsing the payload; the
 * payload is parsed only for claim rules, or when the issuer property is missing (a jwt-auth that
 * does not set it).
 */
function readJwt(facts: RequestFacts, needsClaims: bool, wanted: WantedHeaders): void {
  const principal = propertyString(PATH_JWT_PRINCIPAL);
  if (principal !== null && !needsClaims) {
    const issuer = propertyString(PATH_JWT_ISSUER);
    if (issuer !== null && principal.length > issuer.length && principal.charCodeAt(issuer.length) == 0x2f && principal.startsWith(issuer)) {
      facts.iss = issuer;
      facts.sub = principal.substring(issuer.length + 1);
      return;
    }
  }
  // jwt-auth sets both properties together: without a principal there is no payload to ask for.
  let payloadText: string | null = null;
  if (principal !== null) payloadText = propertyString(PATH_JWT_PAYLOAD);
  if (principal === null) {
    // The fallback header: only pseudo-headers were read so far (WantedHeaders.pseudoOnly).
    if (!facts.pairsRead) readHeaderMap(facts, wanted);
    const header = facts.header(HEADER_JWT_PAYLOAD);
    if (header !== null) {
      const decoded = base64UrlDecode(header);
      if (decoded !== null) payloadText = String.UTF8.decode(decoded.buffer);
    }
  }
  if (payloadText !== null) {
    const payload = parseJson(payloadText);
    if (payload !== null && payload.isObject()) {
      facts.payload = payload;
      const iss = payload.get("iss");
      const sub = payload.get("sub");
      if (iss !== null && iss.isString() && sub !== null && sub.isString()) {
        facts.iss = iss.stringValue;
        facts.sub = sub.stringValue;
      }
    }
  }
  if (facts.iss === null && principal !== null) {
    const slash = principal.lastIndexOf("/");
    if (slash > 0) {
      facts.iss = principal.substring(0, slash);
      facts.sub = principal.substring(slash + 1);
    }
  }
}

/**
 * Walks every index once with the request's facts, marking the predicates it satisfies and then
 * the policies those predicates make candidates (the only ones decision.ts evaluates).
 */
export function matchRequest(policies: CompiledPolicies, facts: RequestFacts, out: MatchSet): void {
  out.reset();
  matchConnection(policies, facts, out);
  policies.requestPrincipals.match(facts.iss, facts.sub, out);
  // The remote address may come from this request's X-Forwarded-For: matched per request.
  policies.remoteIps.match(facts.remoteIp, out);
  const authority = facts.authority;
  if (!policies.hosts.isEmpty && authority.length > 0) {
    policies.hosts.match(authority, out);
    const hostEnd = hostLength(authority);
    if (hostEnd != authority.length) policies.hosts.matchRange(authority, 0, hostEnd, out);
  }
  policies.methods.match(facts.method, out);
  policies.paths.match(facts.path, out);
  policies.pathTemplates.match(facts.path, out);
  for (let i = 0; i < policies.headers.length; i++) {
    const value = facts.header(policies.headers[i].name);
    if (value !== null) policies.headers[i].index.match(value, out);
  }
  const payload = facts.payload;
  if (payload !== null) {
    for (let i = 0; i < policies.claims.length; i++) matchClaim(payload, policies.claims[i].path, policies.claims[i].index, out);
  }
  markCandidates(policies, out);
}

/**
 * Marks the predicates the connection's facts satisfy. Matched on the connection's first request
 * and recorded in its cache entry; later requests on it replay the marks instead of matching
 * principals, namespaces, CIDRs, port and SNI again. Runs first after the reset, so the marks
 * made here are exactly the set's first ones.
 */
function matchConnection(policies: CompiledPolicies, facts: RequestFacts, out: MatchSet): void {
  const connection = facts.connection;
  if (connection === null) return;
  if (connection.marksRecorded) {
    out.markAll(connection.marks);
    return;
  }
  policies.principals.match(facts.uriSan, out);
  policies.namespaces.match(facts.uriSan, out);
  policies.sourceIps.match(facts.sourceIp, out);
  policies.destinationIps.match(facts.destinationIp, out);
  if (facts.destinationPort >= 0 && !policies.ports.isEmpty) policies.ports.match(portText(facts.destinationPort), out);
  const sni = facts.sni;
  if (sni !== null) policies.sni.match(sni, out);
  connection.recordMarks(out);
}

let lastPort: i32 = -1;
let lastPortText: string = "";

/** Decimal text of a port; a listener sees few distinct ports, so the last one is kept. */
function portText(port: i32): string {
  if (port != lastPort) {
    lastPort = port;
    lastPortText = port.toString();
  }
  return lastPortText;
}

/**
 * Length of the host in an authority: `host:port` → `host`, `[v6]:port` → `[v6]`; a trailing dot
 * is dropped too (`a.com.` is the same DNS name as `a.com`), so neither a port nor a root label
 * slips past a hosts rule. A length, not a substring: the index matches the range in place.
 */
export function hostLength(authority: string): i32 {
  let length = authority.length;
  // One backwards scan over the UTF-16 units for the last ']', the last ':' and how many ':'
  // there are, instead of three string searches (each a call with a one-character needle).
  const chars = changetype<usize>(authority);
  let close = -1;
  let colon = -1;
  let colons = 0;
  for (let i = length - 1; i >= 0; i--) {
    const c = load<u16>(chars + (<usize>i << 1));
    if (c == 0x3a /* : */) {
      if (colon < 0) colon = i;
      colons++;
    } else if (c == 0x5d /* ] */ && close < 0) {
      close = i;
    }
  }
  // A port follows the last ':' when it is after a bracketed IPv6 literal, or is the only ':'
  // (a bare IPv6 address has several and no port).
  if (colon > close && (close >= 0 || colons == 1)) length = colon;
  if (length > 1 && authority.charCodeAt(length - 1) == 0x2e) length--;
  return length;
}

/** A string claim matches itself; a list claim matches if any string element does. */
function matchClaim(payload: JsonValue, path: Array<string>, index: StringIndex, out: MatchSet): void {
  let node: JsonValue | null = payload;
  for (let i = 0; i < path.length && node !== null; i++) node = node.get(path[i]);
  if (node === null) return;
  if (node.isString()) {
    index.match(node.stringValue, out);
  } else if (node.isArray()) {
    for (let i = 0; i < node.items.length; i++) {
      if (node.items[i].isString()) index.match(node.items[i].stringValue, out);
    }
  }
}


/**
 * What a policy can ask about the downstream connection — peer URI SAN, source and destination
 * address, destination port, SNI — read once per connection instead of once per request.
 *
 * These facts cannot change during a connection's life, and inbound sidecar traffic mostly
 * arrives on long-lived connections (mTLS, HTTP/2, keep-alive). Each of them is a host call that
 * allocates its result in the VM (proxy_on_memory_allocate → malloc → GC object): four per
 * request before, one (`connection.id`) on a connection seen recently now.
 *
 * Keyed by Envoy's `connection.id` (uint64, "Downstream connection ID" in the attributes
 * reference; envoy source/extensions/filters/common/expr/context.cc serves it from
 * `downstreamAddressProvider().connectionID()`, absent when unset): assigned from a process-wide
 * atomic counter when the connection object is built
 * (`ConnectionImplBase::next_global_id_++`, envoy source/common/network/connection_impl_base.cc),
 * so an id never names two connections during the Envoy process's life — a cached entry can never
 * hand one connection's identity to another. When the host has no connection id, nothing is
 * cached: every request reads its facts afresh.
 */
import { CompiledPolicies } from "./compiler";
import { IpAddress, parseAddressBytes } from "./cidr";
import { MatchSet } from "./match-set";
import { fetchProperty, propertyBytes, propertyInt, propertyLength, propertyString, releaseProperty } from "../../lib/properties";

/** Encoded once: the runtime's get_property would UTF-8 encode the path on every call. */
const PATH_CONNECTION_ID = String.UTF8.encode("connection\0id");
const PATH_SOURCE_ADDRESS = String.UTF8.encode("source\0address");
const PATH_DESTINATION_ADDRESS = String.UTF8.encode("destination\0address");
const PATH_DESTINATION_PORT = String.UTF8.encode("destination\0port");
const PATH_PEER_URI_SAN = String.UTF8.encode("connection\0uri_san_peer_certificate");
const PATH_SNI = String.UTF8.encode("connection\0requested_server_name");

/**
 * Connections remembered per VM. Envoy runs one VM per worker thread and a connection stays on
 * its worker, so this is the number of concurrently active connections per worker that hit the
 * cache; beyond it the least recently used is read again (correct, only slower). A few hundred
 * bytes in all, and a linear scan of 16 ids costs less than hashing would.
 */
export const CONNECTION_CACHE_SIZE: i32 = 16;

/** One connection's facts, read for one compiled configuration (what it needs, nothing more). */
export class ConnectionFacts {
  id: u64 = 0;
  /** The slot holds a connection (ids start at 0 in Envoy: 0 is no "empty" marker). */
  occupied: bool = false;
  /** Recency stamp for eviction. */
  lastUse: u64 = 0;
  /** The configuration these facts were read for: another one may need other facts. */
  policies: CompiledPolicies | null = null;
  uriSan: string | null = null;
  sni: string | null = null;
  sourceIp: IpAddress | null = null;
  destinationIp: IpAddress | null = null;
  destinationPort: i32 = -1;
  /**
   * The predicates these facts satisfy (principals, namespaces, source and destination IPs, port,
   * SNI), recorded by the connection's first request and replayed by the next ones: the facts
   * cannot change on a connection, so neither can what they match.
   */
  readonly marks: Array<i32> = new Array();
  marksRecorded: bool = false;
  /** What sourceIp/destinationIp point at: parsed in place, never allocated per read. */
  private readonly sourceAddress: IpAddress = new IpAddress();
  private readonly destinationAddress: IpAddress = new IpAddress();

  /** Reads from the host the connection facts `policies` need; the others stay unset. */
  read(policies: CompiledPolicies): void {
    this.policies = policies;
    this.marksRecorded = false;
    this.uriSan = policies.needsPrincipal ? propertyString(PATH_PEER_URI_SAN) : null;
    this.sourceIp = needsSource(policies) && readAddress(PATH_SOURCE_ADDRESS, this.sourceAddress) ? this.sourceAddress : null;
    this.destinationIp = !policies.destinationIps.isEmpty && readAddress(PATH_DESTINATION_ADDRESS, this.destinationAddress)
      ? this.destinationAddress : null;
    this.destinationPort = -1;
    if (!policies.ports.isEmpty) {
      const port = propertyInt(PATH_DESTINATION_PORT, -1);
      if (port >= 0 && port <= 65535) this.destinationPort = <i32>port;
    }
    this.sni = policies.sni.isEmpty ? null : propertyString(PATH_SNI);
  }

  /** Keeps the set's marks so far: the ones these facts made (matched first after the reset). */
  recordMarks(set: MatchSet): void {
    const marks = this.marks;
    marks.length = 0;
    for (let i = 0, n = set.markedCount; i < n; i++) marks.push(set.markedAt(i));
    this.marksRecorded = true;
  }
}

/** source.address feeds both source and remote IP rules (the remote IP falls back to it). */
export function needsSource(policies: CompiledPolicies): bool {
  return !policies.sourceIps.isEmpty || !policies.remoteIps.isEmpty;
}

/** Whether any policy looks at a connection fact at all (if not, not even the id is read). */
export function needsConnectionFacts(policies: CompiledPolicies): bool {
  return policies.needsPrincipal || needsSource(policies) || !policies.destinationIps.isEmpty ||
    !policies.ports.isEmpty || !policies.sni.isEmpty;
}

/** Parses an address property (`ip:port`, `[v6]:port`) from the host's bytes into `out`. */
function readAddress(path: ArrayBuffer, out: IpAddress): bool {
  if (!fetchProperty(path)) return false;
  const parsed = parseAddressBytes(propertyBytes(), propertyLength(), out);
  releaseProperty();
  return parsed;
}

/** Set by readConnectionId. */
let connectionId: u64 = 0;

function readConnectionId(): bool {
  if (!fetchProperty(PATH_CONNECTION_ID)) return false;
  const valid = propertyLength() == 8;
  if (valid) connectionId = load<u64>(propertyBytes());
  releaseProperty();
  return valid;
}

/** The last CONNECTION_CACHE_SIZE connections' facts, least recently used evicted first. */
export class ConnectionCache {
  private readonly entries: StaticArray<ConnectionFacts> = new StaticArray<ConnectionFacts>(CONNECTION_CACHE_SIZE);
  /** For a host without connection ids: read afresh on every request, never matched later. */
  private readonly uncached: ConnectionFacts = new ConnectionFacts();
  private clock: u64 = 0;

  constructor() {
    for (let i = 0; i < CONNECTION_CACHE_SIZE; i++) this.entries[i] = new ConnectionFacts();
  }

  /** The current stream's connection facts as `policies` need them. */
  lookup(policies: CompiledPolicies): ConnectionFacts {
    const uncached = this.uncached;
    const entry = readConnectionId() ? this.entryFor(connectionId) : uncached;
    // Read from the host: a connection new here, one last seen under another configuration (it
    // may need other facts), or no id to cache by.
    if (entry === uncached || entry.policies !== policies) entry.read(policies);
    return entry;
  }

  /** The connection's entry, or the least recently used one, emptied and taken over for it. */
  private entryFor(id: u64): ConnectionFacts {
    const now = ++this.clock;
    const entries = this.entries;
    let oldest = unchecked(entries[0]);
    for (let i = 0; i < CONNECTION_CACHE_SIZE; i++) {
      const entry = unchecked(entries[i]);
      if (entry.occupied && entry.id == id) {
        entry.lastUse = now;
        return entry;
      }
      if (!entry.occupied || (oldest.occupied && entry.lastUse < oldest.lastUse)) oldest = entry;
    }
    oldest.occupied = true;
    oldest.id = id;
    oldest.lastUse = now;
    oldest.policies = null;
    return oldest;
  }
}

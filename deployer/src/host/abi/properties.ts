/**
 * proxy_get_property / proxy_set_property with Envoy's attribute paths (envoy:context.cc
 * getProperty/findValue/serializeValue/setProperty). Path segments are NUL-separated; values
 * are serialized as Envoy does (README.md "Properties"). Unknown top-level names fall back to
 * filter state `wasm.<name>`, which proxy_set_property writes on the stream.
 */
import type { ConnectionInfo, HeaderList, ListenerDirection } from '../api.js';
import type { PluginVm } from '../plugin-vm.js';
import type { FilterState, StreamBinding, StreamFacts } from '../context.js';
import type { ImportModule } from '../vm.js';
import { WasmResult } from './constants.js';
import { u32 } from './memory.js';
import { copyStringOut } from './copy-out.js';
import { serializePairs } from './pairs.js';
import { ByteSlab } from './byte-slab.js';
import { PropertyKeys } from './property-keys.js';
import { nodeBytes, nodeMetadataBytes, nodeMetadataField } from './property-node.js';
import { encode, StructType, toStruct } from './proto.js';
import {
  boolBytes, copyBytesOut, durationNanos, eightBytes, grpcStatus, headerBytes, joinedHeader, owned, responseCode, responseFlagBits, startNanos,
} from './property-values.js';

import { FILTER_STATE_PREFIX, PathCache, pathSegments, type PathEntry } from './property-path-cache.js';

const encoder = new TextEncoder();

export { FILTER_STATE_PREFIX, PathCache } from './property-path-cache.js';

/**
 * A resolved attribute: a final value, or a map that later path segments walk. Maps are
 * small tagged records resolved by switch (no closures built per lookup: this runs for every
 * proxy_get_property call of every request).
 */
type Attr =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  /** A string value, UTF-8 encoded only when handed over (copy-out.ts writes ASCII directly). */
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'headers'; readonly pairs: HeaderList }
  | { readonly kind: 'request' | 'response' | 'connection' | 'source' | 'destination' | 'upstream'; readonly facts: StreamFacts }
  | { readonly kind: 'xds'; readonly facts: StreamFacts | undefined }
  | { readonly kind: 'node' | 'node_metadata' | 'node_metadata_fields' }
  /** A Struct value below node.metadata, walked as the map CEL unwraps it into. */
  | { readonly kind: 'struct'; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly kind: 'filter_state'; readonly state: FilterState | undefined };

const str = (s: string): Attr => ({ kind: 'string', value: s });
const optStr = (s: string | undefined): Attr | undefined => (s === undefined ? undefined : { kind: 'string', value: s });
const bytesAttr = (bytes: Uint8Array): Attr => ({ kind: 'bytes', bytes });

const int64 = (n: number | bigint): Attr => bytesAttr(eightBytes(n, true));
const uint64 = (n: number | bigint): Attr => bytesAttr(eightBytes(n, false));
const bool = (b: boolean): Attr => bytesAttr(boolBytes(b));

const DIRECTION: Readonly<Record<ListenerDirection, number>> = { UNSPECIFIED: 0, INBOUND: 1, OUTBOUND: 2 };

function headersAttr(pairs: HeaderList | undefined): Attr | undefined {
  if (pairs === undefined) return undefined;
  return { kind: 'headers', pairs };
}

function peer(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * `source.address` / `destination.address` of a connection: fixed for the connection's life,
 * so formatted once per ConnectionInfo rather than per lookup.
 */
const peerAddresses = new WeakMap<ConnectionInfo, { readonly source: string; readonly destination: string }>();
function addresses(c: ConnectionInfo): { readonly source: string; readonly destination: string } {
  let cached = peerAddresses.get(c);
  if (cached === undefined) {
    cached = { source: peer(c.sourceAddress, c.sourcePort), destination: peer(c.destinationAddress, c.destinationPort) };
    peerAddresses.set(c, cached);
  }
  return cached;
}

function requestMember(f: StreamFacts, key: string): Attr | undefined {
  const h = f.requestHeaders ?? [];
  switch (key) {
    case 'path': return optStr(joinedHeader(h, ':path'));
    case 'url_path': { const p = joinedHeader(h, ':path'); return p === undefined ? undefined : str(p.split('?')[0]!); }
    case 'query': { const p = joinedHeader(h, ':path'); if (p === undefined) return undefined; const i = p.indexOf('?'); return str(i < 0 ? '' : p.slice(i + 1)); }
    case 'host': return optStr(joinedHeader(h, ':authority'));
    case 'scheme': return optStr(joinedHeader(h, ':scheme'));
    case 'method': return optStr(joinedHeader(h, ':method'));
    case 'referer': return optStr(joinedHeader(h, 'referer'));
    case 'useragent': return optStr(joinedHeader(h, 'user-agent'));
    case 'id': return optStr(joinedHeader(h, 'x-request-id'));
    case 'headers': return headersAttr(f.requestHeaders);
    case 'time': return int64(startNanos(f));
    case 'protocol': return str(f.info.protocol);
    case 'size': return int64(f.requestBodyBytes);
    case 'total_size': return int64(f.requestBodyBytes + headerBytes(h));
    case 'duration': { const d = durationNanos(f); return d === undefined ? undefined : int64(d); }
    default: return undefined;
  }
}

function responseMember(f: StreamFacts, key: string): Attr | undefined {
  switch (key) {
    case 'code': { const c = responseCode(f); return c === undefined ? undefined : int64(c); }
    case 'code_details': return optStr(f.completion?.responseCodeDetails ?? f.localReply?.details);
    case 'flags': return uint64(responseFlagBits(f));
    case 'grpc_status': { const g = grpcStatus(f); return g === undefined ? undefined : int64(g); }
    case 'headers': return headersAttr(f.responseHeaders);
    case 'trailers': return headersAttr(f.responseTrailers);
    case 'size': return int64(f.responseBodyBytes);
    case 'total_size': return int64(f.responseBodyBytes + headerBytes(f.responseHeaders ?? []));
    default: return undefined;
  }
}

function connectionMember(f: StreamFacts, key: string): Attr | undefined {
  const c = f.info.connection;
  const tls = c.tls;
  const cert = tls?.peerCertificate;
  switch (key) {
    case 'id': return uint64(c.id);
    case 'mtls': return bool(cert !== undefined);
    case 'requested_server_name': return str(tls?.requestedServerName ?? '');
    case 'tls_version': return optStr(tls?.tlsVersion);
    case 'subject_peer_certificate': return optStr(cert?.subject);
    case 'uri_san_peer_certificate': return optStr(cert?.uriSans[0]);
    case 'dns_san_peer_certificate': return optStr(cert?.dnsSans[0]);
    case 'subject_local_certificate': return optStr(tls?.localSubject);
    case 'uri_san_local_certificate': return optStr(tls?.localUriSans?.[0]);
    case 'dns_san_local_certificate': return optStr(tls?.localDnsSans?.[0]);
    case 'sha256_peer_certificate_digest': return optStr(cert?.sha256Digest);
    default: return undefined;
  }
}

/**
 * `upstream.*` (Envoy's upstream attributes): the connection the stream was forwarded on, known
 * from the stream's completion; absent (NotFound) for a stream never sent upstream. The TLS ones
 * answer from the upstream socket, whose peer is the upstream server.
 */
function upstreamMember(f: StreamFacts, key: string): Attr | undefined {
  const u = f.completion?.upstream;
  if (u === undefined) return undefined;
  const tls = u.tls;
  const cert = tls?.peerCertificate;
  switch (key) {
    case 'address': return str(peer(u.address, u.port));
    case 'port': return int64(u.port);
    case 'local_address': return optStr(u.localAddress);
    case 'tls_version': return optStr(tls?.tlsVersion);
    case 'subject_peer_certificate': return optStr(cert?.subject);
    case 'uri_san_peer_certificate': return optStr(cert?.uriSans[0]);
    case 'dns_san_peer_certificate': return optStr(cert?.dnsSans[0]);
    case 'sha256_peer_certificate_digest': return optStr(cert?.sha256Digest);
    case 'subject_local_certificate': return optStr(tls?.localSubject);
    case 'uri_san_local_certificate': return optStr(tls?.localUriSans?.[0]);
    case 'dns_san_local_certificate': return optStr(tls?.localDnsSans?.[0]);
    default: return undefined;
  }
}

const NODE: Attr = { kind: 'node' };
// Envoy walks the Struct message: its only field is the map `fields`, keyed by metadata key.
const NODE_METADATA: Attr = { kind: 'node_metadata' };
const NODE_METADATA_FIELDS: Attr = { kind: 'node_metadata_fields' };

/**
 * A google.protobuf.Value as Envoy's CEL hands it over once unwrapped (cel-cpp UnwrapMessageToValue):
 * strings as-is, numbers as 8-byte doubles, booleans as one byte, Structs as maps that later path
 * segments walk — so `node.metadata.NAMESPACE` and `node.metadata.LABELS.app` answer the plain
 * string, as istio/proxy extensions/common/context.cc (extractPartialLocalNodeFlatBuffer) reads
 * them. Lists and nulls are not handed over here (NotFound).
 */
function unwrapped(value: unknown): Attr | undefined {
  if (typeof value === 'string') return str(value);
  if (typeof value === 'boolean') return bool(value);
  if (typeof value === 'number') {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setFloat64(0, value, true);
    return bytesAttr(out);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { kind: 'struct', fields: value as Record<string, unknown> };
  return undefined;
}

function ownValue(fields: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
}

/** The value under `key` of a map attribute; undefined when absent or not a map. */
function member(h: PluginVm, attr: Attr, key: string): Attr | undefined {
  switch (attr.kind) {
    case 'headers': return optStr(joinedHeader(attr.pairs, key));
    case 'request': return requestMember(attr.facts, key);
    case 'response': return responseMember(attr.facts, key);
    case 'connection': return connectionMember(attr.facts, key);
    case 'upstream': return upstreamMember(attr.facts, key);
    case 'source': {
      const c = attr.facts.info.connection;
      return key === 'address' ? str(addresses(c).source) : key === 'port' ? int64(c.sourcePort) : undefined;
    }
    case 'destination': {
      const c = attr.facts.info.connection;
      return key === 'address' ? str(addresses(c).destination) : key === 'port' ? int64(c.destinationPort) : undefined;
    }
    case 'xds': {
      const clusterName = attr.facts?.completion?.clusterName;
      const routeName = attr.facts?.completion?.routeName;
      switch (key) {
        case 'node': return NODE;
        case 'listener_direction': return int64(DIRECTION[h.services.listenerDirection]);
        case 'cluster_name': return optStr(clusterName);
        case 'route_name': return optStr(routeName);
        default: return undefined;
      }
    }
    case 'node': {
      const { id, cluster } = h.services.node;
      return key === 'id' ? str(id) : key === 'cluster' ? str(cluster) : key === 'metadata' ? NODE_METADATA : undefined;
    }
    // `fields` walks the Struct message (kept for filters written against it); any other key is
    // the metadata key itself, as Envoy's CEL sees the Struct.
    case 'node_metadata': return key === 'fields' ? NODE_METADATA_FIELDS : unwrapped(ownValue(h.services.node.metadata, key));
    case 'struct': return unwrapped(ownValue(attr.fields, key));
    case 'node_metadata_fields': { const bytes = nodeMetadataField(h, key); return bytes === undefined ? undefined : bytesAttr(bytes); }
    case 'filter_state': {
      const entry = attr.state?.get(key);
      return entry === undefined ? undefined : bytesAttr(entry.value);
    }
    default: return undefined;
  }
}

/** The serialized value of a whole attribute; undefined for maps Envoy cannot serialize. */
function finalValue(h: PluginVm, attr: Attr): PropertyValue | undefined {
  switch (attr.kind) {
    case 'bytes': return attr.bytes;
    case 'string': return attr.value;
    case 'headers': return serializePairs(attr.pairs);
    case 'node': return nodeBytes(h);
    case 'node_metadata': return nodeMetadataBytes(h);
    // Envoy serializes a map value through ExportAsProtoValue: the Struct's bytes.
    case 'struct': return encode(StructType, toStruct(attr.fields));
    default: return undefined;
  }
}

/** `stream` is read for its filter state only where a path needs it (the stream creates it on first use). */
function topLevel(h: PluginVm, name: string, stream: StreamBinding | undefined): Attr | undefined {
  const facts = stream?.facts;
  switch (name) {
    case 'plugin_name': return str(h.spec.name);
    case 'plugin_root_id': return str(h.spec.rootId);
    case 'plugin_vm_id': return str(h.vmId);
    case 'listener_direction': return int64(DIRECTION[h.services.listenerDirection]);
    case 'node': return NODE;
    case 'xds': return { kind: 'xds', facts };
  }
  if (facts !== undefined) {
    switch (name) {
      case 'request':
      case 'response':
      case 'connection':
      case 'source':
      case 'destination':
      case 'upstream':
        return { kind: name, facts };
      case 'connection_id': return uint64(facts.info.connection.id);
      case 'cluster_name': return optStr(facts.completion?.clusterName);
      case 'route_name': return optStr(facts.completion?.routeName);
      case 'filter_state': return { kind: 'filter_state', state: stream?.filterState };
    }
  }
  const entry = stream?.filterState.get(FILTER_STATE_PREFIX + name);
  return entry === undefined ? undefined : bytesAttr(entry.value);
}

/** A resolved property value: a string (encoded on copy-out), bytes, or a WasmResult error code. */
type PropertyValue = string | Uint8Array | number;

function resolveProperty(h: PluginVm, parts: readonly string[]): PropertyValue {
  const stream = h.context()?.stream;
  let attr = topLevel(h, parts[0]!, stream);
  for (let i = 1; i < parts.length && attr !== undefined; i++) attr = member(h, attr, parts[i]!);
  if (attr === undefined) return WasmResult.NotFound;
  return finalValue(h, attr) ?? WasmResult.SerializationFailure;
}

/** Resolves a NUL-separated path: bytes, or a WasmResult error code. */
export function getProperty(h: PluginVm, path: string): Uint8Array | number {
  const value = resolveProperty(h, pathSegments(path));
  return typeof value === 'string' ? encoder.encode(value) : owned(value);
}

/**
 * Serialized connection facts (`source.*`, `destination.*`, `connection.*`, `connection_id`)
 * per connection. They cannot change while the connection lives (api.ts ConnectionInfo is
 * immutable; a new connection is a new object), so each path is resolved and encoded once per
 * connection — for every request of a keep-alive connection and every filter of the chain —
 * instead of on each call. Keyed by the path's segment array from the VM's PathCache (the same
 * array for the same path bytes); bounded per connection, so a module building paths on the fly
 * just misses.
 */
const connectionValues = new WeakMap<ConnectionInfo, Map<readonly string[], Uint8Array | number>>();
const CONNECTION_VALUES_MAX = 32;

function connectionScoped(name: string): boolean {
  return name === 'source' || name === 'destination' || name === 'connection' || name === 'connection_id';
}

/** proxy_get_property's value for `parts`: bytes/string to copy out, or a WasmResult. */
function propertyValue(h: PluginVm, path: PathEntry): PropertyValue {
  const parts = path.parts;
  const stream = h.context()?.stream;
  if (path.stateKey !== null) {
    // What topLevel answers for a name it does not know, without building the key again.
    const entry = stream?.filterState.get(path.stateKey);
    return entry === undefined ? WasmResult.NotFound : entry.value;
  }
  const facts = stream?.facts;
  if (facts === undefined) return resolveProperty(h, parts);
  if (path.fast !== null) return path.fast(facts);
  if (!connectionScoped(parts[0]!)) return resolveProperty(h, parts);
  const connection = facts.info.connection;
  let values = connectionValues.get(connection);
  if (values === undefined) {
    values = new Map();
    connectionValues.set(connection, values);
  }
  let value = values.get(parts);
  if (value === undefined) {
    const resolved = resolveProperty(h, parts);
    value = typeof resolved === 'string' ? encoder.encode(resolved) : owned(resolved);
    if (values.size < CONNECTION_VALUES_MAX) values.set(parts, value);
  }
  return value;
}

export function propertyImports(h: PluginVm): ImportModule {
  const paths = new PathCache();
  const setPaths = new PropertyKeys(FILTER_STATE_PREFIX);
  const valueCopies = new ByteSlab();
  return {
    proxy_get_property(pathPtr: number, pathSize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const memory = h.vm.memoryView();
      const ptr = u32(pathPtr);
      const size = u32(pathSize);
      if (ptr + size > memory.byteLength) return WasmResult.InvalidMemoryAccess;
      const value = propertyValue(h, paths.entryAt(ptr, memory, ptr, size, h.vm.memoryWords()));
      if (typeof value === 'number') return value;
      const copied = typeof value === 'string' ? copyStringOut(h.vm, value, valuePtrPtr, valueSizePtr) : copyBytesOut(h.vm, value, valuePtrPtr, valueSizePtr);
      return copied ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    // envoy:context.cc setProperty: stored as filter state `wasm.<path>`; no stream → NotFound.
    proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
      // Both ranges are checked before anything is read (a bad pointer changes nothing).
      if (!h.vm.inBounds(u32(pathPtr), u32(pathSize)) || !h.vm.inBounds(u32(valuePtr), u32(valueSize))) return WasmResult.InvalidMemoryAccess;
      const stream = h.context()?.stream;
      if (stream === undefined) return WasmResult.NotFound;
      // Known paths answer their interned key without decoding (property-keys.ts).
      const { path, key } = setPaths.lookup(h.vm.memoryView(), u32(pathPtr), u32(pathSize), h.vm.memoryWords());
      const state = stream.filterState;
      const existing = state.get(key);
      if (existing !== undefined && existing.readOnly) return WasmResult.BadArgument;
      // The value is copied out of module memory at once (the module frees or reuses it after
      // the call), into a shared slab rather than a new ArrayBuffer each (byte-slab.ts).
      const value = valueCopies.copyFrom(h.vm.memoryBytes(), u32(valuePtr), u32(valueSize));
      state.set(key, { value, readOnly: h.declaredReadOnly.has(path) });
      return WasmResult.Ok;
    },
  };
}

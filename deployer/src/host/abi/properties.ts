/**
 * proxy_get_property / proxy_set_property with Envoy's attribute paths (envoy:context.cc
 * getProperty/findValue/serializeValue/setProperty). Path segments are NUL-separated; values
 * are serialized as Envoy does (README.md "Properties"). Unknown top-level names fall back to
 * filter state `wasm.<name>`, which proxy_set_property writes on the stream.
 */
import type { HeaderList, ListenerDirection } from '../api.js';
import type { PluginVm } from '../plugin-vm.js';
import type { StreamFacts } from '../context.js';
import type { ImportModule } from '../vm.js';
import { WasmResult } from './constants.js';
import { copyStringOut } from './copy-out.js';
import { serializePairs } from './pairs.js';
import { decodeMostlyAscii } from './utf8.js';
import { encode, NodeType, StructType, ValueType, toStruct, toValue } from './proto.js';

const encoder = new TextEncoder();
export const FILTER_STATE_PREFIX = 'wasm.';

/** A resolved attribute: either final bytes or a map/struct that later segments can walk. */
type Attr =
  | { kind: 'bytes'; bytes: Uint8Array }
  /** A string value, UTF-8 encoded only when handed over (copy-out.ts writes ASCII directly). */
  | { kind: 'string'; value: string }
  | { kind: 'headers'; pairs: HeaderList }
  | { kind: 'lookup'; get: (key: string) => Attr | undefined; bytes: () => Uint8Array | undefined };

const str = (s: string): Attr => ({ kind: 'string', value: s });
function int64(n: number | bigint): Attr {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(n), true);
  return { kind: 'bytes', bytes: out };
}
const uint64 = (n: number | bigint): Attr => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return { kind: 'bytes', bytes: out };
};
const bool = (b: boolean): Attr => ({ kind: 'bytes', bytes: Uint8Array.of(b ? 1 : 0) });

const DIRECTION: Readonly<Record<ListenerDirection, number>> = { UNSPECIFIED: 0, INBOUND: 1, OUTBOUND: 2 };

/** Envoy's ResponseFlag bits (envoy/stream_info/stream_info.h), by their access-log short codes. */
const RESPONSE_FLAG_BITS: Readonly<Record<string, number>> = {
  LH: 0x1, UH: 0x2, UT: 0x4, LR: 0x8, UR: 0x10, UF: 0x20, UC: 0x40, UO: 0x80, NR: 0x100, DI: 0x200, FI: 0x400,
  RL: 0x800, UAEX: 0x1000, RLSE: 0x2000, DC: 0x4000, URX: 0x8000, SI: 0x10000, IH: 0x20000, DPE: 0x40000,
};

function headersAttr(pairs: HeaderList | undefined): Attr | undefined {
  if (pairs === undefined) return undefined;
  return { kind: 'headers', pairs };
}

function joinedHeader(pairs: HeaderList, name: string): string | undefined {
  const values: string[] = [];
  for (const [k, v] of pairs) if (k === name) values.push(v);
  return values.length === 0 ? undefined : values.join(',');
}

function mapAttr(entries: Record<string, () => Attr | undefined>): Attr {
  return { kind: 'lookup', get: (key) => (Object.prototype.hasOwnProperty.call(entries, key) ? entries[key]!() : undefined), bytes: () => undefined };
}

function peer(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function requestAttr(f: StreamFacts): Attr {
  const h = f.requestHeaders ?? [];
  const header = (name: string) => () => { const v = joinedHeader(h, name); return v === undefined ? undefined : str(v); };
  const path = () => joinedHeader(h, ':path');
  return mapAttr({
    path: header(':path'),
    url_path: () => { const p = path(); return p === undefined ? undefined : str(p.split('?')[0]!); },
    query: () => { const p = path(); if (p === undefined) return undefined; const i = p.indexOf('?'); return str(i < 0 ? '' : p.slice(i + 1)); },
    host: header(':authority'),
    scheme: header(':scheme'),
    method: header(':method'),
    referer: header('referer'),
    useragent: header('user-agent'),
    id: header('x-request-id'),
    headers: () => headersAttr(f.requestHeaders),
    time: () => int64(BigInt((f.info.startTime ?? new Date()).getTime()) * 1_000_000n),
    protocol: () => str(f.info.protocol),
    size: () => int64(f.requestBodyBytes),
    total_size: () => int64(f.requestBodyBytes + headerBytes(h)),
    duration: () => {
      if (f.completedAtNanos === undefined) return undefined;
      const start = BigInt((f.info.startTime ?? new Date()).getTime()) * 1_000_000n;
      return int64(f.completedAtNanos - start);
    },
  });
}

function headerBytes(pairs: HeaderList): number {
  let n = 0;
  for (const [k, v] of pairs) n += k.length + v.length;
  return n;
}

function responseAttr(f: StreamFacts): Attr {
  const code = (): number | undefined => {
    if (f.completion !== undefined) return f.completion.responseCode;
    if (f.localReply !== undefined) return f.localReply.status;
    const status = f.responseHeaders === undefined ? undefined : joinedHeader(f.responseHeaders, ':status');
    return status === undefined ? undefined : Number(status);
  };
  return mapAttr({
    code: () => { const c = code(); return c === undefined ? undefined : int64(c); },
    code_details: () => {
      const details = f.completion?.responseCodeDetails ?? f.localReply?.details;
      return details === undefined ? undefined : str(details);
    },
    flags: () => {
      if (f.completion === undefined) return uint64(0);
      let bits = 0;
      for (const flag of f.completion.responseFlags.split(',')) bits |= RESPONSE_FLAG_BITS[flag] ?? 0;
      return uint64(bits);
    },
    grpc_status: () => {
      const v = (f.responseTrailers && joinedHeader(f.responseTrailers, 'grpc-status')) ?? (f.responseHeaders && joinedHeader(f.responseHeaders, 'grpc-status'));
      return v === undefined ? undefined : int64(Number(v));
    },
    headers: () => headersAttr(f.responseHeaders),
    trailers: () => headersAttr(f.responseTrailers),
    size: () => int64(f.responseBodyBytes),
    total_size: () => int64(f.responseBodyBytes + headerBytes(f.responseHeaders ?? [])),
  });
}

function connectionAttr(f: StreamFacts): Attr {
  const c = f.info.connection;
  const tls = c.tls;
  const cert = tls?.peerCertificate;
  const opt = (v: string | undefined) => () => (v === undefined ? undefined : str(v));
  return mapAttr({
    id: () => uint64(c.id),
    mtls: () => bool(cert !== undefined),
    requested_server_name: () => str(tls?.requestedServerName ?? ''),
    tls_version: opt(tls?.tlsVersion),
    subject_peer_certificate: opt(cert?.subject),
    uri_san_peer_certificate: opt(cert?.uriSans[0]),
    dns_san_peer_certificate: opt(cert?.dnsSans[0]),
    subject_local_certificate: opt(tls?.localSubject),
    uri_san_local_certificate: opt(tls?.localUriSans?.[0]),
  });
}

function nodeBytes(h: PluginVm): Uint8Array {
  const { id, cluster, metadata } = h.services.node;
  return encode(NodeType, { id, cluster, metadata: toStruct(metadata) });
}

function nodeAttr(h: PluginVm): Attr {
  const { id, cluster, metadata } = h.services.node;
  const metadataAttr: Attr = {
    kind: 'lookup',
    bytes: () => encode(StructType, toStruct(metadata)),
    // Envoy walks the Struct message: its only field is the map `fields`, keyed by metadata key.
    get: (field) => field !== 'fields' ? undefined : {
      kind: 'lookup',
      bytes: () => undefined,
      get: (key) => (Object.prototype.hasOwnProperty.call(metadata, key) ? { kind: 'bytes', bytes: encode(ValueType, toValue(metadata[key])) } : undefined),
    },
  };
  return { kind: 'lookup', bytes: () => nodeBytes(h), get: (key) => (key === 'id' ? str(id) : key === 'cluster' ? str(cluster) : key === 'metadata' ? metadataAttr : undefined) };
}

function topLevel(h: PluginVm, name: string, facts: StreamFacts | undefined, state: Map<string, { value: Uint8Array }> | undefined): Attr | undefined {
  switch (name) {
    case 'plugin_name': return str(h.spec.name);
    case 'plugin_root_id': return str(h.spec.rootId);
    case 'plugin_vm_id': return str(h.vmId);
    case 'listener_direction': return int64(DIRECTION[h.services.listenerDirection]);
    case 'node': return nodeAttr(h);
    case 'xds': return mapAttr({
      node: () => nodeAttr(h),
      listener_direction: () => int64(DIRECTION[h.services.listenerDirection]),
      cluster_name: () => (facts?.completion?.clusterName === undefined ? undefined : str(facts.completion.clusterName)),
      route_name: () => (facts?.completion?.routeName === undefined ? undefined : str(facts.completion.routeName)),
    });
  }
  if (facts !== undefined) {
    switch (name) {
      case 'request': return requestAttr(facts);
      case 'response': return responseAttr(facts);
      case 'connection': return connectionAttr(facts);
      case 'connection_id': return uint64(facts.info.connection.id);
      case 'source': return mapAttr({ address: () => str(peer(facts.info.connection.sourceAddress, facts.info.connection.sourcePort)), port: () => int64(facts.info.connection.sourcePort) });
      case 'destination': return mapAttr({ address: () => str(peer(facts.info.connection.destinationAddress, facts.info.connection.destinationPort)), port: () => int64(facts.info.connection.destinationPort) });
      case 'cluster_name': return facts.completion?.clusterName === undefined ? undefined : str(facts.completion.clusterName);
      case 'route_name': return facts.completion?.routeName === undefined ? undefined : str(facts.completion.routeName);
      case 'filter_state': return { kind: 'lookup', bytes: () => undefined, get: (key) => { const e = state?.get(key); return e === undefined ? undefined : { kind: 'bytes', bytes: e.value }; } };
    }
  }
  const entry = state?.get(FILTER_STATE_PREFIX + name);
  return entry === undefined ? undefined : { kind: 'bytes', bytes: entry.value };
}

/** A resolved property value: a string (encoded on copy-out), bytes, or a WasmResult error code. */
type PropertyValue = string | Uint8Array | number;

function resolveProperty(h: PluginVm, path: string): PropertyValue {
  const stream = h.context()?.stream;
  const parts = path.split('\0');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  let attr = topLevel(h, parts[0]!, stream?.facts, stream?.filterState);
  for (let i = 1; i < parts.length && attr !== undefined; i++) {
    const part = parts[i]!;
    if (attr.kind === 'headers') {
      const v = joinedHeader(attr.pairs, part);
      attr = v === undefined ? undefined : str(v);
    } else if (attr.kind === 'lookup') {
      attr = attr.get(part);
    } else {
      attr = undefined;
    }
  }
  if (attr === undefined) return WasmResult.NotFound;
  if (attr.kind === 'bytes') return attr.bytes;
  if (attr.kind === 'string') return attr.value;
  if (attr.kind === 'headers') return serializePairs(attr.pairs);
  return attr.bytes() ?? WasmResult.SerializationFailure;
}

/** Resolves a NUL-separated path: bytes, or a WasmResult error code. */
export function getProperty(h: PluginVm, path: string): Uint8Array | number {
  const value = resolveProperty(h, path);
  return typeof value === 'string' ? encoder.encode(value) : value;
}

export function propertyImports(h: PluginVm): ImportModule {
  const decoder = new TextDecoder();
  return {
    proxy_get_property(pathPtr: number, pathSize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const bytes = h.vm.bytes(pathPtr, pathSize);
      if (bytes === undefined) return WasmResult.InvalidMemoryAccess;
      const value = resolveProperty(h, decodeMostlyAscii(bytes, decoder));
      if (typeof value === 'number') return value;
      const copied = typeof value === 'string' ? copyStringOut(h.vm, value, valuePtrPtr, valueSizePtr) : h.vm.copyToPointerSize(value, valuePtrPtr, valueSizePtr);
      return copied ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    // envoy:context.cc setProperty: stored as filter state `wasm.<path>`; no stream → NotFound.
    proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
      const pathBytes = h.vm.bytes(pathPtr, pathSize);
      const value = h.vm.copyBytes(valuePtr, valueSize);
      if (pathBytes === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
      const stream = h.context()?.stream;
      if (stream === undefined) return WasmResult.NotFound;
      const path = decoder.decode(pathBytes);
      const key = FILTER_STATE_PREFIX + path;
      const existing = stream.filterState.get(key);
      if (existing !== undefined && existing.readOnly) return WasmResult.BadArgument;
      stream.filterState.set(key, { value, readOnly: h.declaredReadOnly.has(path) });
      return WasmResult.Ok;
    },
  };
}

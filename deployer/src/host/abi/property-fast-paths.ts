/**
 * Direct resolvers for the stream attributes filters read on every request (the metrics
 * filter's proxy_on_log reads eight of them): one function per path, chosen once per path
 * (the path's segment array from the VM's PathCache) instead of walking tagged attribute
 * records segment by segment on every call. Each answers exactly what the generic walk in
 * properties.ts answers for the same path and stream (test/host/properties.test.ts runs both).
 */
import type { StreamFacts } from '../context.js';
import { WasmResult } from './constants.js';
import {
  durationNanos, eightBytes, grpcStatus, headerBytes, joinedHeader, responseCode, responseFlagBits,
} from './property-values.js';

/** A value to copy out (string or bytes) or a WasmResult. */
export type FastValue = string | Uint8Array | number;
export type FastResolver = (facts: StreamFacts) => FastValue;

const NOT_FOUND = WasmResult.NotFound;
const int64 = (n: number | bigint | undefined): FastValue => (n === undefined ? NOT_FOUND : eightBytes(n, true));
const str = (s: string | undefined): FastValue => (s === undefined ? NOT_FOUND : s);

const REQUEST: Readonly<Record<string, FastResolver>> = {
  host: (f) => str(joinedHeader(f.requestHeaders ?? [], ':authority')),
  path: (f) => str(joinedHeader(f.requestHeaders ?? [], ':path')),
  method: (f) => str(joinedHeader(f.requestHeaders ?? [], ':method')),
  duration: (f) => int64(durationNanos(f)),
  size: (f) => int64(f.requestBodyBytes),
  total_size: (f) => int64(f.requestBodyBytes + headerBytes(f.requestHeaders ?? [])),
  protocol: (f) => f.info.protocol,
};

const RESPONSE: Readonly<Record<string, FastResolver>> = {
  code: (f) => int64(responseCode(f)),
  flags: (f) => eightBytes(responseFlagBits(f), false),
  grpc_status: (f) => int64(grpcStatus(f)),
  size: (f) => int64(f.responseBodyBytes),
  total_size: (f) => int64(f.responseBodyBytes + headerBytes(f.responseHeaders ?? [])),
};

const TOP: Readonly<Record<string, FastResolver>> = {
  connection_id: (f) => eightBytes(f.info.connection.id, false),
  cluster_name: (f) => str(f.completion?.clusterName),
  route_name: (f) => str(f.completion?.routeName),
};

function own(table: Readonly<Record<string, FastResolver>>, key: string): FastResolver | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/** The direct resolver of a stream path (used only while a stream is current); undefined: walk it. */
export function fastResolver(parts: readonly string[]): FastResolver | undefined {
  if (parts.length === 1) return own(TOP, parts[0]!);
  if (parts.length === 2) {
    if (parts[0] === 'request') return own(REQUEST, parts[1]!);
    if (parts[0] === 'response') return own(RESPONSE, parts[1]!);
    return undefined;
  }
  if (parts.length === 3 && parts[1] === 'headers' && (parts[0] === 'request' || parts[0] === 'response')) {
    const name = parts[2]!;
    return parts[0] === 'request'
      ? (f) => (f.requestHeaders === undefined ? NOT_FOUND : str(joinedHeader(f.requestHeaders, name)))
      : (f) => (f.responseHeaders === undefined ? NOT_FOUND : str(joinedHeader(f.responseHeaders, name)));
  }
  return undefined;
}

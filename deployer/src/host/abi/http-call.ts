/**
 * proxy_http_call (Envoy registers this name; `proxy_dispatch_http_call` is the spec's 0.2.x
 * spelling, which Envoy does not provide, so a module importing it is refused like Envoy).
 * As envoy:context.cc Context::httpCall: the call belongs to the root context; an unknown
 * cluster or missing :method/:path/:authority → BadArgument; timeout 0 → no timeout.
 * The response arrives later as proxy_on_http_call_response(root, token, headers, body size,
 * trailers) with the HttpCallResponse maps/buffer readable during that callback; a failure
 * (reset, timeout, connection error) delivers 0/0/0 with get_status BrokenConnection "reset".
 * gRPC calls answer BadArgument: this host has no gRPC clusters (Envoy answers the same for an
 * unknown gRPC service).
 */
import type { HttpCallResponse } from '../api.js';
import type { PluginVm } from '../plugin-vm.js';
import type { ImportModule } from '../vm.js';
import { WasmResult } from './constants.js';
import { headerValue } from './headers.js';
import { readString, u32 } from './memory.js';
import { parsePairs, PairsFormatError, type MutablePair } from './pairs.js';

function pairsAt(h: PluginVm, ptr: number, size: number): MutablePair[] | number {
  const bytes = h.vm.bytes(ptr, size);
  if (bytes === undefined) return WasmResult.InvalidMemoryAccess;
  try {
    return parsePairs(bytes).map(([k, v]): MutablePair => [k.toLowerCase(), v]);
  } catch (error) {
    if (error instanceof PairsFormatError) return WasmResult.BadArgument;
    throw error;
  }
}

export function httpCallImports(h: PluginVm): ImportModule {
  const grpcUnavailable = (): number => WasmResult.BadArgument;
  return {
    proxy_http_call(uriPtr: number, uriSize: number, headersPtr: number, headersSize: number, bodyPtr: number, bodySize: number,
      trailersPtr: number, trailersSize: number, timeoutMs: number, tokenPtr: number): number {
      const cluster = readString(h.vm, uriPtr, uriSize);
      const body = h.vm.copyBytes(bodyPtr, bodySize);
      if (cluster === undefined || body === undefined) return WasmResult.InvalidMemoryAccess;
      const headers = pairsAt(h, headersPtr, headersSize);
      if (typeof headers === 'number') return headers;
      const trailers = pairsAt(h, trailersPtr, trailersSize);
      if (typeof trailers === 'number') return trailers;
      if (!h.vm.setU32(tokenPtr, 0)) return WasmResult.InvalidMemoryAccess;
      const clusters = h.services.clusters;
      if (clusters === undefined || !clusters.hasCluster(cluster)) return WasmResult.BadArgument;
      if (headerValue(headers, ':path') === undefined || headerValue(headers, ':method') === undefined || headerValue(headers, ':authority') === undefined) {
        return WasmResult.BadArgument;
      }
      if (body.length > 0 && headerValue(headers, 'content-length') === undefined) headers.push(['content-length', String(body.length)]);
      const record = h.context();
      if (record === undefined) return WasmResult.InternalFailure;
      const token = h.nextHttpCallToken++;
      h.httpCalls.set(token, { rootContextId: h.rootOf(record), cancelled: false });
      h.vm.setU32(tokenPtr, token);
      let pending: Promise<HttpCallResponse>;
      try {
        pending = clusters.dispatch(cluster, headers, body, trailers, u32(timeoutMs), { plugin: h.spec.name, token });
      } catch (error) {
        // A dispatcher that throws fails this call (delivered later, like any failure), not the VM.
        pending = Promise.reject(error);
      }
      pending.then(
        (response) => h.deliverHttpCallResponse(token, response),
        () => h.deliverHttpCallResponse(token, undefined),
      );
      return WasmResult.Ok;
    },
    proxy_grpc_call: grpcUnavailable,
    proxy_grpc_stream: grpcUnavailable,
    proxy_grpc_send: () => WasmResult.NotFound,
    proxy_grpc_cancel: () => WasmResult.NotFound,
    proxy_grpc_close: () => WasmResult.NotFound,
  };
}

/**
 * Stream control: proxy_continue_stream, proxy_close_stream (0.2.x), proxy_continue_request,
 * proxy_continue_response, proxy_clear_route_cache, proxy_get_configuration (0.1.0),
 * proxy_send_local_response, proxy_set_effective_context, proxy_done. Which of them a module
 * gets is decided by its ABI version (envoy-abi.ts).
 * Envoy defers continue/close/local reply until the VM call returns (envoy:context.cc
 * addAfterVmCallAction); the filter chain does the same.
 */
import type { PluginVm } from '../plugin-vm.js';
import type { ImportModule } from '../vm.js';
import { StreamType, WasmResult } from './constants.js';
import { u32 } from './memory.js';
import { parsePairs, PairsFormatError } from './pairs.js';

const decoder = new TextDecoder();

function continueStream(h: PluginVm, type: number): number {
  const stream = h.context()?.stream;
  // envoy:context.cc continueStream: without a stream there is nothing to continue (Ok).
  if (stream === undefined) return type === StreamType.Upstream ? WasmResult.Unimplemented : WasmResult.Ok;
  return stream.continueStream(type);
}

export function streamImports(h: PluginVm): ImportModule {
  return {
    proxy_continue_stream(type: number): number {
      type = u32(type);
      if (type > StreamType.Max) return WasmResult.BadArgument;
      return continueStream(h, type);
    },
    // cpp-host src/exports.cc continue_request / continue_response (0.1.0): continueStream(Request
    // / Response) on the current or effective context, the same path as continue_stream.
    proxy_continue_request(): number {
      return continueStream(h, StreamType.Request);
    },
    proxy_continue_response(): number {
      return continueStream(h, StreamType.Response);
    },
    // cpp-host exports.cc get_configuration → envoy:context.cc Context::getConfiguration: the plugin
    // configuration while the root context holds it (temp_plugin_: on_configure, the root's
    // on_context_create), else the VM configuration — from on_vm_start, streams, ticks.
    proxy_get_configuration(valuePtrPtr: number, valueSizePtr: number): number {
      const record = h.context();
      const value = record?.id === h.rootContextId && h.pluginConfiguration !== null ? h.pluginConfiguration : h.vmConfiguration;
      return h.vm.copyToPointerSize(value, valuePtrPtr, valueSizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_close_stream(type: number): number {
      type = u32(type);
      if (type > StreamType.Max) return WasmResult.BadArgument;
      const stream = h.context()?.stream;
      if (stream === undefined) return WasmResult.Ok;
      return stream.closeStream(type);
    },
    proxy_send_local_response(status: number, detailsPtr: number, detailsSize: number, bodyPtr: number, bodySize: number,
      headersPtr: number, headersSize: number, grpcStatus: number): number {
      const details = h.vm.bytes(detailsPtr, detailsSize);
      const body = h.vm.copyBytes(bodyPtr, bodySize);
      const headerBytes = h.vm.bytes(headersPtr, headersSize);
      if (details === undefined || body === undefined || headerBytes === undefined) return WasmResult.InvalidMemoryAccess;
      let headers;
      try {
        headers = parsePairs(headerBytes).map(([k, v]): [string, string] => [k.toLowerCase(), v]);
      } catch (error) {
        if (error instanceof PairsFormatError) return WasmResult.BadArgument;
        throw error;
      }
      const stream = h.context()?.stream;
      if (stream === undefined) return WasmResult.Ok; // envoy: no decoder callbacks → nothing sent, Ok
      const grpc = u32(grpcStatus);
      stream.sendLocalResponse({
        status: u32(status),
        // envoy:context.cc sendLocalResponse: whitespace in details is replaced with '_'.
        details: decoder.decode(details).replace(/\s/g, '_'),
        body,
        headers,
        // -1 (0xFFFFFFFF) or anything above 16 means "no gRPC status" (Envoy maps it to nullopt).
        ...(grpc <= 16 ? { grpcStatus: grpc } : {}),
      });
      return WasmResult.Ok;
    },
    // 0.1.0 only (0.2.x modules use the clear_route_cache foreign function): envoy context.h
    // clearRouteCache → downstreamCallbacks()->clearRouteCache().
    proxy_clear_route_cache(): number {
      h.context()?.stream?.clearRouteCache();
      return WasmResult.Ok;
    },
    proxy_set_effective_context(contextId: number): number {
      contextId = u32(contextId);
      if (!h.contexts.has(contextId)) return WasmResult.BadArgument;
      h.effectiveContextId = contextId;
      return WasmResult.Ok;
    },
    // cpp-host WasmBase::done: completes a root context whose proxy_on_done answered false.
    proxy_done(): number {
      const record = h.context();
      if (record === undefined || !h.pendingDone.delete(record.id)) return WasmResult.NotFound;
      h.contexts.delete(record.id);
      return WasmResult.Ok;
    },
  };
}

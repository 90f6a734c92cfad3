/**
 * proxy_get_buffer_bytes / proxy_get_buffer_status / proxy_set_buffer_bytes.
 * get: start/length clamped to the buffer as cpp-host src/exports.cc get_buffer_bytes (start
 * past the end or length 0 → ptr 0, size 0, Ok). status: flags are always 0, as cpp-host.
 * set (envoy:context.cc Buffer::copyFrom): start 0 drains `length` bytes and prepends the data
 * (start 0, length >= size replaces the buffer); start >= size appends; anything else
 * BadArgument. VM/plugin configuration and http call response bodies are read-only.
 */
import type { PluginVm } from '../plugin-vm.js';
import type { BodyBuffer } from '../context.js';
import type { ImportModule } from '../vm.js';
import { BufferType, WasmResult } from './constants.js';
import { u32 } from './memory.js';

const EMPTY = new Uint8Array(0);

type Found = { bytes: Uint8Array; body?: BodyBuffer } | { result: number };

function find(h: PluginVm, type: number): Found {
  switch (type) {
    case BufferType.HttpRequestBody:
    case BufferType.HttpResponseBody: {
      const stream = h.context()?.stream;
      if (stream === undefined) return { result: WasmResult.NotFound };
      const body = stream.body(type);
      return body === null ? { bytes: EMPTY } : { bytes: body.bytes, body };
    }
    case BufferType.HttpCallResponseBody:
      return h.httpCallResponse === null ? { result: WasmResult.NotFound } : { bytes: h.httpCallResponse.body };
    case BufferType.VmConfiguration:
      return { bytes: h.vmConfiguration };
    case BufferType.PluginConfiguration:
      return h.pluginConfiguration === null ? { result: WasmResult.NotFound } : { bytes: h.pluginConfiguration };
    case BufferType.CallData:
      return { bytes: h.callData ?? EMPTY };
    default:
      // Network and gRPC buffers: this host runs HTTP filters without gRPC streams.
      return { result: type > BufferType.Max ? WasmResult.BadArgument : WasmResult.NotFound };
  }
}

export function setBufferBytes(body: BodyBuffer, start: number, length: number, data: Uint8Array): number {
  const size = body.bytes.length;
  if (start === 0) {
    const rest = body.bytes.subarray(Math.min(length, size));
    const next = new Uint8Array(data.length + rest.length);
    next.set(data, 0);
    next.set(rest, data.length);
    body.bytes = next;
    return WasmResult.Ok;
  }
  if (start >= size) {
    const next = new Uint8Array(size + data.length);
    next.set(body.bytes, 0);
    next.set(data, size);
    body.bytes = next;
    return WasmResult.Ok;
  }
  return WasmResult.BadArgument;
}

export function bufferImports(h: PluginVm): ImportModule {
  return {
    proxy_get_buffer_bytes(type: number, start: number, length: number, ptrPtr: number, sizePtr: number): number {
      type = u32(type);
      start = u32(start);
      length = u32(length);
      if (type > BufferType.Max) return WasmResult.BadArgument;
      const found = find(h, type);
      if ('result' in found) return found.result;
      if (start + length > 0xffffffff) return WasmResult.BadArgument;
      const size = found.bytes.length;
      if (start > size) length = 0;
      else if (start + length > size) length = size - start;
      if (length === 0) return h.vm.setU32(ptrPtr, 0) && h.vm.setU32(sizePtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      return h.vm.copyToPointerSize(found.bytes.subarray(start, start + length), ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
      type = u32(type);
      if (type > BufferType.Max) return WasmResult.BadArgument;
      const found = find(h, type);
      if ('result' in found) return found.result;
      return h.vm.setU32(lengthPtr, found.bytes.length) && h.vm.setU32(flagsPtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_buffer_bytes(type: number, start: number, length: number, dataPtr: number, dataSize: number): number {
      type = u32(type);
      if (type > BufferType.Max) return WasmResult.BadArgument;
      const found = find(h, type);
      if ('result' in found) return found.result;
      if (found.body === undefined) return type <= BufferType.HttpResponseBody ? WasmResult.NotFound : WasmResult.BadArgument;
      const data = h.vm.copyBytes(dataPtr, dataSize);
      if (data === undefined) return WasmResult.InvalidMemoryAccess;
      return setBufferBytes(found.body, u32(start), u32(length), data);
    },
  };
}

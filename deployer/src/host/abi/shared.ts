/** Shared data and shared queue ABI functions over the host-wide stores (abi/shared-data.ts, abi/shared-queue.ts). */
import type { PluginVm } from '../plugin-vm.js';
import type { ImportModule } from '../vm.js';
import { WasmResult } from './constants.js';
import { readString, u32 } from './memory.js';

export function sharedImports(h: PluginVm): ImportModule {
  const store = h.services.sharedData;
  const queues = h.services.queues;
  return {
    proxy_get_shared_data(keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number, casPtr: number): number {
      const key = readString(h.vm, keyPtr, keySize);
      if (key === undefined) return WasmResult.InvalidMemoryAccess;
      const entry = store.get(h.vmId, key);
      if (entry === undefined) return WasmResult.NotFound;
      if (!h.vm.copyToPointerSize(entry.value, valuePtrPtr, valueSizePtr)) return WasmResult.InvalidMemoryAccess;
      return h.vm.setU32(casPtr, entry.cas) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_shared_data(keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number): number {
      const key = readString(h.vm, keyPtr, keySize);
      const value = h.vm.bytes(valuePtr, valueSize);
      if (key === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
      return store.set(h.vmId, key, value, u32(cas));
    },
    // envoy:context.cc registerSharedQueue: on_queue_ready goes to the root context of the registrant.
    proxy_register_shared_queue(namePtr: number, nameSize: number, tokenPtr: number): number {
      const name = readString(h.vm, namePtr, nameSize);
      if (name === undefined) return WasmResult.InvalidMemoryAccess;
      const record = h.context();
      if (record === undefined) return WasmResult.InternalFailure;
      const token = queues.register(h.vmId, name, h, h.rootOf(record));
      return h.vm.setU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vmIdPtr: number, vmIdSize: number, namePtr: number, nameSize: number, tokenPtr: number): number {
      const vmId = readString(h.vm, vmIdPtr, vmIdSize);
      const name = readString(h.vm, namePtr, nameSize);
      if (vmId === undefined || name === undefined) return WasmResult.InvalidMemoryAccess;
      const token = queues.resolve(vmId, name);
      if (token === undefined) return WasmResult.NotFound;
      return h.vm.setU32(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_enqueue_shared_queue(token: number, dataPtr: number, dataSize: number): number {
      const data = h.vm.bytes(dataPtr, dataSize);
      if (data === undefined) return WasmResult.InvalidMemoryAccess;
      return queues.enqueue(u32(token), data);
    },
    proxy_dequeue_shared_queue(token: number, dataPtrPtr: number, dataSizePtr: number): number {
      const { result, data } = queues.dequeue(u32(token));
      if (result !== WasmResult.Ok || data === undefined) return result;
      return h.vm.copyToPointerSize(data, dataPtrPtr, dataSizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}

export function metricImports(h: PluginVm): ImportModule {
  return {
    proxy_define_metric(type: number, namePtr: number, nameSize: number, idPtr: number): number {
      const name = readString(h.vm, namePtr, nameSize);
      if (name === undefined) return WasmResult.InvalidMemoryAccess;
      const { result, id } = h.metrics.define(u32(type), name);
      if (result !== WasmResult.Ok || id === undefined) return result;
      return h.vm.setU32(idPtr, id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    // An i64 parameter reaches JS as a signed BigInt already (WebAssembly JS API ToBigInt64),
    // so the offset needs no conversion and a value only when negative (Envoy takes it as u64).
    proxy_increment_metric(id: number, offset: bigint): number {
      return h.metrics.increment(u32(id), offset);
    },
    proxy_record_metric(id: number, value: bigint): number {
      return h.metrics.record(u32(id), value < 0n ? BigInt.asUintN(64, value) : value);
    },
    proxy_get_metric(id: number, resultPtr: number): number {
      const { result, value } = h.metrics.get(u32(id));
      if (result !== WasmResult.Ok || value === undefined) return result;
      return h.vm.setU64(resultPtr, value) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}

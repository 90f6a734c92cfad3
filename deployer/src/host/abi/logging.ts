/** proxy_log, proxy_get_log_level (0.2.1 only), proxy_get_status, proxy_get_current_time_nanoseconds. */
import type { PluginVm } from '../plugin-vm.js';
import { LOG_LEVEL_ORDER, systemClock } from '../services.js';
import type { ImportModule } from '../vm.js';
import { LOG_LEVELS, WasmResult } from './constants.js';
import { readString, u32 } from './memory.js';
import { systemNowWords } from './wall-clock.js';

const encoder = new TextEncoder();

export function logMessage(h: PluginVm, level: number, message: string): void {
  const name = LOG_LEVELS[level]!;
  if (level >= 3) h.lastProblem = message;
  if (LOG_LEVEL_ORDER[name] < LOG_LEVEL_ORDER[h.services.logLevel]) return;
  h.services.log({ level: name, plugin: h.spec.name, message });
}

export function loggingImports(h: PluginVm): ImportModule {
  return {
    // cpp-host src/exports.cc log: level > critical → BadArgument.
    proxy_log(level: number, ptr: number, size: number): number {
      level = u32(level);
      if (level >= LOG_LEVELS.length) return WasmResult.BadArgument;
      const message = readString(h.vm, ptr, size);
      if (message === undefined) return WasmResult.InvalidMemoryAccess;
      logMessage(h, level, message);
      return WasmResult.Ok;
    },
    proxy_get_log_level(levelPtr: number): number {
      return h.vm.setU32(levelPtr, LOG_LEVEL_ORDER[h.services.logLevel]) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    // cpp-host get_status answers for the root context (status of the last http/grpc callback).
    proxy_get_status(codePtr: number, messagePtrPtr: number, messageSizePtr: number): number {
      if (!h.vm.setU32(codePtr, h.status.code)) return WasmResult.InvalidMemoryAccess;
      return h.vm.copyToPointerSize(encoder.encode(h.status.message), messagePtrPtr, messageSizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_current_time_nanoseconds(resultPtr: number): number {
      const clock = h.services.clock;
      if (clock !== systemClock) return h.vm.setU64(resultPtr, clock.nowNanos()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      // The system clock in number arithmetic (abi/wall-clock.ts): no BigInt per call.
      const [low, high] = systemNowWords();
      return h.vm.inBounds(u32(resultPtr), 8) && h.vm.setU32(resultPtr, low) && h.vm.setU32(u32(resultPtr) + 4, high)
        ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}

/**
 * proxy_set_tick_period_milliseconds: one periodic timer per root context; 0 stops it
 * (envoy:context.cc setTickPeriod sets it on the root context, also when called from a stream).
 */
import type { PluginVm } from '../plugin-vm.js';
import type { ImportModule } from '../vm.js';
import { WasmResult } from './constants.js';
import { u32 } from './memory.js';

export function timerImports(h: PluginVm): ImportModule {
  return {
    proxy_set_tick_period_milliseconds(periodMs: number): number {
      periodMs = u32(periodMs);
      h.tickTimer?.cancel();
      h.tickTimer = undefined;
      if (periodMs > 0) h.tickTimer = h.services.timers.every(periodMs, () => h.tick());
      h.tickPeriodMs = periodMs;
      return WasmResult.Ok;
    },
  };
}

/**
 * Host-wide services shared by every VM of every plugin of one ProxyWasmHost: shared data and
 * queues (per vm_id, as Envoy's process-wide global_shared_data), the stats store, clusters for
 * http calls, the clock, timers and logging.
 */
import type { ClusterDispatcher, ListenerDirection, LogEntry, LogLevel, NodeInfo } from './api.js';
import { SharedDataStore } from './abi/shared-data.js';
import { SharedQueueRegistry } from './abi/shared-queue.js';
import { StatsStore } from './abi/metrics.js';
import type { DnsResolver } from './abi/dns.js';

/** Wall clock and monotonic time in nanoseconds; the emulator substitutes a controllable one. */
export interface Clock {
  nowNanos(): bigint;
  monotonicNanos(): bigint;
}

export const systemClock: Clock = {
  nowNanos: () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n),
  monotonicNanos: () => process.hrtime.bigint(),
};

export interface TimerHandle {
  cancel(): void;
}

/** Periodic timers for proxy_set_tick_period_milliseconds; the emulator drives ticks by hand. */
export interface TimerScheduler {
  every(periodMs: number, tick: () => void): TimerHandle;
}

export const realTimers: TimerScheduler = {
  every(periodMs, tick) {
    const handle = setInterval(tick, periodMs);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};

/** A foreign function: receives the argument bytes; returns [WasmResult, result bytes]. */
export type ForeignFunction = (args: Uint8Array, context: ForeignCallContext) => readonly [number, Uint8Array];

export interface ForeignCallContext {
  /** Stream-side effects available to foreign functions (undefined in a root context). */
  readonly clearRouteCache?: () => void;
  readonly setFilterState?: (key: string, value: Uint8Array, readOnly: boolean) => number;
  readonly declareProperty: (name: string, readOnly: boolean) => number;
}

export const LOG_LEVEL_ORDER: Readonly<Record<LogLevel, number>> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, critical: 5 };

export interface HostServices {
  readonly sharedData: SharedDataStore;
  readonly queues: SharedQueueRegistry;
  readonly stats: StatsStore;
  readonly clusters: ClusterDispatcher | undefined;
  readonly clock: Clock;
  readonly timers: TimerScheduler;
  readonly node: NodeInfo;
  readonly listenerDirection: ListenerDirection;
  readonly logLevel: LogLevel;
  readonly log: (entry: LogEntry) => void;
  /** Foreign functions by name (Envoy's registry plus any the embedder adds). */
  readonly foreignFunctions: Map<string, ForeignFunction>;
  /** Environment variables handed to WASI environ_get (Envoy: vm_config.environment_variables). */
  readonly environment: ReadonlyArray<readonly [string, string]>;
  /** envoy_resolve_dns lookups (abi/dns.ts); the emulator scripts the answers. */
  readonly resolveDns: DnsResolver;
}

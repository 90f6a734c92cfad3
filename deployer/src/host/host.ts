/**
 * createProxyWasmHost: one proxy's worth of wasm state (api.ts ProxyWasmHost). Shared data,
 * shared queues and stats span all plugins; plugins run `workers` VMs each.
 */
import type { FilterChain, HostOptions, LogEntry, MetricSample, PluginSpec, ProxyWasmHost, WasmPluginHandle } from './api.js';
import { SharedDataStore } from './abi/shared-data.js';
import { SharedQueueRegistry } from './abi/shared-queue.js';
import { StatsStore } from './abi/metrics.js';
import { envoyForeignFunctions } from './abi/foreign.js';
import { systemDnsResolver, type DnsResolver } from './abi/dns.js';
import { WasmFilterChain } from './chain.js';
import { WasmPlugin } from './plugin.js';
import { realTimers, systemClock, type Clock, type ForeignFunction, type HostServices, type TimerScheduler } from './services.js';

/** Options beyond the api.ts contract, used by the emulator and benchmarks. */
export interface InternalHostOptions extends HostOptions {
  readonly clock?: Clock;
  readonly timers?: TimerScheduler;
  readonly foreignFunctions?: ReadonlyMap<string, ForeignFunction>;
  readonly environment?: ReadonlyArray<readonly [string, string]>;
  readonly resolveDns?: DnsResolver;
}

export interface WasmProxyHost extends ProxyWasmHost {
  readonly services: HostServices;
  loadPlugin(spec: PluginSpec): Promise<WasmPlugin>;
  newFilterChain(plugins: readonly WasmPluginHandle[]): WasmFilterChain;
}

const defaultLog = (entry: LogEntry): void => {
  process.stderr.write(`[wasm ${entry.level}] ${entry.plugin}: ${entry.message}\n`);
};

export function createProxyWasmHost(options: InternalHostOptions = {}): WasmProxyHost {
  const foreign = envoyForeignFunctions();
  for (const [name, fn] of options.foreignFunctions ?? []) foreign.set(name, fn);
  const services: HostServices = {
    sharedData: new SharedDataStore(),
    queues: new SharedQueueRegistry(),
    stats: new StatsStore(),
    clusters: options.clusters,
    clock: options.clock ?? systemClock,
    timers: options.timers ?? realTimers,
    node: options.node ?? { id: 'wasmesh', cluster: 'wasmesh', metadata: {} },
    listenerDirection: options.listenerDirection ?? 'UNSPECIFIED',
    logLevel: options.logLevel ?? 'info',
    log: options.onLog ?? defaultLog,
    foreignFunctions: foreign,
    environment: options.environment ?? [],
    resolveDns: options.resolveDns ?? systemDnsResolver,
  };
  const plugins = new Set<WasmPlugin>();
  let closed = false;
  return {
    services,
    async loadPlugin(spec: PluginSpec): Promise<WasmPlugin> {
      if (closed) throw new Error(`cannot load plugin "${spec.name}": the host is closed`);
      const plugin = await WasmPlugin.load(spec, services);
      plugins.add(plugin);
      return plugin;
    },
    newFilterChain(handles: readonly WasmPluginHandle[]): WasmFilterChain {
      const loaded = handles.map((handle, i) => {
        if (!(handle instanceof WasmPlugin) || !plugins.has(handle)) {
          throw new Error(`filter chain entry ${i} (${handle.spec?.name ?? 'unnamed'}) was not loaded by this host; expected a handle returned by loadPlugin`);
        }
        return handle;
      });
      return new WasmFilterChain(handles, loaded, services.clock);
    },
    metrics(): readonly MetricSample[] {
      return services.stats.samples();
    },
    unloadPlugin(handle: WasmPluginHandle): void {
      if (handle instanceof WasmPlugin && plugins.delete(handle)) handle.shutdown();
    },
    async close(): Promise<void> {
      closed = true;
      for (const plugin of plugins) plugin.shutdown();
      plugins.clear();
    },
  };
}

export { HttpClusterDispatcher } from './http-cluster-dispatcher.js';
export type { WasmPlugin } from './plugin.js';

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FilterChain, ProxyWasmHost, WasmPluginHandle } from '../host/api.js';
import type { ClusterConfig, SidecarConfig, WasmFilterConfig } from './config/types.js';
import type { RequestTarget } from './stream-target.js';
import { PassthroughChain } from './passthrough-chain.js';
import { isMissingConfig, MissingConfigChain } from './xds/missing-config.js';
import { RouteTable } from './routing.js';
import { ClusterPool } from './upstream.js';

/**
 * One applied configuration: the filter chain (plugins and their VMs), the route table and the
 * cluster pools that requests started under it use until they finish. Envoy's equivalent is a
 * listener's filter chain plus the route configuration snapshot a stream holds: an LDS/RDS
 * update builds new ones and streams already running keep the old ones
 * (source/common/listener_manager/listener_manager_impl.cc: a warmed listener replaces the old
 * one, whose connections drain).
 */
export interface Generation extends RequestTarget {
  /** 1 for the configuration the sidecar started with, +1 per applied reload. */
  readonly version: number;
  readonly config: SidecarConfig;
  readonly plugins: readonly WasmPluginHandle[];
  /** sha256 of each filter's module, by filter name (`/config_dump`). */
  readonly wasmDigests: ReadonlyMap<string, string>;
  readonly appliedAt: Date;
}

export class GenerationBuildError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GenerationBuildError';
  }
}

interface Shared<T> {
  readonly value: T;
  refs: number;
}

interface LiveGeneration extends Generation {
  /** Streams started under this generation and not finished yet. */
  active: number;
  retired: boolean;
  /** The shared plugins and pools this generation holds (released when it is disposed). */
  readonly pluginKeys: readonly string[];
  readonly poolKeys: readonly string[];
}

export interface GenerationSetOptions {
  /** The proxy-wasm host, created on first need (a sidecar that never has filters loads no wasm). */
  readonly host: () => ProxyWasmHost;
  /** Test seam: this chain for every generation instead of one built from config.filters. */
  readonly chain?: FilterChain;
  /** Clusters as proxy_dispatch_http_call sees them: the newest generation's (Envoy's cluster manager is process-wide). */
  readonly liveClusters: Map<string, ClusterPool>;
}

/**
 * The generations of a running sidecar: the current one, which new streams take, and retired ones
 * kept until their last stream finishes. Plugins and cluster pools whose configuration did not
 * change are shared between generations (no new VMs for a route edit, upstream connections stay
 * warm), each released when the last generation using it is disposed.
 */
export class GenerationSet {
  private current: LiveGeneration | undefined;
  private readonly plugins = new Map<string, Shared<WasmPluginHandle>>();
  private readonly pools = new Map<string, Shared<ClusterPool>>();
  private readonly retired = new Set<LiveGeneration>();
  private idleWaiters: (() => void)[] = [];
  private hostInstance: ProxyWasmHost | undefined;

  constructor(private readonly options: GenerationSetOptions) {}

  get host(): ProxyWasmHost | undefined {
    return this.hostInstance;
  }

  get latest(): Generation {
    if (!this.current) throw new Error('no configuration applied yet');
    return this.current;
  }

  /** Streams in flight across every generation. */
  get inFlight(): number {
    let total = this.current?.active ?? 0;
    for (const generation of this.retired) total += generation.active;
    return total;
  }

  /** Generations still serving streams after being replaced. */
  get retiredCount(): number {
    return this.retired.size;
  }

  /**
   * Builds everything `config` needs before anything is swapped; throws GenerationBuildError (with
   * what it acquired released) when a module cannot be read or a plugin refuses its configuration.
   */
  async build(config: SidecarConfig, version: number): Promise<Generation> {
    const acquiredPlugins: string[] = [];
    const acquiredPools: string[] = [];
    try {
      const pools = new Map<string, ClusterPool>();
      for (const cluster of config.clusters.values()) {
        const key = clusterKey(cluster);
        acquiredPools.push(key);
        pools.set(cluster.name, this.acquire(this.pools, key, () => new ClusterPool(cluster)));
      }
      // Plugins configure while being built and may fetch (jwt-auth's JWKS) from the new clusters.
      for (const [name, pool] of pools) this.options.liveClusters.set(name, pool);
      const wasmDigests = new Map<string, string>();
      const handles: WasmPluginHandle[] = [];
      // An ECDS filter still without configuration (xds/missing-config.ts): Envoy's 500 for every request.
      const missingConfig = config.filters.some(isMissingConfig);
      for (const [index, filter] of config.filters.entries()) {
        if (missingConfig) break;
        const wasm = await readModule(filter, index);
        const digest = createHash('sha256').update(wasm).digest('hex');
        wasmDigests.set(filter.name, digest);
        if (this.options.chain) continue;
        const key = pluginKey(filter, digest, config.workers);
        const shared = this.plugins.get(key);
        if (shared) {
          shared.refs++;
        } else {
          const handle = await this.loadPlugin(filter, wasm, config.workers, index);
          this.plugins.set(key, { value: handle, refs: 1 });
        }
        acquiredPlugins.push(key);
        handles.push(this.plugins.get(key)!.value);
      }
      const chain = this.options.chain ?? (missingConfig ? new MissingConfigChain() : handles.length === 0 ? new PassthroughChain() : this.ensureHost().newFilterChain(handles));
      const generation: LiveGeneration = {
        version, config, chain, routes: new RouteTable(config.routes), pools, plugins: handles, wasmDigests,
        hcm: config.hcm, perConnectionBufferLimitBytes: config.perConnectionBufferLimitBytes, accessLogFormat: config.accessLogFormat,
        appliedAt: new Date(), active: 0, retired: false, pluginKeys: acquiredPlugins, poolKeys: acquiredPools,
      };
      return generation;
    } catch (error) {
      this.releaseKeys(acquiredPlugins, acquiredPools);
      this.restoreLiveClusters();
      throw error instanceof GenerationBuildError ? error : new GenerationBuildError(error instanceof Error ? error.message : String(error), { cause: error });
    }
  }

  /** Makes `next` (from build) the generation new streams take; the previous one retires. */
  swap(next: Generation): Generation | undefined {
    const previous = this.current;
    this.current = next as LiveGeneration;
    this.restoreLiveClusters();
    if (previous) {
      previous.retired = true;
      this.retired.add(previous);
      this.disposeIfIdle(previous);
    }
    return previous;
  }

  /** Drops a built generation that will not be swapped in. */
  discard(built: Generation): void {
    this.dispose(built as LiveGeneration);
    this.restoreLiveClusters();
  }

  /** A stream starts: it runs on the current generation until `leave`. */
  enter(): Generation {
    const generation = this.current!;
    generation.active++;
    return generation;
  }

  leave(generation: Generation): void {
    const live = generation as LiveGeneration;
    live.active--;
    if (live.retired) this.disposeIfIdle(live);
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once no stream is in flight (drain), or after `timeoutMs`; true when idle. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(wake);
    });
  }

  /** Releases every plugin, pool and the host; `latest` stays readable (config of a closed sidecar). */
  async close(): Promise<void> {
    for (const shared of this.pools.values()) shared.value.close();
    this.pools.clear();
    this.plugins.clear();
    this.retired.clear();
    await this.hostInstance?.close();
  }

  private async loadPlugin(filter: WasmFilterConfig, wasm: Uint8Array, workers: number, index: number): Promise<WasmPluginHandle> {
    try {
      return await this.ensureHost().loadPlugin({
        name: filter.name, rootId: filter.rootId, vmId: filter.vmId, wasm, configuration: filter.configuration,
        vmConfiguration: filter.vmConfiguration, failOpen: filter.failOpen, workers,
      });
    } catch (error) {
      throw new GenerationBuildError(`filters[${index}] (${filter.name}): could not load ${filter.wasmFile}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  private ensureHost(): ProxyWasmHost {
    this.hostInstance ??= this.options.host();
    return this.hostInstance;
  }

  private acquire<T>(table: Map<string, Shared<T>>, key: string, create: () => T): T {
    const shared = table.get(key);
    if (shared) {
      shared.refs++;
      return shared.value;
    }
    const value = create();
    table.set(key, { value, refs: 1 });
    return value;
  }

  private disposeIfIdle(generation: LiveGeneration): void {
    if (generation.active > 0 || !this.retired.has(generation)) return;
    this.retired.delete(generation);
    this.dispose(generation);
  }

  private dispose(generation: LiveGeneration): void {
    this.releaseKeys(generation.pluginKeys, generation.poolKeys);
  }

  private releaseKeys(pluginKeys: readonly string[], poolKeys: readonly string[]): void {
    for (const key of pluginKeys) {
      const shared = this.plugins.get(key);
      if (shared && --shared.refs === 0) {
        this.plugins.delete(key);
        // VMs of a plugin no generation uses any more get proxy_on_done and are freed.
        this.hostInstance?.unloadPlugin?.(shared.value);
      }
    }
    for (const key of poolKeys) {
      const shared = this.pools.get(key);
      if (shared && --shared.refs === 0) {
        this.pools.delete(key);
        shared.value.close();
      }
    }
  }

  private restoreLiveClusters(): void {
    const live = this.options.liveClusters;
    live.clear();
    for (const [name, pool] of this.current?.pools ?? []) live.set(name, pool);
  }
}

async function readModule(filter: WasmFilterConfig, index: number): Promise<Uint8Array> {
  try {
    return await readFile(filter.wasmFile);
  } catch (error) {
    throw new GenerationBuildError(`filters[${index}] (${filter.name}): could not read ${filter.wasmFile}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Same key ⇒ the running plugin is reused: everything proxy_on_vm_start/on_configure see, and the VM count. */
function pluginKey(filter: WasmFilterConfig, digest: string, workers: number): string {
  return JSON.stringify([filter.name, filter.rootId, filter.vmId, digest, filter.configuration, filter.vmConfiguration, filter.failOpen, workers]);
}

function clusterKey(cluster: ClusterConfig): string {
  return JSON.stringify([cluster.name, cluster.url.href, cluster.connectTimeoutMs, cluster.tls ?? null]);
}

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createProxyWasmHost } from '../host/host.js';
import type { FilterChain, HostOptions, LogEntry, LogLevel, ProxyWasmHost, WasmPluginHandle } from '../host/api.js';
import { startAdminServer, type AdminServer } from './admin.js';
import { SidecarClusterDispatcher } from './cluster-dispatcher.js';
import type { ListenAddress, SidecarConfig } from './config/types.js';
import { configDump } from './config-dump.js';
import { startDownstream } from './downstream.js';
import type { DataListener } from './listener.js';
import { PassthroughChain } from './passthrough-chain.js';
import { RouteTable } from './routing.js';
import { ProxyStats } from './stats.js';
import { ClusterPool } from './upstream.js';

export type HostFactory = (options: HostOptions) => ProxyWasmHost;

export interface SidecarOptions {
  /** Creates the proxy-wasm host (default: the wasmesh host, deployer/src/host). */
  readonly createHost?: HostFactory;
  /** One Envoy-format line per request; default: stdout. */
  readonly accessLog?: (line: string) => void;
  /** proxy_log output of the filters; default: stderr. */
  readonly onLog?: (entry: LogEntry) => void;
  readonly logLevel?: LogLevel;
  /** Unexpected internal errors; default: stderr. The request still gets a reply. */
  readonly onError?: (error: unknown) => void;
  /** Test seam: this chain instead of one built from config.filters. */
  readonly chain?: FilterChain;
}

export interface RunningSidecar {
  readonly config: SidecarConfig;
  /** Bound addresses (the real port when the config asked for port 0). */
  readonly listen: ListenAddress;
  readonly admin: ListenAddress;
  readonly plugins: readonly WasmPluginHandle[];
  readonly stats: ProxyStats;
  /** http(s)://host:port of the data listener. */
  readonly url: string;
  readonly adminUrl: string;
  close(): Promise<void>;
}

export class SidecarStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SidecarStartError';
  }
}

/**
 * `deployer run`: loads the filters into a proxy-wasm host (one VM per worker, Envoy's model),
 * then serves the data listener and the admin listener until `close()`.
 */
export async function startSidecar(config: SidecarConfig, options: SidecarOptions = {}): Promise<RunningSidecar> {
  const pools = new Map([...config.clusters.values()].map((cluster) => [cluster.name, new ClusterPool(cluster)]));
  const stats = new ProxyStats(`inbound_${config.listen.host}_${config.listen.port}`, [...config.clusters.keys()]);
  const onError = options.onError ?? ((error: unknown) => process.stderr.write(`deployer run: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`));

  let host: ProxyWasmHost | undefined;
  let plugins: WasmPluginHandle[] = [];
  let chain: FilterChain;
  const wasmDigests = new Map<string, string>();
  if (options.chain) {
    chain = options.chain;
  } else if (config.filters.length === 0) {
    chain = new PassthroughChain();
  } else {
    host = (options.createHost ?? createProxyWasmHost)({
      clusters: new SidecarClusterDispatcher(pools),
      listenerDirection: 'INBOUND',
      node: { id: `sidecar~${config.listen.host}~wasmesh.local`, cluster: 'wasmesh-sidecar', metadata: {} },
      onLog: options.onLog ?? ((entry) => process.stderr.write(`[wasm ${entry.level}] ${entry.plugin}: ${entry.message}\n`)),
      logLevel: options.logLevel ?? 'info',
    });
    try {
      for (const [index, filter] of config.filters.entries()) {
        const wasm = await readFile(filter.wasmFile);
        wasmDigests.set(filter.name, createHash('sha256').update(wasm).digest('hex'));
        try {
          plugins.push(await host.loadPlugin({
            name: filter.name,
            rootId: filter.rootId,
            vmId: filter.vmId,
            wasm,
            configuration: filter.configuration,
            vmConfiguration: filter.vmConfiguration,
            failOpen: filter.failOpen,
            workers: config.workers,
          }));
        } catch (error) {
          throw new SidecarStartError(`filters[${index}] (${filter.name}): could not load ${filter.wasmFile}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
      }
    } catch (error) {
      await host.close();
      throw error;
    }
    chain = host.newFilterChain(plugins);
  }

  const routes = new RouteTable(config.routes);
  const accessLog = options.accessLog ?? ((line: string) => process.stdout.write(line + '\n'));
  let state: 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' = 'PRE_INITIALIZING';
  let data: DataListener | undefined;
  let admin: AdminServer | undefined;
  try {
    data = await startDownstream(config, { chain, routes, pools, stats, accessLog, onError });
    admin = await startAdminServer(config.admin, {
      proxyStats: () => stats.samples(),
      wasmMetrics: () => host?.metrics() ?? [],
      configDump: () => configDump(config, wasmDigests),
      state: () => state,
    });
  } catch (error) {
    await data?.close();
    await host?.close();
    for (const pool of pools.values()) pool.close();
    const address = data ? config.admin : config.listen;
    throw new SidecarStartError(`cannot listen on ${address.host}:${address.port}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // Named after the bound port, as Istio names its inbound listener stats (inbound_0.0.0.0_15006).
  stats.connManagerPrefix = `inbound_${data.address.host}_${data.address.port}`;
  state = 'LIVE';
  const scheme = config.tls ? 'https' : 'http';
  const hostForUrl = (a: ListenAddress) => (a.host.includes(':') ? `[${a.host}]` : a.host);
  return {
    config,
    listen: data.address,
    admin: admin.address,
    plugins,
    stats,
    url: `${scheme}://${hostForUrl(data.address)}:${data.address.port}`,
    adminUrl: `http://${hostForUrl(admin.address)}:${admin.address.port}`,
    close: async () => {
      state = 'DRAINING';
      await data!.close();
      await admin!.close();
      for (const pool of pools.values()) pool.close();
      await host?.close();
      plugins = [];
    },
  };
}

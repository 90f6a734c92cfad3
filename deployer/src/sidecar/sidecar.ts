import type { ServerResponse } from 'node:http';
import { isIPv4 } from 'node:net';
import { TagExtractor } from './stats-tags.js';
import { createProxyWasmHost } from '../host/host.js';
import type { FilterChain, HostOptions, LogEntry, LogLevel, ProxyWasmHost, WasmPluginHandle } from '../host/api.js';
import { startAdminServer, type AdminServer } from './admin.js';
import { SidecarClusterDispatcher } from './cluster-dispatcher.js';
import type { ListenAddress, SidecarConfig } from './config/types.js';
import { configDump } from './config-dump.js';
import { GenerationSet, type Generation } from './generation.js';
import { startDownstream, type Downstream } from './downstream.js';
import { listenerSettingChanges } from './hcm/changes.js';
import { runOnCurrentGeneration } from './request-generation.js';
import { ProxyStats } from './stats.js';
import type { ClusterPool } from './upstream.js';
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
  /** Operator warnings (e.g. an admin listener reachable from other hosts); default: stderr. */
  readonly onWarning?: (line: string) => void;
}

export interface ReloadResult {
  /** version_info of the configuration now in force. */
  readonly version: number;
  /** Filters whose plugin (VMs) was kept because nothing it sees changed. */
  readonly reusedFilters: readonly string[];
  /** Filters loaded into new VMs. */
  readonly loadedFilters: readonly string[];
  /**
   * Listener-level settings now in force for new requests and connections (HCM, connection cap,
   * buffer limit, access log format), as `field: old → new`; open ones keep the old settings.
   */
  readonly listenerChanges: readonly string[];
}

export interface RunningSidecar {
  /** The configuration in force (changes with `reload`). */
  readonly config: SidecarConfig;
  /** version_info of `config`: 1 at start, +1 per applied reload. */
  readonly version: number;
  /** Bound addresses (the real port when the config asked for port 0). */
  readonly listen: ListenAddress;
  readonly admin: ListenAddress;
  readonly plugins: readonly WasmPluginHandle[];
  readonly stats: ProxyStats;
  /** http(s)://host:port of the data listener. */
  readonly url: string;
  readonly adminUrl: string;
  /**
   * Applies a new configuration without dropping a connection: the new filter chain (plugins,
   * VMs), route table and cluster pools are built first; only when all of them are ready does
   * the swap happen, atomically, between two requests. Streams already running finish on the
   * chain they started with; every later request takes the new one. Rejects with
   * SidecarReloadError (the field named) when the new configuration cannot be applied; the
   * running one keeps serving. Calls are applied one at a time, in order.
   */
  reload(config: SidecarConfig): Promise<ReloadResult>;
  /**
   * Graceful shutdown (Envoy's drain, `--drain-time-s`): /ready answers DRAINING, the listener
   * stops accepting, in-flight requests get up to `timeoutMs` to finish, then everything closes.
   * Resolves with how many requests were still in flight when the time ran out (0 when drained).
   */
  drain(timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

export class SidecarStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SidecarStartError';
  }
}

/** A configuration `reload` refused; `field` is the sidecar.yaml path at fault ('' when not one field). */
export class SidecarReloadError extends Error {
  constructor(readonly field: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SidecarReloadError';
  }
}

/**
 * `deployer run`: loads the filters into a proxy-wasm host (one VM per worker, Envoy's model),
 * then serves the data listener and the admin listener until `close()`. The host lives as long as
 * the sidecar, so shared data, queues and the filters' stats survive reloads (Envoy keeps them
 * process-wide too).
 */
export async function startSidecar(config: SidecarConfig, options: SidecarOptions = {}): Promise<RunningSidecar> {
  const stats = new ProxyStats(`inbound_${config.listen.host}_${config.listen.port}`, [...config.clusters.keys()]);
  const onError = options.onError ?? ((error: unknown) => process.stderr.write(`deployer run: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`));
  const liveClusters = new Map<string, ClusterPool>();
  const generations = new GenerationSet({
    liveClusters,
    ...(options.chain ? { chain: options.chain } : {}),
    host: () => (options.createHost ?? createProxyWasmHost)({
      clusters: new SidecarClusterDispatcher(liveClusters),
      listenerDirection: config.listenerDirection ?? 'INBOUND',
      node: config.node ?? { id: `sidecar~${config.listen.host}~wasmesh.local`, cluster: 'wasmesh-sidecar', metadata: {} },
      onLog: options.onLog ?? ((entry) => process.stderr.write(`[wasm ${entry.level}] ${entry.plugin}: ${entry.message}\n`)),
      logLevel: options.logLevel ?? 'info',
    }),
  });
  try {
    generations.swap(await generations.build(config, 1));
  } catch (error) {
    await generations.close();
    throw new SidecarStartError(error instanceof Error ? error.message : String(error), { cause: error });
  }

  const accessLog = options.accessLog ?? ((line: string) => process.stdout.write(line + '\n'));
  let state: 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' = 'PRE_INITIALIZING';
  let data: Downstream | undefined;
  let admin: AdminServer | undefined;
  try {
    data = await startDownstream(config, {
      stats, accessLog, onError,
      // Each request runs on the generation in force when it arrived (live reload).
      dispatch: (exchange, start) => runOnCurrentGeneration(generations, exchange, state === 'DRAINING', start),
    });
    admin = await startAdminServer(config.admin, {
      proxyStats: () => stats.samples(),
      wasmMetrics: () => generations.host?.metrics() ?? [],
      ...(config.statsTags !== undefined ? { statsTags: new TagExtractor(config.statsTags) } : {}),
      configDump: () => {
        const current = generations.latest;
        return configDump(current.config, current.wasmDigests, { version: current.version, lastUpdated: current.appliedAt });
      },
      state: () => state,
    });
  } catch (error) {
    await data?.close();
    await generations.close();
    const address = data ? config.admin : config.listen;
    throw new SidecarStartError(`cannot listen on ${address.host}:${address.port}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // Named after the bound port, as Istio names its inbound listener stats (inbound_0.0.0.0_15006).
  stats.connManagerPrefix = `inbound_${data.address.host}_${data.address.port}`;
  state = 'LIVE';
  if (!isLoopback(admin.address.host)) (options.onWarning ?? defaultWarning)(adminExposedWarning(admin.address));
  const scheme = config.tls ? 'https' : 'http';
  const hostForUrl = (a: ListenAddress) => (a.host.includes(':') ? `[${a.host}]` : a.host);

  let reloads: Promise<unknown> = Promise.resolve();
  let nextVersion = 2;
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    state = 'DRAINING';
    await data!.close();
    await admin!.close();
    await generations.close();
  })());

  const applyReload = async (next: SidecarConfig): Promise<ReloadResult> => {
    if (closing) throw new SidecarReloadError('', 'the sidecar is shutting down');
    const running = generations.latest.config;
    const fixed = unchangeableField(running, next);
    if (fixed) throw new SidecarReloadError(fixed.field, `${fixed.field}: ${fixed.problem}`);
    let built: Generation;
    try {
      built = await generations.build(next, nextVersion);
    } catch (error) {
      const field = /^filters\[\d+\]/.exec(error instanceof Error ? error.message : '')?.[0] ?? '';
      throw new SidecarReloadError(field, error instanceof Error ? error.message : String(error), { cause: error });
    }
    if (closing) {
      generations.discard(built);
      throw new SidecarReloadError('', 'the sidecar is shutting down');
    }
    nextVersion++;
    const listenerChanges = listenerSettingChanges(running, next);
    const previous = generations.swap(built);
    // New connections get the new codec settings and cap; requests already dispatched keep the
    // generation (and so the HCM settings) they started with.
    if (listenerChanges.length > 0) data!.reconfigure(next);
    for (const name of next.clusters.keys()) stats.cluster(name);
    const previousPlugins = new Set(previous?.plugins ?? []);
    return {
      version: built.version,
      reusedFilters: next.filters.filter((_, i) => previousPlugins.has(built.plugins[i]!)).map((f) => f.name),
      loadedFilters: next.filters.filter((_, i) => !previousPlugins.has(built.plugins[i]!)).map((f) => f.name),
      listenerChanges,
    };
  };

  return {
    get config() { return generations.latest.config; },
    get version() { return generations.latest.version; },
    get plugins() { return generations.latest.plugins; },
    listen: data.address,
    admin: admin.address,
    stats,
    url: `${scheme}://${hostForUrl(data.address)}:${data.address.port}`,
    adminUrl: `http://${hostForUrl(admin.address)}:${admin.address.port}`,
    reload: (next) => {
      const result = reloads.then(() => applyReload(next));
      reloads = result.catch(() => undefined);
      return result;
    },
    drain: async (timeoutMs) => {
      state = 'DRAINING';
      data!.stopAccepting();
      data!.drainConnections();
      const deadline = performance.now() + timeoutMs;
      const idle = await generations.whenIdle(timeoutMs);
      const left = idle ? 0 : generations.inFlight;
      // Connections told to go away (GOAWAY, connection: close) close on their own once their
      // last response is out; give them the rest of the drain time to flush before closing.
      if (idle) await data!.whenConnectionsClosed(Math.max(0, deadline - performance.now()));
      await close();
      return left;
    },
    close,
  };
}

/**
 * What a running sidecar cannot change in place. Envoy refuses a listener update that changes
 * the address of a listener of the same name ("error adding listener: '...' has a different
 * address", listener_manager_impl.cc), and the admin address and TLS files are bootstrap here.
 */
function unchangeableField(running: SidecarConfig, next: SidecarConfig): { readonly field: string; readonly problem: string } | undefined {
  const address = (a: ListenAddress) => `${a.host}:${a.port}`;
  if (address(running.listen) !== address(next.listen)) {
    return { field: 'listen', problem: `${address(next.listen)} differs from the running listener's ${address(running.listen)}; a listener's address cannot change while it runs (restart deployer run)` };
  }
  if (address(running.admin) !== address(next.admin)) {
    return { field: 'admin', problem: `${address(next.admin)} differs from the running admin listener's ${address(running.admin)}; restart deployer run to move it` };
  }
  if (JSON.stringify(running.tls ?? null) !== JSON.stringify(next.tls ?? null)) {
    return { field: 'tls', problem: 'the listener\'s TLS settings cannot change while it runs (restart deployer run)' };
  }
  return undefined;
}

/** 127.0.0.0/8, ::1 and their v4-mapped form: reachable only from this host. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIPv4(v4) && v4.startsWith('127.');
}

function adminExposedWarning(address: ListenAddress): string {
  return `warning: the admin listener is bound to ${address.host}:${address.port}, not loopback: /config_dump, /stats and /ready ` +
    'answer anyone who can reach it, without authentication (Istio binds Envoy\'s admin to 127.0.0.1:15000); set admin: 127.0.0.1:<port> unless that is intended';
}

const defaultWarning = (line: string) => process.stderr.write(`deployer run: ${line}\n`);

import os from 'node:os';
import path from 'node:path';
import type { ListenAddress, SidecarConfig, WasmFilterConfig } from '../config/types.js';
import type { ReloadResult, RunningSidecar } from '../sidecar.js';
import { missingConfigFilter } from './missing-config.js';
import { ModuleFetcher } from './module-fetcher.js';
import { xdsNodeFor, type XdsIdentity } from './xds-filters.js';
import { XdsSubscriber } from './xds-subscriber.js';

/**
 * `deployer run --xds <host:port>`: the local sidecar as an xDS client of our control plane (or
 * any ADS server serving the same resources).
 *
 * - With `--config`: the file gives listeners, routes and clusters; ECDS gives the filters that
 *   apply to this workload. The two are merged before every `sidecar.reload`, from whichever
 *   side changed, so a file reload never drops the filters xDS gave and an ECDS update never
 *   undoes a file edit. Reloads from both sides go through one queue and the merge is computed
 *   when a reload runs, so the last one applied always holds the latest of both.
 * - Without `--config`: the whole configuration comes from LDS/CDS/EDS/ECDS (xds-config.ts).
 *
 * The listener is not served before the first filter chain arrives: Envoy warms a listener whose
 * filters come from ECDS until the extension configs are in (extension_config_discovery.cc keeps
 * the listener warming without a default config), so no request ever passes unfiltered. After
 * that, a control plane going away changes nothing: the running configuration keeps serving and
 * the subscriber resubscribes with backoff (xds-subscriber.ts).
 */
export class XdsAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XdsAddressError';
  }
}

/**
 * `host:port` (IPv6 as `[::1]:15010`), the form gRPC targets and istiod's `discoveryAddress` use.
 * A URL is refused with the form expected: ADS is gRPC, not an HTTP URL.
 */
export function parseXdsAddress(text: string, flag = '--xds'): string {
  const value = text.trim();
  const expected = 'expected host:port of the control plane\'s xDS (ADS) port, e.g. 127.0.0.1:15010 or [::1]:15010';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new XdsAddressError(`${flag} "${text}": a URL; ${expected} (the address deployer control-plane prints as xds=...)`);
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!match) throw new XdsAddressError(`${flag} "${text}": ${expected}`);
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) throw new XdsAddressError(`${flag} "${text}": port ${match[2]} out of range 1-65535`);
  return `${match[1]}:${port}`;
}

export interface XdsRunOptions {
  readonly address: string;
  readonly identity: XdsIdentity;
  /** Verified modules are cached here by sha256 (default: a folder under the OS temp dir). */
  readonly cacheDir?: string;
  readonly log: (line: string) => void;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /**
   * Envoy's `initial_fetch_timeout` (config_source, default 15 s; 0 waits forever): how long the
   * first configuration may take before the sidecar stops waiting for it. With a config file the
   * file's listeners then serve with Envoy's missing-config filter (500, flag NFCF) until the
   * filters arrive; with xDS alone there is nothing to listen on until LDS arrives.
   */
  readonly initialFetchTimeoutMs?: number;
}

export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

/** What `startSidecar` is to this module (injected, so the CLI passes its access log and log level). */
export type SidecarStarter = (config: SidecarConfig) => Promise<RunningSidecar>;

export interface XdsRun {
  readonly sidecar: RunningSidecar;
  readonly subscriber: XdsSubscriber;
  /** The filter chain xDS gave last (applied). */
  readonly filters: WasmFilterConfig[];
  /**
   * `--config` mode: apply a new file-derived configuration, keeping the filters xDS gave (its
   * own filters are ignored). The reloader's `reload` (reloader.ts).
   */
  reloadFile(config: SidecarConfig): Promise<ReloadResult>;
  /** Stops the subscription (the sidecar is the caller's). */
  close(): void;
}

/** One at a time, in order; a failed task does not stop the ones after it. */
class ReloadQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Subscribes, waits for the first configuration (filters, or everything without a file), starts
 * the sidecar with it, then applies every later update through `sidecar.reload`.
 * `fileConfig` undefined: everything from xDS, with `admin` as the admin listener.
 */
export async function startXdsRun(fileConfig: SidecarConfig | undefined, start: SidecarStarter, options: XdsRunOptions & { readonly admin?: ListenAddress; readonly listen?: ListenAddress }): Promise<XdsRun> {
  const queue = new ReloadQueue();
  let file = fileConfig;
  let filters: readonly WasmFilterConfig[] | undefined;
  let resolveFirst: ((config: SidecarConfig) => void) | undefined;
  const first = new Promise<SidecarConfig>((resolve) => { resolveFirst = resolve; });
  let resolveStarted!: (sidecar: RunningSidecar) => void;
  const started = new Promise<RunningSidecar>((resolve) => { resolveStarted = resolve; });
  /** The first update starts the sidecar; later ones (even while it starts) wait for it, then reload. */
  const takeFirst = (config: SidecarConfig): boolean => {
    if (!resolveFirst) return false;
    resolveFirst(config);
    resolveFirst = undefined;
    return true;
  };
  const applyFilters = async (chain: readonly WasmFilterConfig[]) => {
    if (takeFirst({ ...file!, filters: [...chain] })) {
      filters = chain;
      return;
    }
    const running = await started;
    await queue.run(async () => { await running.reload({ ...file!, filters: [...chain] }); filters = chain; });
  };
  const applyConfig = async (config: SidecarConfig) => {
    if (takeFirst(config)) return;
    const running = await started;
    await queue.run(() => running.reload(config));
  };
  const subscriber = new XdsSubscriber({
    address: options.address,
    node: xdsNodeFor(options.identity),
    fetcher: new ModuleFetcher({ cacheDir: options.cacheDir ?? path.join(os.tmpdir(), 'wasmesh-xds-modules') }),
    log: options.log,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    apply: applyFilters,
    ...(fileConfig ? {} : { topology: { admin: options.admin ?? { host: '127.0.0.1', port: 15000 }, ...(options.listen ? { listen: options.listen } : {}), apply: applyConfig } }),
  });
  subscriber.start();
  options.log(`xds: subscribed to ${options.address} as ${xdsNodeFor(options.identity).id}; waiting for the first ${fileConfig ? 'filter chain (ECDS)' : 'configuration (LDS, CDS, EDS, ECDS)'} before serving`);
  const initialFetchTimeoutMs = options.initialFetchTimeoutMs ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
  // Envoy's init manager stops waiting on a subscription after initial_fetch_timeout
  // (source/common/config/grpc_subscription_impl.cc: the init target is readied on timeout).
  const initialTimer = initialFetchTimeoutMs > 0 ? setTimeout(() => {
    const waited = `no ${fileConfig ? 'filter configuration (ECDS)' : 'configuration'} from ${options.address} within ${initialFetchTimeoutMs} ms (initial fetch timeout)`;
    if (fileConfig) {
      if (takeFirst({ ...fileConfig, filters: [missingConfigFilter('xds.pending')] })) {
        options.log(`xds: ${waited}: serving the listeners of the config file, every request answered 500 (Envoy's missing-config filter, response flag NFCF) until the filters arrive`);
      }
    } else {
      options.log(`xds: ${waited}: no listeners until LDS arrives; still subscribing`);
    }
  }, initialFetchTimeoutMs) : undefined;
  initialTimer?.unref?.();
  let running: RunningSidecar;
  try {
    running = await start(await first);
  } catch (error) {
    subscriber.close();
    throw error;
  } finally {
    if (initialTimer) clearTimeout(initialTimer);
  }
  resolveStarted(running);
  return {
    sidecar: running,
    subscriber,
    // Before the first chain (serving with the missing-config filter after the initial fetch timeout): what runs.
    get filters() { return [...(filters ?? running.config.filters)]; },
    reloadFile: (config) => queue.run(async () => {
      const result = await running.reload({ ...config, filters: [...(filters ?? running.config.filters)] });
      file = config;
      return result;
    }),
    close: () => subscriber.close(),
  };
}

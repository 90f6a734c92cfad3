import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { SUITE } from '../suite.js';
import { handleAdminRequest, type AdminContext } from './admin-api.js';
import { startAdsServer, type RunningAdsServer } from './ads-server.js';
import { AttachmentStore } from './attachments.js';
import { loadConfigDir, watchConfigDir, type LoadedConfig } from './config-dir.js';
import { EMPTY_MODEL, type MeshModel } from './mesh-model.js';
import { ModuleStore } from './module-store.js';
import { NodeStatusRegistry } from './node-status.js';
import { snapshotModules } from './snapshot.js';
import { SnapshotCache } from './snapshot-cache.js';
import { SnapshotGenerator } from './snapshot-generator.js';
import { StateDir } from './state-dir.js';
import type { Log } from './types.js';

export interface ControlPlaneOptions {
  /** Directory of Istio YAML, watched (`--config`). */
  readonly configDir?: string;
  /** Where modules and attachments persist (`--state-dir`); in memory only without it. */
  readonly stateDir?: string;
  /** `host:port`, port 0 = free port. */
  readonly xdsAddress: string;
  readonly httpAddress: string;
  /** Bearer token for the admin API. */
  readonly token: string;
  /** Built suite filters (`<name>.wasm`) for translated RequestAuthentication/AuthorizationPolicy. */
  readonly filtersDir?: string;
  /** The module server's URL as proxies reach it (default: http(s)://<http address>). */
  readonly moduleBaseUrl?: string;
  readonly rootNamespace?: string;
  /** Push debounce (snapshot-cache.ts): quiet period, 100 ms by default (Istio's PILOT_DEBOUNCE_AFTER). */
  readonly debounceAfterMs?: number;
  /** Longest a change waits under a constant stream of them, 10 s by default (PILOT_DEBOUNCE_MAX). */
  readonly debounceMaxMs?: number;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly dockerConfigPath?: string;
  readonly log?: Log;
}

export interface RunningControlPlane {
  readonly xdsAddress: string;
  readonly httpAddress: string;
  readonly status: NodeStatusRegistry;
  readonly cache: SnapshotCache;
  readonly modules: ModuleStore;
  readonly attachments: AttachmentStore;
  /** Re-read the config directory now; false if the edit was refused. */
  reloadConfig(): Promise<boolean>;
  /** Resolves when pending pushes are applied. */
  settled(): Promise<void>;
  /** Tests: drop every xDS stream (connection loss) and keep serving. */
  cutStreams(): void;
  close(): Promise<void>;
}

function splitAddress(flag: string, address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag} ${address}: expected host:port (port 0 picks a free port)`);
  return { host, port };
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The suite's built filters, put in the module store: translated policies run them. */
function loadBuiltFilters(filtersDir: string | undefined, modules: ModuleStore): Map<string, string> {
  const built = new Map<string, string>();
  if (!filtersDir) return built;
  for (const { filter } of SUITE) {
    const file = path.join(filtersDir, `${filter}.wasm`);
    if (existsSync(file)) built.set(filter, modules.put(readFileSync(file)).sha256);
  }
  return built;
}

/**
 * `deployer control-plane`: Istio YAML + pushed filters → xDS over ADS, a module server and an
 * admin API. One process holds everything; see README.md in this folder for scale.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.token === '') throw new Error('no admin token: expected --token-file or DEPLOYER_CONTROL_PLANE_TOKEN');
  const state = options.stateDir ? new StateDir(options.stateDir) : undefined;
  const modules = new ModuleStore(state);
  const attachments = new AttachmentStore(state);
  const builtModules = loadBuiltFilters(options.filtersDir, modules);
  const status = new NodeStatusRegistry(log);
  const rootNamespace = options.rootNamespace ?? 'istio-system';
  const configOptions = options.configDir ? { dir: options.configDir, modules, dockerConfigPath: options.dockerConfigPath } : undefined;
  // The first load must succeed: there is no last good configuration to fall back to yet.
  let config: LoadedConfig | undefined = configOptions ? await loadConfigDir(configOptions, builtModules) : undefined;

  const http = splitAddress('--http-address', options.httpAddress);
  const tls = options.tls ? { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) } : undefined;
  let admin: AdminContext | undefined;
  const handler: Parameters<typeof createHttpServer>[1] = (request, response) => {
    if (!admin) { response.writeHead(503).end('starting\n'); return; }
    handleAdminRequest(admin, request, response).catch((error: unknown) => {
      log(`control-plane: admin API error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    });
  };
  const httpServer: HttpServer = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (error) => reject(new Error(`could not listen for the admin API on ${options.httpAddress}: ${error.message}`)));
    httpServer.listen(http.port, http.host, () => resolve());
  });
  const httpAddress = formatAddress(http.host, (httpServer.address() as AddressInfo).port);
  const moduleBaseUrl = options.moduleBaseUrl ?? `${tls ? 'https' : 'http'}://${httpAddress}`;

  const model = (): MeshModel => {
    const attached = attachments.list().map((a) => a.current);
    const fromConfig = config?.filters ?? [];
    return {
      ...EMPTY_MODEL,
      ...(config ? { services: config.input.services, workloadEntries: config.input.workloadEntries, destinationRules: config.input.destinationRules, virtualServices: config.input.virtualServices, policies: config.input.policies } : {}),
      filters: [...fromConfig, ...attached.filter((a) => !fromConfig.some((f) => f.name === a.name))],
      rootNamespace,
    };
  };
  const generator = () => new SnapshotGenerator({ model: model(), moduleBaseUrl, builtModules });
  const cache = new SnapshotCache(generator(), { debounceAfterMs: options.debounceAfterMs ?? 100, debounceMaxMs: options.debounceMaxMs ?? 10_000, log });
  const collectModules = () => {
    const keep = new Set([...attachments.referencedModules(), ...builtModules.values(), ...(config?.filters ?? []).map((f) => f.sha256)]);
    for (const snapshot of cache.servedSnapshots()) for (const m of snapshotModules(snapshot)) keep.add(m);
    for (const removed of modules.collect(keep)) log(`control-plane: removed module ${removed}: no snapshot or attachment refers to it`);
  };
  const rebuild = () => cache.setSource(generator());

  let ads: RunningAdsServer;
  try {
    ads = await startAdsServer({ cache, status, log }, {
      address: options.xdsAddress,
      credentials: tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false) : undefined,
    });
  } catch (error) {
    httpServer.close();
    throw error;
  }
  admin = { token: options.token, modules, attachments, status, cache, moduleBaseUrl, configFilters: () => config?.filters ?? [], rebuild, rootNamespace };
  const watcher = configOptions ? watchConfigDir(configOptions, () => builtModules, (loaded) => { config = loaded; rebuild(); }, log) : undefined;
  const gcTimer = setInterval(collectModules, 60_000);
  gcTimer.unref();

  return {
    xdsAddress: ads.address,
    httpAddress,
    status, cache, modules, attachments,
    reloadConfig: () => watcher?.reload() ?? Promise.resolve(true),
    settled: () => cache.settled(),
    cutStreams: () => ads.cutStreams(),
    close: async () => {
      clearInterval(gcTimer);
      watcher?.close();
      cache.close();
      await ads.close();
      httpServer.closeAllConnections?.();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

import { createWriteStream } from 'node:fs';
import { Option, type Command } from 'commander';
import type { LogLevel } from '../../host/api.js';
import { describeMeshConfig, loadMeshConfigFile } from '../../istio/mesh-config.js';
import { withMeshPathNormalization } from '../../sidecar/hcm/mesh.js';
import { parseClusterFlags, withClusters } from '../../sidecar/config/cluster-flag.js';
import { routeJwksThroughMappedClusters } from '../../sidecar/config/jwks-mapping.js';
import { loadRunConfigFile } from '../../sidecar/config/from-envoy-bootstrap.js';
import { applyIstioChain, parseWorkloadLabels } from '../../sidecar/istio-chain.js';
import { applyMetricsWiring } from '../../sidecar/istio-metrics.js';
import { startConfigReloader, type LoadedConfig } from '../../sidecar/reloader.js';
import { startSidecar, type RunningSidecar } from '../../sidecar/sidecar.js';
import type { SidecarConfig } from '../../sidecar/config/types.js';
import { parseListenAddress } from '../../sidecar/config/validate.js';
import { parseXdsAddress, startXdsRun, type XdsRun } from '../../sidecar/xds/xds-run.js';
import { flagDurationMs } from '../duration-flag.js';
import { builtFiltersDir } from '../project-root.js';
import { addKubeTargetOptions, resolveNamespace, type KubeTargetFlags } from '../options.js';

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];

export interface RunFlags extends KubeTargetFlags {
  /** sidecar.yaml or an Envoy bootstrap; optional only with --xds (everything from xDS). */
  readonly config?: string;
  /** host:port of the control plane's ADS: filters (ECDS), and with no --config everything else too. */
  readonly xds?: string;
  /** With --xds and no --config: the admin listener (default 127.0.0.1:15000, Envoy's). */
  readonly adminAddress?: string;
  /** With --xds and no --config: listen here instead of the inbound listener's address from LDS (0.0.0.0:15006). */
  readonly inboundAddress?: string;
  /** Where modules fetched over xDS are cached by sha256 (default: under the OS temp dir). */
  readonly xdsCacheDir?: string;
  /** Envoy's initial_fetch_timeout for the first xDS configuration (`15s`; `0` waits forever). */
  readonly xdsInitialFetchTimeout?: string;
  readonly accessLog: string;
  readonly logLevel: string;
  readonly istio?: string;
  /** Default: the kubeconfig context's namespace, else "default" (options.ts). */
  readonly namespace?: string;
  /** -l/--selector; --workload-labels is its older name. */
  readonly selector?: string;
  readonly workloadLabels?: string;
  /** Istio MeshConfig YAML (deployer/src/istio/mesh-config.ts); needs --istio. */
  readonly meshConfig?: string;
  /** `name=http://host:port`, repeatable: clusters added or replaced. */
  readonly cluster?: readonly string[];
  /** commander's --no-metrics: false when given (absent = true). */
  readonly metrics?: boolean;
  readonly workloadName?: string;
  readonly clusterId?: string;
  readonly nodeMetadata?: string;
  /** inbound (default) | outbound. */
  readonly direction?: string;
  /** Watch the config, --istio, --mesh-config and the filter modules and reload on change (CLI default: on). */
  readonly watch?: boolean;
  /** Seconds in-flight requests get to finish on SIGTERM/SIGINT (Envoy's --drain-time-s). */
  readonly drainTimeS?: string;
  /** With --istio: start even when no resource read applies to this workload. */
  readonly allowEmpty?: boolean;
}

/** Istio's default terminationDrainDuration; Envoy's own --drain-time-s defaults to 600. */
const DEFAULT_DRAIN_TIME_S = '5';

const collect = (value: string, previous: readonly string[]): string[] => [...previous, value];

export function register(program: Command): void {
  const command = program
    .command('run')
    .description('Run a local sidecar: HTTP/1.1 and h2c in, the wasm filter chain, routes to upstream clusters, an admin listener')
    .option('-c, --config <file>', 'sidecar.yaml, or an Envoy bootstrap (envoy.yaml: static listener with HCM and wasm filters, routes, clusters, admin); required unless --xds (env DEPLOYER_RUN_CONFIG)', process.env.DEPLOYER_RUN_CONFIG)
    .option('--xds <host:port>', 'subscribe to a control plane over ADS (deployer control-plane\'s xds= address): with --config, xDS gives the filters (ECDS) for this workload; alone, everything (env DEPLOYER_RUN_XDS)', process.env.DEPLOYER_RUN_XDS)
    .option('--admin-address <host:port>', 'with --xds and no --config: the admin listener (env DEPLOYER_RUN_ADMIN_ADDRESS; default 127.0.0.1:15000)', process.env.DEPLOYER_RUN_ADMIN_ADDRESS)
    .option('--inbound-address <host:port>', 'with --xds and no --config: listen here instead of the address of the inbound listener LDS gives (virtualInbound, 0.0.0.0:15006) (env DEPLOYER_RUN_INBOUND_ADDRESS)', process.env.DEPLOYER_RUN_INBOUND_ADDRESS)
    .option('--xds-cache-dir <dir>', 'with --xds: where fetched modules are kept by sha256 (env DEPLOYER_RUN_XDS_CACHE_DIR; default: under the OS temp dir)', process.env.DEPLOYER_RUN_XDS_CACHE_DIR)
    .option('--xds-initial-fetch-timeout <duration>', 'with --xds: how long the first configuration may take (Envoy\'s initial_fetch_timeout; 0 waits forever). With --config the file\'s listeners then serve, answering 500 (Envoy\'s missing-config filter) until the filters arrive; alone, listeners come up when LDS arrives (env DEPLOYER_RUN_XDS_INITIAL_FETCH_TIMEOUT; default 15s)', process.env.DEPLOYER_RUN_XDS_INITIAL_FETCH_TIMEOUT)
    .option('--access-log <path>', 'where access log lines go ("-" for stdout)', process.env.DEPLOYER_RUN_ACCESS_LOG ?? '-')
    .option('--log-level <level>', `filter log level: ${LOG_LEVELS.join(', ')}`, process.env.DEPLOYER_RUN_LOG_LEVEL ?? 'info')
    .option('--istio <file|dir>', 'build the filter chain from Istio resources (RequestAuthentication, AuthorizationPolicy, ...) instead of the config\'s filters', process.env.DEPLOYER_RUN_ISTIO)
    .option('-n, --namespace <ns>', 'namespace of the workload this sidecar stands for, selecting the Istio resources that apply (env DEPLOYER_RUN_NAMESPACE; default: the kubeconfig context\'s namespace, else "default")', process.env.DEPLOYER_RUN_NAMESPACE)
    .option('-l, --selector <k=v,...>', 'labels of the workload, matched against each resource\'s spec.selector (env DEPLOYER_RUN_WORKLOAD_LABELS)', process.env.DEPLOYER_RUN_WORKLOAD_LABELS)
    .addOption(new Option('--workload-labels <k=v,...>', 'older name of -l/--selector').hideHelp())
    .option('--mesh-config <file>', 'with --istio: Istio MeshConfig (the istio ConfigMap, its mesh key, or a bare MeshConfig): path normalization, ext_authz providers, trusted proxies, root namespace (env DEPLOYER_MESH_CONFIG)', process.env.DEPLOYER_MESH_CONFIG)
    .option('--allow-empty', 'with --istio: start even when none of the resources read applies to this workload (by default that refuses: a wrong --namespace would pass every request)', process.env.DEPLOYER_RUN_ALLOW_EMPTY === '1')
    .option('--cluster <name=url>', 'add or replace an upstream cluster, e.g. an ext_authz or JWKS cluster: \'outbound|8000||ext-authz.foo.svc.cluster.local=http://127.0.0.1:9000\'; a path serves a JWKS fetched through it: \'outbound|443||issuer.example=http://127.0.0.1:9000/keys.json\' (repeatable)', collect, [])
    .option('--no-metrics', 'with --istio: leave the metrics filter (Istio\'s standard metrics, last in the chain by default) out')
    .option('--workload-name <name>', 'WORKLOAD_NAME of this workload (metrics labels; default: the app label)', process.env.DEPLOYER_RUN_WORKLOAD_NAME)
    .option('--cluster-id <id>', 'CLUSTER_ID of this workload (source_cluster/destination_cluster; default Kubernetes)', process.env.DEPLOYER_RUN_CLUSTER_ID)
    .option('--node-metadata <file>', 'Istio node metadata (YAML/JSON: NAME, NAMESPACE, LABELS, …, or {id, cluster, metadata}); the flags above win', process.env.DEPLOYER_RUN_NODE_METADATA)
    .option('--direction <inbound|outbound>', 'listener direction: inbound (server side, reporter=destination) or outbound (client side, reporter=source)', process.env.DEPLOYER_RUN_DIRECTION ?? 'inbound')
    .option('--no-watch', 'do not watch the config, --istio and --mesh-config inputs and the filter modules for live reload (env DEPLOYER_RUN_WATCH=false)')
    .option('--drain-time-s <seconds>', 'on SIGTERM/SIGINT, how long in-flight requests get to finish before the process exits (env DEPLOYER_RUN_DRAIN_TIME_S)', process.env.DEPLOYER_RUN_DRAIN_TIME_S ?? DEFAULT_DRAIN_TIME_S)
    .addHelpText('after', `
Examples:
  $ deployer run --config sidecar.yaml
  $ deployer run -c envoy.yaml                 # the same file Envoy runs
  $ deployer run -c sidecar.yaml --istio policies/ -n shop -l app=cart,version=v1
  $ deployer run -c sidecar.yaml --istio policies/ --mesh-config mesh.yaml \\
      --cluster 'outbound|8000||ext-authz.foo.svc.cluster.local=http://127.0.0.1:9000'
  $ deployer run -c client.yaml --istio telemetry/ --direction outbound --workload-name productpage-v1 \\
      -l app=productpage,version=v1 --cluster-id east
  $ deployer run -c sidecar.yaml --drain-time-s 30     # on SIGTERM, in-flight requests get 30 s
  $ deployer run -c sidecar.yaml --xds 127.0.0.1:15010 -n shop -l app=cart   # filters from the control plane
  $ deployer run --xds 127.0.0.1:15010 -n shop -l app=cart --workload-name cart-1   # everything from xDS
  $ curl -s http://127.0.0.1:15000/stats/prometheus

The config file, --istio and --mesh-config inputs and the filter modules are watched: an edit is
applied without dropping connections, or refused (file and field named) with the last good
configuration still serving; HCM settings and the connection cap apply to new connections and
requests. SIGHUP is ignored; SIGUSR1 reopens the --access-log file; SIGTERM/SIGINT drain (HTTP/2
connections get GOAWAY, idle HTTP/1 ones close, in-flight requests finish), then exit 0.

With --xds, filters pushed to the control plane (deployer push --control-plane) go live between
requests; the sidecar serves only once its first filter chain has arrived, keeps serving its last
configuration while the control plane is away, and resubscribes with backoff.`);
  addKubeTargetOptions(command)
    .action(async (flags: RunFlags) => {
      let running: RunningSidecarCommand | undefined;
      const stopHandlingSignals = handleHousekeepingSignals(() => running);
      try {
        const drainTimeMs = parseDrainTime(flags.drainTimeS ?? DEFAULT_DRAIN_TIME_S);
        // commander's --no-watch gives watch: false; the default (true) is the CLI's, not the API's.
        running = await runSidecarCommand({ ...flags, watch: flags.watch !== false && process.env.DEPLOYER_RUN_WATCH !== 'false' });
        await serveUntilSignal(running, drainTimeMs);
      } finally {
        stopHandlingSignals();
      }
    });
}

/**
 * Envoy's housekeeping signals, from the very start (a SIGHUP during startup must not kill the
 * process either): SIGHUP is ignored (Envoy logs "caught and eating SIGHUP"; node's default would
 * exit), SIGUSR1 reopens the access log (Envoy's, for logrotate; node's default would start the
 * inspector). Returns the undo.
 */
function handleHousekeepingSignals(running: () => RunningSidecarCommand | undefined): () => void {
  const note = (line: string) => process.stderr.write(`deployer run: ${line}\n`);
  const onHangup = () => note('caught SIGHUP and ignored it, as Envoy does; the configuration is watched: edit it to reload');
  const onUsr1 = () => {
    running()?.reopenAccessLog();
    note('caught SIGUSR1: access log reopened');
  };
  process.on('SIGHUP', onHangup);
  process.on('SIGUSR1', onUsr1);
  return () => {
    process.off('SIGHUP', onHangup);
    process.off('SIGUSR1', onUsr1);
  };
}

/**
 * SIGTERM/SIGINT drain: /ready turns DRAINING, the listener stops accepting, in-flight requests
 * get `drainTimeMs` to finish, then the process exits 0. A second SIGTERM/SIGINT closes at once.
 */
export async function serveUntilSignal(running: RunningSidecar, drainTimeMs: number): Promise<void> {
  const note = (line: string) => process.stderr.write(`deployer run: ${line}\n`);
  let stop: ((signal: NodeJS.Signals) => void) | undefined;
  try {
    await new Promise<void>((resolve) => {
      let draining = false;
      stop = (signal) => {
        if (draining) {
          note(`${signal} again: closing now`);
          void running.close().then(resolve);
          return;
        }
        draining = true;
        note(`${signal}: draining for up to ${drainTimeMs / 1000}s (no new connections, in-flight requests finish), then exiting`);
        void running.drain(drainTimeMs).then((cut) => {
          note(cut > 0 ? `drain time over: ${cut} request(s) still in flight were cut` : 'drained');
          resolve();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  } finally {
    if (stop) {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
}

function parseDrainTime(text: string): number {
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isFinite(seconds) || seconds > 86_400) {
    throw new Error(`--drain-time-s "${text}": expected a number of seconds from 0 to 86400`);
  }
  return seconds * 1000;
}

/**
 * Everything `deployer run` serves, built from its inputs: the config file, the --istio
 * resources, the --mesh-config MeshConfig and the --cluster flags. `inputs` are the files a
 * reload watches (those, plus every filter module).
 */
export function loadRunConfig(flags: RunFlags & { readonly config: string }, note: (line: string) => void): LoadedConfig {
  const clusterOverrides = parseClusterFlags(flags.cluster ?? []);
  const mesh = flags.meshConfig === undefined || flags.istio === undefined ? undefined : loadMeshConfigFile(flags.meshConfig);
  if (mesh) note(describeMeshConfig(mesh));
  // A sidecar.yaml, or an Envoy bootstrap (the subset the sidecar implements): one file for both.
  let config = loadRunConfigFile(flags.config);
  if (flags.istio !== undefined) {
    if (flags.selector !== undefined && flags.workloadLabels !== undefined) throw new Error('-l/--selector and --workload-labels both given: --workload-labels is the older name of --selector; pass one');
    config = applyIstioChain(config, {
      source: flags.istio,
      namespace: resolveNamespace(flags, note).namespace,
      workloadLabels: parseWorkloadLabels(flags.selector ?? flags.workloadLabels ?? ''),
      filtersDir: builtFiltersDir(),
      ...(mesh ? { mesh: mesh.settings } : {}),
      clusterOverrides,
      note,
      allowEmpty: flags.allowEmpty === true,
    });
  } else {
    config = { ...config, clusters: withClusters(config.clusters, clusterOverrides) };
  }
  // The HCM normalizes paths as istiod would configure it for this mesh.
  config = withMeshPathNormalization(config, mesh?.settings.rbac.pathNormalization);
  const direction = flags.direction ?? 'inbound';
  if (direction !== 'inbound' && direction !== 'outbound') throw new Error(`--direction "${direction}": expected inbound or outbound`);
  config = applyMetricsWiring(config, {
    addMetricsFilter: flags.istio !== undefined && flags.metrics !== false,
    removeMetricsFilter: flags.metrics === false,
    filtersDir: builtFiltersDir(),
    namespace: resolveNamespace(flags, () => undefined).namespace,
    workloadLabels: parseWorkloadLabels(flags.selector ?? flags.workloadLabels ?? ''),
    ...(flags.workloadName !== undefined ? { workloadName: flags.workloadName } : {}),
    ...(flags.clusterId !== undefined ? { clusterId: flags.clusterId } : {}),
    ...(flags.nodeMetadata !== undefined ? { nodeMetadataFile: flags.nodeMetadata } : {}),
    direction,
    listenHost: config.listen.host,
  });
  config = routeJwksThroughMappedClusters(config, clusterOverrides, note);
  const inputs = [flags.config, ...(flags.istio !== undefined ? [flags.istio] : []), ...(mesh ? [flags.meshConfig!] : []),
    ...(flags.nodeMetadata !== undefined ? [flags.nodeMetadata] : []),
    // With --xds the file's filters are replaced by ECDS's: their modules are not inputs.
    ...(flags.xds === undefined ? config.filters.map((f) => f.wasmFile) : [])];
  return { config, inputs };
}

/** `deployer run`'s sidecar, plus what its signals act on. */
export interface RunningSidecarCommand extends RunningSidecar {
  /** Envoy's SIGUSR1: reopen the --access-log file (after logrotate moved it). */
  reopenAccessLog(): void;
}

/**
 * The core of `deployer run`, minus waiting for a signal: returns the running sidecar. With
 * `watch`, its inputs are watched and every change is reloaded (sidecar/reloader.ts).
 */
export async function runSidecarCommand(flags: RunFlags): Promise<RunningSidecarCommand> {
  if (!LOG_LEVELS.includes(flags.logLevel as LogLevel)) {
    throw new Error(`unknown --log-level "${flags.logLevel}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const note = (line: string) => process.stderr.write(`deployer run: ${line}\n`);
  // Not an error without --istio: DEPLOYER_MESH_CONFIG may be set for `deployer translate` too.
  if (flags.meshConfig !== undefined && flags.istio === undefined) note(`--mesh-config ${flags.meshConfig} ignored: it only applies to --istio`);
  checkInputFlags(flags);
  const openLog = () => (flags.accessLog === '-' ? process.stdout : createWriteStream(flags.accessLog, { flags: 'a' }));
  let logStream = openLog();
  const reopenAccessLog = () => {
    if (flags.accessLog === '-') return;
    const old = logStream;
    logStream = openLog();
    old.end();
  };
  const start = (config: SidecarConfig) => startSidecar(config, {
    accessLog: (line) => logStream.write(line + '\n'),
    logLevel: flags.logLevel as LogLevel,
  });
  if (flags.xds !== undefined) return runWithXds(flags, start, note, reopenAccessLog);
  const { config, inputs } = loadRunConfig({ ...flags, config: flags.config! }, note);
  const sidecar = await start(config);
  announce(sidecar, config);
  if (flags.watch !== true) return Object.assign(Object.create(sidecar) as RunningSidecar, { reopenAccessLog });
  const reloader = startConfigReloader(sidecar, () => loadRunConfig({ ...flags, config: flags.config! }, note), inputs, { note });
  note(`watching ${inputs.length} input(s) for live reload: ${inputs.join(', ')}`);
  return withStops(sidecar, reopenAccessLog, () => reloader.close());
}

function checkInputFlags(flags: RunFlags): void {
  if (flags.config === undefined && flags.xds === undefined) throw new Error('no configuration: pass -c/--config <file> (env DEPLOYER_RUN_CONFIG), --xds <host:port> (env DEPLOYER_RUN_XDS), or both');
  if (flags.xds !== undefined && flags.istio !== undefined) throw new Error(`--istio ${flags.istio} with --xds ${flags.xds}: with --xds the control plane translates the Istio resources (deployer control-plane --config <dir>); pass one of them`);
  if (flags.adminAddress !== undefined && (flags.xds === undefined || flags.config !== undefined)) throw new Error('--admin-address only applies to --xds without --config (otherwise the config file gives the admin listener)');
  if (flags.inboundAddress !== undefined && (flags.xds === undefined || flags.config !== undefined)) throw new Error('--inbound-address only applies to --xds without --config (otherwise the config file gives the listener)');
}

function announce(sidecar: RunningSidecar, config: SidecarConfig): void {
  process.stderr.write(
    `deployer run: listening on ${sidecar.url} (${config.tls ? 'mTLS, HTTP/2 and HTTP/1.1 by ALPN' : 'HTTP/1.1 and h2c'}), admin ${sidecar.adminUrl}\n` +
    `deployer run: filters: ${config.filters.map((f) => f.name).join(' → ') || '(none)'}; routes: ${config.routes.length}; clusters: ${[...config.clusters.keys()].join(', ')}\n`);
}

/** The sidecar, plus `stop` (the watcher, the xDS subscription) run when it drains or closes. */
function withStops(sidecar: RunningSidecar, reopenAccessLog: () => void, stop: () => void): RunningSidecarCommand {
  return Object.assign(Object.create(sidecar) as RunningSidecar, {
    reopenAccessLog,
    drain: (timeoutMs: number) => { stop(); return sidecar.drain(timeoutMs); },
    close: () => { stop(); return sidecar.close(); },
  });
}

/**
 * `--xds`: subscribe, start once the first filter chain (or, with no --config, the first whole
 * configuration) is in, and with --config keep watching the file: each file reload goes through
 * the xDS adapter, which keeps the filters xDS gave (sidecar/xds/xds-run.ts).
 */
async function runWithXds(flags: RunFlags, start: (config: SidecarConfig) => Promise<RunningSidecar>, note: (line: string) => void, reopenAccessLog: () => void): Promise<RunningSidecarCommand> {
  const address = parseXdsAddress(flags.xds!);
  if (flags.selector !== undefined && flags.workloadLabels !== undefined) throw new Error('-l/--selector and --workload-labels both given: --workload-labels is the older name of --selector; pass one');
  const identity = {
    namespace: resolveNamespace(flags, note).namespace,
    workloadLabels: parseWorkloadLabels(flags.selector ?? flags.workloadLabels ?? ''),
    ...(flags.workloadName !== undefined ? { workloadName: flags.workloadName } : {}),
    ...(flags.clusterId !== undefined ? { clusterId: flags.clusterId } : {}),
  };
  const fileFlags = flags.config === undefined ? undefined : { ...flags, config: flags.config };
  const loaded = fileFlags ? loadRunConfig(fileFlags, note) : undefined;
  if (loaded && loaded.config.filters.length > 0) note(`the ${loaded.config.filters.length} filter(s) in ${flags.config} are not used: with --xds the filters come from the control plane (ECDS)`);
  const admin = flags.adminAddress === undefined ? undefined : parseListenAddress(flags.adminAddress, '--admin-address', (field, problem) => { throw new Error(`${field}: ${problem}`); });
  const listen = flags.inboundAddress === undefined ? undefined : parseListenAddress(flags.inboundAddress, '--inbound-address', (field, problem) => { throw new Error(`${field}: ${problem}`); });
  const initialFetchTimeoutMs = flags.xdsInitialFetchTimeout === undefined ? undefined : flagDurationMs('--xds-initial-fetch-timeout', flags.xdsInitialFetchTimeout);
  const run: XdsRun = await startXdsRun(loaded?.config, start, {
    address, identity, log: note,
    ...(initialFetchTimeoutMs !== undefined ? { initialFetchTimeoutMs } : {}),
    ...(flags.xdsCacheDir !== undefined ? { cacheDir: flags.xdsCacheDir } : {}),
    ...(admin ? { admin } : {}),
    ...(listen ? { listen } : {}),
  });
  announce(run.sidecar, run.sidecar.config);
  if (!fileFlags || flags.watch !== true) return withStops(run.sidecar, reopenAccessLog, () => run.close());
  // The reloader's target: file-derived configurations, merged with the xDS filters before reload.
  const target = { get version() { return run.sidecar.version; }, reload: (config: SidecarConfig) => run.reloadFile(config) };
  const load = (): LoadedConfig => {
    const next = loadRunConfig(fileFlags, note);
    return { config: { ...next.config, filters: run.filters }, inputs: next.inputs };
  };
  const reloader = startConfigReloader(target, load, loaded!.inputs, { note });
  note(`watching ${loaded!.inputs.length} input(s) for live reload (filters from xDS kept): ${loaded!.inputs.join(', ')}`);
  return withStops(run.sidecar, reopenAccessLog, () => { reloader.close(); run.close(); });
}

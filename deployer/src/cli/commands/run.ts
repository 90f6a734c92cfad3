import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import type { LogLevel } from '../../host/api.js';
import { describeMeshConfig, loadMeshConfigFile } from '../../istio/mesh-config.js';
import { withMeshPathNormalization } from '../../sidecar/hcm/mesh.js';
import { parseClusterFlags, withClusters } from '../../sidecar/config/cluster-flag.js';
import { loadSidecarConfigFile } from '../../sidecar/config/validate.js';
import { applyIstioChain, parseWorkloadLabels } from '../../sidecar/istio-chain.js';
import { startSidecar, type RunningSidecar } from '../../sidecar/sidecar.js';
import { findProjectRoot } from '../project-root.js';

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];

interface RunFlags {
  readonly config: string;
  readonly accessLog: string;
  readonly logLevel: string;
  readonly istio?: string;
  readonly namespace: string;
  readonly workloadLabels?: string;
  /** Istio MeshConfig YAML (deployer/src/istio/mesh-config.ts); needs --istio. */
  readonly meshConfig?: string;
  /** `name=http://host:port`, repeatable: clusters added or replaced. */
  readonly cluster?: readonly string[];
}

const collect = (value: string, previous: readonly string[]): string[] => [...previous, value];

export function register(program: Command): void {
  program
    .command('run')
    .description('Run a local sidecar: HTTP/1.1 and h2c in, the wasm filter chain, routes to upstream clusters, an admin listener')
    .requiredOption('-c, --config <file>', 'sidecar.yaml (env DEPLOYER_RUN_CONFIG)', process.env.DEPLOYER_RUN_CONFIG)
    .option('--access-log <path>', 'where access log lines go ("-" for stdout)', process.env.DEPLOYER_RUN_ACCESS_LOG ?? '-')
    .option('--log-level <level>', `filter log level: ${LOG_LEVELS.join(', ')}`, process.env.DEPLOYER_RUN_LOG_LEVEL ?? 'info')
    .option('--istio <file|dir>', 'build the filter chain from Istio resources (RequestAuthentication, AuthorizationPolicy, ...) instead of the config\'s filters', process.env.DEPLOYER_RUN_ISTIO)
    .option('--namespace <ns>', 'namespace of the workload this sidecar stands for (selects the Istio resources that apply)', process.env.DEPLOYER_RUN_NAMESPACE ?? 'default')
    .option('--workload-labels <k=v,...>', 'labels of the workload, matched against each resource\'s spec.selector', process.env.DEPLOYER_RUN_WORKLOAD_LABELS)
    .option('--mesh-config <file>', 'with --istio: Istio MeshConfig (the istio ConfigMap, its mesh key, or a bare MeshConfig): path normalization, ext_authz providers, trusted proxies, root namespace (env DEPLOYER_MESH_CONFIG)', process.env.DEPLOYER_MESH_CONFIG)
    .option('--cluster <name=url>', 'add or replace an upstream cluster, e.g. an ext_authz or JWKS cluster: \'outbound|8000||ext-authz.foo.svc.cluster.local=http://127.0.0.1:9000\' (repeatable)', collect, [])
    .addHelpText('after', `
Examples:
  $ deployer run --config sidecar.yaml
  $ deployer run -c sidecar.yaml --istio policies/ --namespace shop --workload-labels app=cart,version=v1
  $ deployer run -c sidecar.yaml --istio policies/ --mesh-config mesh.yaml \\
      --cluster 'outbound|8000||ext-authz.foo.svc.cluster.local=http://127.0.0.1:9000'
  $ curl -s http://127.0.0.1:15000/stats/prometheus`)
    .action(async (flags: RunFlags) => {
      const running = await runSidecarCommand(flags);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void running.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}

/** The core of `deployer run`, minus waiting for a signal: returns the running sidecar. */
export async function runSidecarCommand(flags: RunFlags): Promise<RunningSidecar> {
  if (!LOG_LEVELS.includes(flags.logLevel as LogLevel)) {
    throw new Error(`unknown --log-level "${flags.logLevel}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const note = (line: string) => process.stderr.write(`deployer run: ${line}\n`);
  const clusterOverrides = parseClusterFlags(flags.cluster ?? []);
  // Not an error without --istio: DEPLOYER_MESH_CONFIG may be set for `deployer translate` too.
  if (flags.meshConfig !== undefined && flags.istio === undefined) note(`--mesh-config ${flags.meshConfig} ignored: it only applies to --istio`);
  const mesh = flags.meshConfig === undefined || flags.istio === undefined ? undefined : loadMeshConfigFile(flags.meshConfig);
  if (mesh) note(describeMeshConfig(mesh));
  let config = loadSidecarConfigFile(flags.config);
  if (flags.istio !== undefined) {
    config = applyIstioChain(config, {
      source: flags.istio,
      namespace: flags.namespace,
      workloadLabels: parseWorkloadLabels(flags.workloadLabels ?? ''),
      filtersDir: `${findProjectRoot()}/build/filters`,
      ...(mesh ? { mesh: mesh.settings } : {}),
      clusterOverrides,
      note,
    });
  } else {
    config = { ...config, clusters: withClusters(config.clusters, clusterOverrides) };
  }
  // The HCM normalizes paths as istiod would configure it for this mesh.
  config = withMeshPathNormalization(config, mesh?.settings.rbac.pathNormalization);
  const logStream = flags.accessLog === '-' ? process.stdout : createWriteStream(flags.accessLog, { flags: 'a' });
  const sidecar = await startSidecar(config, {
    accessLog: (line) => logStream.write(line + '\n'),
    logLevel: flags.logLevel as LogLevel,
  });
  process.stderr.write(
    `deployer run: listening on ${sidecar.url} (${config.tls ? 'mTLS, HTTP/2 and HTTP/1.1 by ALPN' : 'HTTP/1.1 and h2c'}), admin ${sidecar.adminUrl}\n` +
    `deployer run: filters: ${config.filters.map((f) => f.name).join(' → ') || '(none)'}; routes: ${config.routes.length}; clusters: ${[...config.clusters.keys()].join(', ')}\n`);
  return sidecar;
}

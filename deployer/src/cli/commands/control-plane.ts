import path from 'node:path';
import type { Command } from 'commander';
import { startControlPlane } from '../../control-plane/control-plane.js';
import { resolveToken } from '../../control-plane/token.js';
import { flagDurationMs } from '../duration-flag.js';
import { findProjectRoot } from '../project-root.js';
import { closeOnSignal } from '../until-signal.js';

interface ControlPlaneFlags {
  readonly config?: string;
  readonly xdsAddress: string;
  readonly httpAddress: string;
  readonly stateDir?: string;
  readonly tokenFile?: string;
  readonly filtersDir?: string;
  readonly moduleBaseUrl?: string;
  readonly rootNamespace: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly dockerConfig?: string;
  readonly debounceAfter: string;
  readonly debounceMax: string;
}

export function register(program: Command): void {
  program
    .command('control-plane')
    .description('Serve xDS (ADS, SotW and delta) from Istio YAML and pushed filters, with a module server and an admin API')
    .option('--config <dir>', 'directory of Istio YAML (ServiceEntry, WorkloadEntry, DestinationRule, VirtualService, WasmPlugin, RequestAuthentication, AuthorizationPolicy), watched (env DEPLOYER_CONTROL_PLANE_CONFIG)', process.env.DEPLOYER_CONTROL_PLANE_CONFIG)
    .option('--xds-address <host:port>', 'ADS gRPC address; port 0 picks a free port (env DEPLOYER_XDS_ADDRESS)', process.env.DEPLOYER_XDS_ADDRESS ?? '127.0.0.1:15010')
    .option('--http-address <host:port>', 'admin API and module server address; port 0 picks a free port (env DEPLOYER_HTTP_ADDRESS)', process.env.DEPLOYER_HTTP_ADDRESS ?? '127.0.0.1:15081')
    .option('--state-dir <dir>', 'where uploaded modules and attachments persist across restarts (env DEPLOYER_CONTROL_PLANE_STATE)', process.env.DEPLOYER_CONTROL_PLANE_STATE)
    .option('--token-file <file>', 'admin API bearer token, first line (else env DEPLOYER_CONTROL_PLANE_TOKEN)')
    .option('--filters-dir <dir>', 'built suite filters for translated policies (default: build/filters of the project)')
    .option('--module-base-url <url>', 'the module server URL as proxies reach it (default: http://<http address>)')
    .option('--root-namespace <ns>', "Istio's root namespace: its WasmPlugins and policies apply everywhere", 'istio-system')
    .option('--tls-cert <file>', 'serve the admin API and xDS over TLS with this certificate (PEM)')
    .option('--tls-key <file>', 'private key for --tls-cert (PEM)')
    .option('--debounce-after <duration>', 'push a change at once after this long without changes, and coalesce the changes within it into one push (Istio\'s PILOT_DEBOUNCE_AFTER; env DEPLOYER_CONTROL_PLANE_DEBOUNCE_AFTER)', process.env.DEPLOYER_CONTROL_PLANE_DEBOUNCE_AFTER ?? '100ms')
    .option('--debounce-max <duration>', 'longest a change waits under a constant stream of changes (Istio\'s PILOT_DEBOUNCE_MAX; env DEPLOYER_CONTROL_PLANE_DEBOUNCE_MAX)', process.env.DEPLOYER_CONTROL_PLANE_DEBOUNCE_MAX ?? '10s')
    .option('--docker-config <file>', 'registry credentials for oci:// WasmPlugin urls (env DEPLOYER_DOCKER_CONFIG)', process.env.DEPLOYER_DOCKER_CONFIG)
    .addHelpText('after', `
Examples:
  $ deployer control-plane --config mesh/ --state-dir .wasmesh-cp --token-file token
  $ deployer control-plane --config mesh/ --xds-address 127.0.0.1:0 --http-address 127.0.0.1:0
  $ deployer control-plane --config mesh/ --debounce-after 20ms --debounce-max 2s
  $ deployer push build/filters/rbac.wasm --control-plane http://127.0.0.1:15081 --token-file token --namespace shop`)
    .action(async (flags: ControlPlaneFlags) => {
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together: expected both or neither');
      const debounceAfterMs = flagDurationMs('--debounce-after', flags.debounceAfter);
      const debounceMaxMs = flagDurationMs('--debounce-max', flags.debounceMax);
      if (debounceMaxMs < debounceAfterMs) throw new Error(`--debounce-max ${flags.debounceMax} is shorter than --debounce-after ${flags.debounceAfter}: expected max ≥ after`);
      const running = await startControlPlane({
        debounceAfterMs, debounceMaxMs,
        configDir: flags.config, stateDir: flags.stateDir, xdsAddress: flags.xdsAddress, httpAddress: flags.httpAddress,
        token: resolveToken(flags.tokenFile),
        filtersDir: flags.filtersDir ?? defaultFiltersDir(),
        moduleBaseUrl: flags.moduleBaseUrl, rootNamespace: flags.rootNamespace, dockerConfigPath: flags.dockerConfig,
        tls: flags.tlsCert && flags.tlsKey ? { certFile: flags.tlsCert, keyFile: flags.tlsKey } : undefined,
      });
      process.stdout.write(`control-plane: xds=${running.xdsAddress} http=${running.httpAddress}\n`);
      await closeOnSignal(() => running.close());
    });
}

/** build/filters of the project, when run inside one; translated policies need the suite's modules. */
function defaultFiltersDir(): string | undefined {
  try {
    return path.join(findProjectRoot(), 'build', 'filters');
  } catch {
    return undefined;
  }
}

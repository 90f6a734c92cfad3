import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { describeMeshConfig, loadMeshConfigFile } from '../../istio/mesh-config.js';
import { formatScope } from '../../istio/scopes.js';
import { checkConfiguration } from '../../push/configure-check.js';
import { readWasmFile } from '../../push/push.js';
import { parseContext, parseSelector } from '../../render/options.js';
import { parseIstioResources, translatorsFor } from '../../translate/index.js';
import { translateScoped, type ScopedTranslation } from '../../translate/scoped.js';
import { printStructured } from '../output.js';
import { findProjectRoot } from '../project-root.js';

export interface TranslateFlags {
  readonly output: string;
  /** Istio MeshConfig YAML (deployer/src/istio/mesh-config.ts). */
  readonly meshConfig?: string;
  /** Only policies for workloads in this namespace (default: every namespace the policies are in). */
  readonly namespace?: string;
  /** The workload's labels: one scope, selected as istiod selects for that workload. */
  readonly selector?: string;
  /** inbound | outbound | gateway: with gateway, targetRefs to Gateway API gateways make scopes. */
  readonly context?: string;
  /** Where the built filters are, to prove each config against its module (default <project>/build/filters). */
  readonly filtersDir?: string;
  /** false (--no-validate): skip loading each module with its config. */
  readonly validate?: boolean;
}

export function register(program: Command): void {
  program
    .command('translate')
    .description('Translate Istio RequestAuthentication/AuthorizationPolicy/VirtualService/Telemetry into each wasmesh filter config, per scope')
    .argument('<policy>', 'YAML file with one or more Istio resources')
    .option('-o, --output <format>', 'json | yaml (env DEPLOYER_OUTPUT)', process.env.DEPLOYER_OUTPUT ?? 'json')
    .option('--mesh-config <file>', 'Istio MeshConfig: the istio ConfigMap, its mesh key, or a bare MeshConfig (path normalization, ext_authz providers, trusted proxies, root namespace) (env DEPLOYER_MESH_CONFIG)', process.env.DEPLOYER_MESH_CONFIG)
    .option('-n, --namespace <ns>', 'only policies for workloads in this namespace (default: each namespace the policies are in) (env DEPLOYER_NAMESPACE)', process.env.DEPLOYER_NAMESPACE)
    .option('-l, --selector <labels>', 'the workload\'s labels, e.g. app=productpage: one config, with exactly the policies istiod applies to it (env DEPLOYER_SELECTOR)', process.env.DEPLOYER_SELECTOR)
    .option('--context <ctx>', 'inbound | outbound | gateway (gateway: targetRefs to Gateway API gateways make scopes) (env DEPLOYER_CONTEXT)', process.env.DEPLOYER_CONTEXT ?? 'inbound')
    .option('--filters-dir <dir>', 'built filters (<name>.wasm), each config is proven against its module (env DEPLOYER_FILTERS_DIR; default <project>/build/filters)', process.env.DEPLOYER_FILTERS_DIR)
    .option('--no-validate', 'do not load the modules to prove the configs')
    .addHelpText('after', `
Examples:
  $ deployer translate authz.yaml            # [{"filter": "rbac", "scope": {...}, "config": {...}}]
  $ deployer translate policies.yaml -n bookinfo -l app=productpage -o yaml
  $ kubectl -n istio-system get configmap istio -o yaml > mesh.yaml
  $ deployer translate authz.yaml --mesh-config mesh.yaml`)
    .action(async (policy: string, flags: TranslateFlags) => {
      const translations = await translatePolicyFile(policy, flags, (line) => process.stderr.write(line + '\n'));
      printStructured(translations, flags.output as 'json' | 'yaml');
    });
}

/**
 * The core of `deployer translate`, minus printing: `note` receives what was read from
 * --mesh-config and, per filter, what applies where and what was left out. Each config is
 * proven against its built module (proxy_on_configure, as Envoy would run it) unless validate is false.
 */
export async function translatePolicyFile(policy: string, flags: TranslateFlags, note: (line: string) => void = () => {}): Promise<ScopedTranslation[]> {
  if (flags.output !== 'json' && flags.output !== 'yaml') throw new Error(`-o "${flags.output}": expected json or yaml`);
  const mesh = flags.meshConfig === undefined ? undefined : loadMeshConfigFile(flags.meshConfig);
  if (mesh) note(`deployer translate: ${describeMeshConfig(mesh)}`);
  const text = await readFile(policy, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new Error(`policy "${policy}": ${e.code ?? e.message}: expected a readable YAML file`); });
  const { translations, notes } = translateScoped(parseIstioResources(text, policy), {
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    selector: parseSelector(flags.selector),
    gateway: parseContext(flags.context ?? 'inbound') === 'gateway',
    ...(mesh?.settings.rootNamespace ? { rootNamespace: mesh.settings.rootNamespace } : {}),
  }, translatorsFor({ mesh: mesh?.settings.rbac }), policy);
  for (const line of notes) note(`deployer translate: ${line}`);
  if (flags.validate !== false) await proveConfigs(translations, flags.filtersDir);
  return translations;
}

async function proveConfigs(translations: readonly ScopedTranslation[], filtersDir: string | undefined): Promise<void> {
  const dir = filtersDir ?? path.join(findProjectRoot(), 'build', 'filters');
  for (const t of translations) {
    const file = path.join(dir, `${t.filter}.wasm`);
    if (!existsSync(file)) throw new Error(`cannot prove the ${t.filter} config against its module: ${file} not found; expected the built filter (npm run build), --filters-dir, or --no-validate`);
    await checkConfiguration({ wasm: await readWasmFile(file), filter: t.filter, configuration: JSON.stringify(t.config), where: `${t.filter} config for ${formatScope(t.scope)} (from ${t.sources.join(', ')})` });
  }
}

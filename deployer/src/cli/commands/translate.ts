import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { describeMeshConfig, loadMeshConfigFile } from '../../istio/mesh-config.js';
import { printStructured } from '../output.js';
import { parseIstioResources, translateResources, translatorsFor, type FilterTranslation } from '../../translate/index.js';

export interface TranslateFlags {
  readonly output: string;
  /** Istio MeshConfig YAML (deployer/src/istio/mesh-config.ts). */
  readonly meshConfig?: string;
}

export function register(program: Command): void {
  program
    .command('translate')
    .description('Translate Istio RequestAuthentication/AuthorizationPolicy/VirtualService/Telemetry into each wasmesh filter config')
    .argument('<policy>', 'YAML file with one or more Istio resources')
    .option('-o, --output <format>', 'json | yaml (env DEPLOYER_OUTPUT)', process.env.DEPLOYER_OUTPUT ?? 'json')
    .option('--mesh-config <file>', 'Istio MeshConfig: the istio ConfigMap, its mesh key, or a bare MeshConfig (path normalization, ext_authz providers, trusted proxies) (env DEPLOYER_MESH_CONFIG)', process.env.DEPLOYER_MESH_CONFIG)
    .addHelpText('after', `
Examples:
  $ deployer translate authz.yaml            # {"filter": "rbac", "config": {...}}
  $ deployer translate policies.yaml -o yaml
  $ kubectl -n istio-system get configmap istio -o yaml > mesh.yaml
  $ deployer translate authz.yaml --mesh-config mesh.yaml`)
    .action(async (policy: string, flags: TranslateFlags) => {
      const translations = await translatePolicyFile(policy, flags, (line) => process.stderr.write(line + '\n'));
      printStructured(translations, flags.output as 'json' | 'yaml');
    });
}

/** The core of `deployer translate`, minus printing: `note` receives what was read from --mesh-config. */
export async function translatePolicyFile(policy: string, flags: TranslateFlags, note: (line: string) => void = () => {}): Promise<FilterTranslation[]> {
  if (flags.output !== 'json' && flags.output !== 'yaml') throw new Error(`-o "${flags.output}": expected json or yaml`);
  const mesh = flags.meshConfig === undefined ? undefined : loadMeshConfigFile(flags.meshConfig);
  if (mesh) note(`deployer translate: ${describeMeshConfig(mesh)}`);
  const text = await readFile(policy, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new Error(`policy "${policy}": ${e.code ?? e.message}: expected a readable YAML file`); });
  return translateResources(parseIstioResources(text, policy), translatorsFor({ mesh: mesh?.settings.rbac }));
}

import type { Command } from 'commander';
import { describeMeshConfig, loadMeshConfigFile } from '../../istio/mesh-config.js';
import { printStructured } from '../output.js';
import { describeSkipped, keepKinds, readInputs } from '../inputs.js';
import { parseIstioResources, translateResources, translatorsFor, TRANSLATORS, type FilterTranslation, type IstioResource } from '../../translate/index.js';

export interface TranslateFlags {
  readonly output: string;
  /** Istio MeshConfig YAML (deployer/src/istio/mesh-config.ts). */
  readonly meshConfig?: string;
}

const collect = (value: string, previous: readonly string[]): string[] => [...previous, value];

export function register(program: Command): void {
  const kinds = TRANSLATORS.map((t) => `${t.kind} (→ ${t.filter})`).join(', ');
  program
    .command('translate')
    .description(`Translate Istio resources into wasmesh filter configs: ${kinds}`)
    .argument('[policy...]', 'YAML files or folders with Istio resources (same as -f)')
    .option('-f, --filename <path>', 'a YAML file, a folder of them, or - for standard input (repeatable); other kinds in it are skipped with a note', collect, [])
    .option('-o, --output <format>', 'json | yaml (env DEPLOYER_OUTPUT)', process.env.DEPLOYER_OUTPUT ?? 'json')
    .option('--mesh-config <file>', 'Istio MeshConfig: the istio ConfigMap, its mesh key, or a bare MeshConfig (path normalization, ext_authz providers, trusted proxies) (env DEPLOYER_MESH_CONFIG)', process.env.DEPLOYER_MESH_CONFIG)
    .addHelpText('after', `
Kinds translated: ${kinds}. Other kinds in the input (PeerAuthentication, Gateway, …) are skipped with a note.

Examples:
  $ deployer translate -f authz.yaml            # [{"filter": "rbac", "config": {...}}]
  $ deployer translate -f policies/ -o yaml     # every file of the folder
  $ kubectl get authorizationpolicies -n shop -o yaml | deployer translate -f -
  $ kubectl -n istio-system get configmap istio -o yaml > mesh.yaml
  $ deployer translate -f authz.yaml --mesh-config mesh.yaml`)
    .action(async (positional: string[], flags: TranslateFlags & { readonly filename: string[] }) => {
      const inputs = [...positional, ...flags.filename];
      if (inputs.length === 0) throw new Error('no input given: expected -f <file|folder|-> (or a file argument)');
      const translations = await translatePolicyFile(inputs, flags, (line) => process.stderr.write(line + '\n'));
      printStructured(translations, flags.output as 'json' | 'yaml');
    });
}

/**
 * The core of `deployer translate`, minus printing: `note` receives what was read from
 * --mesh-config and what was skipped. Every invalid resource of every input is reported at once.
 */
export async function translatePolicyFile(policy: string | readonly string[], flags: TranslateFlags, note: (line: string) => void = () => {}): Promise<FilterTranslation[]> {
  if (flags.output !== 'json' && flags.output !== 'yaml') throw new Error(`-o "${flags.output}": expected json or yaml`);
  const mesh = flags.meshConfig === undefined ? undefined : loadMeshConfigFile(flags.meshConfig);
  if (mesh) note(`deployer translate: ${describeMeshConfig(mesh)}`);
  const registry = translatorsFor({ mesh: mesh?.settings.rbac });
  const kinds = registry.map((t) => t.kind);
  const specs = typeof policy === 'string' ? [policy] : policy;
  const { kept, skipped } = keepKinds(specs.flatMap((spec) => readInputs(spec)), kinds);
  for (const line of describeSkipped(skipped, kinds)) note(`deployer translate: ${line}`);
  if (kept.length === 0) {
    throw new Error(`${specs.join(', ')}: nothing to translate: expected ${kinds.join(' or ')} resources${skipped.length ? ` (found only ${[...new Set(skipped.map((s) => s.kind))].join(', ')})` : ''}`);
  }
  const resources: IstioResource[] = [];
  const problems: string[] = [];
  for (const input of kept) {
    try {
      resources.push(...parseIstioResources(input.text, input.source));
    } catch (error) {
      problems.push(`${input.source}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.length === 1 ? problems[0]! : `${problems.length} invalid resources:\n  ${problems.join('\n  ')}`);
  return translateResources(resources, registry);
}

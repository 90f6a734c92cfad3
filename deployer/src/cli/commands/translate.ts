import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describeMeshConfig, loadMeshConfigFile } from '../../istio/mesh-config.js';
import { formatScope } from '../../istio/scopes.js';
import { checkObjectConfiguration } from '../../push/scoped-check.js';
import { readWasmFile } from '../../push/push.js';
import { parseContext, parseSelector } from '../../render/options.js';
import { printStructured } from '../output.js';
import { describeSkipped, keepKinds, readInputs } from '../inputs.js';
import { addDirectionOption, addSelectorOption } from '../options.js';
import { builtFiltersDir } from '../project-root.js';
import { parseIstioInputs, translatedKinds, translatorsFor, TRANSLATORS, type IstioResource } from '../../translate/index.js';
import { translateScoped, type ScopedTranslation } from '../../translate/scoped.js';

export interface TranslateFlags {
  readonly output: string;
  /** Istio MeshConfig YAML (deployer/src/istio/mesh-config.ts). */
  readonly meshConfig?: string;
  /** Only policies for workloads in this namespace (default: every namespace the policies are in). */
  readonly namespace?: string;
  /** The workload's labels: one scope, selected as istiod selects for that workload. */
  readonly selector?: string;
  /** inbound | outbound | gateway: with gateway, targetRefs to Gateway API gateways make scopes. */
  readonly direction?: string;
  /** Where the built filters are, to prove each config against its module (default: the CLI's built filters). */
  readonly filtersDir?: string;
  /** false (--no-validate): skip loading each module with its config. */
  readonly validate?: boolean;
}

const collect = (value: string, previous: readonly string[]): string[] => [...previous, value];

export function register(program: Command): void {
  const kinds = TRANSLATORS.map((t) => `${t.kind} (→ ${t.filter})`).join(', ');
  const command = program
    .command('translate')
    .description(`Translate Istio resources into wasmesh filter configs: ${kinds}`)
    .argument('[policy...]', 'YAML files or folders with Istio resources (same as -f)')
    .option('-f, --filename <path>', 'a YAML file, a folder of them, or - for standard input (repeatable); other kinds in it are skipped with a note', collect, [])
    .option('-o, --output <format>', 'json | yaml (env DEPLOYER_OUTPUT)', process.env.DEPLOYER_OUTPUT ?? 'json')
    .option('--mesh-config <file>', 'Istio MeshConfig: the istio ConfigMap, its mesh key, or a bare MeshConfig (path normalization, ext_authz providers, trusted proxies, root namespace) (env DEPLOYER_MESH_CONFIG)', process.env.DEPLOYER_MESH_CONFIG)
    .option('-n, --namespace <ns>', 'only policies for workloads in this namespace (env DEPLOYER_NAMESPACE; default: each namespace the policies are in)', process.env.DEPLOYER_NAMESPACE);
  addSelectorOption(command);
  addDirectionOption(command)
    .option('--filters-dir <dir>', 'built filters (<name>.wasm): each config is proven against its module (env DEPLOYER_FILTERS_DIR; default: the CLI\'s built filters)', process.env.DEPLOYER_FILTERS_DIR)
    .option('--no-validate', 'do not load the modules to prove the configs')
    .addHelpText('after', `
Kinds translated: ${kinds}. Other kinds in the input (PeerAuthentication, Gateway, …) are skipped with a note.
Policies are selected per scope as istiod does (root namespace, namespace, selector, targetRefs
with --direction gateway): one config per scope, each proven against its built module. Scopes
that overlap (a mesh-wide DENY next to an app's ALLOW) give one workload-scoped rbac/jwt-auth
config for the scope covering them: each proxy applies the policies istiod would apply to it.

Examples:
  $ deployer translate -f authz.yaml            # [{"filter": "rbac", "scope": {...}, "config": {...}}]
  $ deployer translate -f policies.yaml -n bookinfo -l app=productpage -o yaml
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
 * --mesh-config, what was skipped and, per filter, what applies where and what was left out.
 * Every invalid resource of every input is reported at once. Each config is proven against its
 * built module (proxy_on_configure, as Envoy would run it) unless validate is false.
 */
export async function translatePolicyFile(policy: string | readonly string[], flags: TranslateFlags, note: (line: string) => void = () => {}): Promise<ScopedTranslation[]> {
  if (flags.output !== 'json' && flags.output !== 'yaml') throw new Error(`-o "${flags.output}": expected json or yaml`);
  const mesh = flags.meshConfig === undefined ? undefined : loadMeshConfigFile(flags.meshConfig);
  if (mesh) note(`deployer translate: ${describeMeshConfig(mesh)}`);
  const registry = translatorsFor({ mesh: mesh?.settings.rbac });
  const kinds = translatedKinds(registry);
  const specs = typeof policy === 'string' ? [policy] : policy;
  const { kept, skipped } = keepKinds(specs.flatMap((spec) => readInputs(spec)), kinds);
  for (const line of describeSkipped(skipped, kinds)) note(`deployer translate: ${line}`);
  if (kept.length === 0) {
    throw new Error(`${specs.join(', ')}: nothing to translate: expected ${kinds.join(' or ')} resources${skipped.length ? ` (found only ${[...new Set(skipped.map((s) => s.kind))].join(', ')})` : ''}`);
  }
  const resources = parseIstioInputs(kept);
  const { translations, notes } = translateScoped(resources, {
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    selector: parseSelector(flags.selector),
    gateway: parseContext(flags.direction ?? 'inbound') === 'gateway',
    ...(mesh?.settings.rootNamespace ? { rootNamespace: mesh.settings.rootNamespace } : {}),
  }, registry, specs.join(', '));
  for (const line of notes) note(`deployer translate: ${line}`);
  if (flags.validate !== false) await proveConfigs(translations, flags.filtersDir);
  return translations;
}

async function proveConfigs(translations: readonly ScopedTranslation[], filtersDir: string | undefined): Promise<void> {
  const dir = filtersDir ?? builtFiltersDir();
  for (const t of translations) {
    const file = path.join(dir, `${t.filter}.wasm`);
    if (!existsSync(file)) throw new Error(`cannot prove the ${t.filter} config against its module: ${file} not found; expected the built filter (npm run build), --filters-dir, or --no-validate`);
    // A workload-scoped config (one object for overlapping scopes) is proven for each workload it covers.
    await checkObjectConfiguration({ wasm: await readWasmFile(file), filter: t.filter, configuration: JSON.stringify(t.config), where: `${t.filter} config for ${formatScope(t.scope)} (from ${t.sources.join(', ')})` }, t.scope);
  }
}

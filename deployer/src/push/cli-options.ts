import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseDryRun, type DryRun } from '../apply/apply.js';
import { parseContext, parseFailStrategy, parsePullPolicy, parseSelector, parseVia } from '../render/options.js';
import type { JsonObject, ListenerContext, WiringChoice } from '../render/types.js';
import { loadMeshConfigFile } from '../istio/mesh-config.js';
import { formatScope } from '../istio/scopes.js';
import { parseIstioResources, translatedKinds, translatorsFor } from '../translate/index.js';
import { filterTargets, type FilterTarget } from '../translate/scoped.js';
import { readResourcesText } from '../cli/inputs.js';
import { addDirectionOption, addKubeTargetOptions, addNamespaceOption, addSelectorOption, resolveNamespace, type NamespaceFlags } from '../cli/options.js';

/** Flags shared by `deployer push` and `deployer render`, with DEPLOYER_* env fallbacks. */
export interface WiringFlags extends NamespaceFlags {
  readonly image?: string;
  readonly format: string;
  readonly config?: string;
  readonly istio?: string;
  /** Istio MeshConfig for --istio translation (path normalization, ext_authz providers). */
  readonly meshConfig?: string;
  readonly selector?: string;
  /** inbound | outbound | gateway (the patch context); the kube context is `context`. */
  readonly direction: string;
  readonly via: string;
  readonly failStrategy: string;
  readonly pullPolicy?: string;
  readonly pullSecret?: string;
  readonly priority?: string;
  readonly filter?: string;
  readonly output: string;
}

export function addWiringOptions(command: Command): Command {
  const env = process.env;
  addNamespaceOption(command);
  addSelectorOption(command);
  addDirectionOption(command);
  addKubeTargetOptions(command);
  return command
    .option('--image <ref>', 'image to push, oci://host/repo[:tag] (env DEPLOYER_IMAGE)', env.DEPLOYER_IMAGE)
    .option('--format <format>', 'Wasm image format: compat | oci (env DEPLOYER_FORMAT)', env.DEPLOYER_FORMAT ?? 'compat')
    .option('--config <file|json>', 'filter config: a JSON file, or the JSON object inline (\'{"providers": …}\') (env DEPLOYER_CONFIG)', env.DEPLOYER_CONFIG)
    .option('--istio <file|dir|->', 'Istio policy YAML translated to the filter config: a file, a folder, or - for stdin (env DEPLOYER_ISTIO)', env.DEPLOYER_ISTIO)
    .option('--mesh-config <file>', 'Istio MeshConfig used by --istio: the istio ConfigMap, its mesh key, or a bare MeshConfig (env DEPLOYER_MESH_CONFIG)', env.DEPLOYER_MESH_CONFIG)
    .option('--via <kind>', 'envoyfilter | wasmplugin (env DEPLOYER_VIA)', env.DEPLOYER_VIA ?? 'envoyfilter')
    .option('--fail-strategy <s>', 'close | open | reload (reload: wasmplugin only) (env DEPLOYER_FAIL_STRATEGY)', env.DEPLOYER_FAIL_STRATEGY ?? 'close')
    .option('--pull-policy <p>', 'IfNotPresent | Always (env DEPLOYER_PULL_POLICY)', env.DEPLOYER_PULL_POLICY)
    .option('--pull-secret <name>', 'Secret with registry credentials for the proxies (wasmplugin only) (env DEPLOYER_PULL_SECRET)', env.DEPLOYER_PULL_SECRET)
    .option('--priority <n>', 'priority for filters outside the suite (env DEPLOYER_PRIORITY)', env.DEPLOYER_PRIORITY)
    .option('--filter <name>', 'filter name (default: the .wasm file name)')
    .option('-o, --output <format>', 'yaml | json', env.DEPLOYER_OUTPUT ?? 'yaml');
}

export function addKubeOptions(command: Command): Command {
  const env = process.env;
  return command
    .option('--dry-run [mode]', 'client (nothing leaves this machine) | server (API server dry run)', env.DEPLOYER_DRY_RUN)
    .option('--force', 'take over fields owned by another field manager', env.DEPLOYER_FORCE === '1');
}

export interface ParsedWiring extends WiringChoice {
  readonly format: 'compat' | 'oci';
  readonly output: 'yaml' | 'json';
}

export function parseWiring(flags: WiringFlags, note: (line: string) => void = (line) => process.stderr.write(`deployer: ${line}\n`)): ParsedWiring {
  if (flags.format !== 'compat' && flags.format !== 'oci') throw new Error(`--format "${flags.format}": expected compat or oci`);
  if (flags.output !== 'yaml' && flags.output !== 'json') throw new Error(`-o "${flags.output}": expected yaml or json`);
  let priority: number | undefined;
  if (flags.priority !== undefined) {
    priority = Number(flags.priority);
    if (!Number.isInteger(priority)) throw new Error(`--priority "${flags.priority}": expected an integer`);
  }
  return {
    format: flags.format,
    namespace: resolveNamespace(flags, note).namespace,
    selector: parseSelector(flags.selector),
    context: parseContext(flags.direction),
    via: parseVia(flags.via),
    failStrategy: parseFailStrategy(flags.failStrategy),
    ...(flags.pullPolicy ? { imagePullPolicy: parsePullPolicy(flags.pullPolicy) } : {}),
    ...(flags.pullSecret ? { imagePullSecret: flags.pullSecret } : {}),
    ...(priority !== undefined ? { priority } : {}),
    output: flags.output,
  };
}

/** `--config`: a JSON file, or the JSON object itself when the value starts with `{`. */
async function readJsonConfig(value: string): Promise<JsonObject> {
  const inline = value.trimStart().startsWith('{');
  const label = inline ? `--config '${value.length > 60 ? `${value.slice(0, 57)}...` : value}'` : `--config "${value}"`;
  const text = inline ? value : await readFile(value, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new Error(`${label}: ${e.code ?? e.message}: expected a readable JSON file or an inline JSON object`); });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${label}: not JSON (${(error as Error).message}): expected a JSON object`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${label}: expected a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  return parsed as JsonObject;
}

/** What to deploy: one filter config per scope, and where the configs came from (for messages). */
export interface WiringTargets {
  readonly targets: readonly FilterTarget[];
  /** `--config`, `--istio <file>`, or `no configuration`. */
  readonly source: string;
  /** For --istio: what was read, what applies where, what was left out and why. */
  readonly note?: string;
  /** meshConfig.rootNamespace from --mesh-config, when set. */
  readonly rootNamespace?: string;
}

export interface TargetRequest {
  /** Target namespace; undefined with --istio: the namespaces the policies are in. */
  readonly namespace: string | undefined;
  readonly selector: Readonly<Record<string, string>>;
  readonly context: ListenerContext;
}

/**
 * The filter configs to deploy: from --config (one object, in -n with -l as selector) or from
 * --istio, selected per scope exactly as istiod would (deployer/src/istio/scopes.ts); never both.
 */
export async function loadWiringTargets(flags: WiringFlags, filter: string, request: TargetRequest): Promise<WiringTargets> {
  if (flags.config && flags.istio) throw new Error('--config and --istio both given: expected one source for the filter config');
  const single = (config: JsonObject | undefined, source: string): WiringTargets => ({
    targets: [{ scope: { namespace: request.namespace ?? 'default', selector: request.selector }, config: config ?? {}, sources: [] }],
    source,
  });
  if (flags.config) return single(await readJsonConfig(flags.config), '--config');
  if (!flags.istio) return single(undefined, 'no configuration');
  // A file, a folder or - (stdin); kinds no translator takes are skipped with a note (cli/inputs.ts).
  const text = readResourcesText(flags.istio, translatedKinds(), '--istio', (line) => process.stderr.write(`deployer: ${line}\n`));
  // Same mesh settings as `deployer translate` and `deployer run --istio` (CUSTOM providers,
  // path normalization, root namespace), so a pushed rbac config decides as the local sidecar did.
  const mesh = flags.meshConfig ? loadMeshConfigFile(flags.meshConfig) : undefined;
  const { targets, note } = filterTargets(parseIstioResources(text, flags.istio), filter, {
    ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
    selector: request.selector,
    gateway: request.context === 'gateway',
    ...(mesh?.settings.rootNamespace ? { rootNamespace: mesh.settings.rootNamespace } : {}),
  }, flags.istio, translatorsFor({ mesh: mesh?.settings.rbac }));
  const rootNamespace = mesh?.settings.rootNamespace;
  return { targets, source: `--istio ${flags.istio}`, note, ...(rootNamespace ? { rootNamespace } : {}) };
}

/** The single filter config from --config or --istio (for -n/-l naming one scope); several scopes are an error. */
export async function loadPluginConfig(flags: WiringFlags, filter: string): Promise<JsonObject | undefined> {
  if (!flags.config && !flags.istio) return undefined;
  const { targets, source } = await loadWiringTargets(flags, filter, { namespace: flags.namespace, selector: parseSelector(flags.selector), context: parseContext(flags.direction) });
  if (targets.length !== 1) throw new Error(`${source}: ${targets.length} scopes (${targets.map((t) => formatScope(t.scope)).join(', ')}): expected one; render them with deployer render, or pick one with -l/--selector`);
  return targets[0]!.config;
}

/**
 * The target namespace of `push`/`render`: `-n` (or DEPLOYER_NAMESPACE) when given; with --istio
 * and no namespace given, undefined — each object goes to the namespace of its policies, as
 * `kubectl apply -f` of those policies would put them; otherwise the resolved namespace.
 */
export function requestedNamespace(flags: WiringFlags, wiring: Pick<ParsedWiring, 'namespace'>): string | undefined {
  return flags.istio !== undefined && !flags.namespace ? undefined : wiring.namespace;
}

export function parseDryRunFlag(value: string | boolean | undefined): DryRun {
  return parseDryRun(value);
}

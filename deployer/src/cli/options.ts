import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { parse } from 'yaml';

/**
 * Flags every command spells the same way, as kubectl and istioctl do:
 *   -n, --namespace   default: the kubeconfig context's namespace (kubectl's rule), else "default"
 *       --context     the kubeconfig context (was --kube-context, kept as a hidden alias)
 *       --kubeconfig  the kubeconfig file (else $KUBECONFIG, else ~/.kube/config)
 *   -l, --selector    workload labels, k=v[,k=v]
 *       --direction   inbound | outbound | gateway (what --context meant before 0.2)
 */
export const DIRECTIONS = ['inbound', 'outbound', 'gateway'] as const;

export interface KubeTargetFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Hidden alias of --context, from before 0.2. */
  readonly kubeContext?: string;
}

export interface NamespaceFlags extends KubeTargetFlags {
  readonly namespace?: string;
}

const env = process.env;

export function addNamespaceOption(command: Command, what = 'namespace of the workloads'): Command {
  return command.option('-n, --namespace <ns>', `${what} (env DEPLOYER_NAMESPACE; default: the kubeconfig context's namespace, else "default")`, env.DEPLOYER_NAMESPACE);
}

export function addKubeTargetOptions(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'kubeconfig file (env DEPLOYER_KUBECONFIG, else KUBECONFIG / ~/.kube/config)', env.DEPLOYER_KUBECONFIG)
    .option('--context <name>', 'kubeconfig context, as kubectl --context (env DEPLOYER_KUBE_CONTEXT; default: current-context)', env.DEPLOYER_KUBE_CONTEXT)
    .addOption(new Option('--kube-context <name>', 'old name of --context').hideHelp());
}

export function addSelectorOption(command: Command, envName = 'DEPLOYER_SELECTOR'): Command {
  return command.option('-l, --selector <labels>', `workload labels, e.g. app=reviews,version=v1 (env ${envName})`, env[envName]);
}

export function addDirectionOption(command: Command): Command {
  return command.addOption(new Option('--direction <dir>', 'traffic the filter sees: inbound (SIDECAR_INBOUND), outbound (SIDECAR_OUTBOUND), gateway (GATEWAY) (env DEPLOYER_DIRECTION)')
    .choices(DIRECTIONS).default(env.DEPLOYER_DIRECTION ?? 'inbound'));
}

/** The kube context asked for: --context, else the old --kube-context. */
export function kubeContext(flags: KubeTargetFlags): string | undefined {
  return flags.context ?? flags.kubeContext;
}

/**
 * --context used to be the traffic direction; `--context inbound` now names a kube context. When
 * the kubeconfig has no context by that name, say what changed instead of "context not found".
 */
export function checkDirectionNotPassedAsContext(flags: KubeTargetFlags): void {
  const context = kubeContext(flags);
  if (context === undefined || !(DIRECTIONS as readonly string[]).includes(context)) return;
  const kubeconfig = readKubeconfig(flags.kubeconfig);
  if (kubeconfig.config?.contexts?.some((c) => c.name === context)) return;
  throw new Error(`--context "${context}": --context is now the kubeconfig context (as in kubectl); for the traffic direction use --direction ${context}`);
}

interface KubeconfigFile {
  readonly 'current-context'?: string;
  readonly contexts?: readonly { readonly name?: string; readonly context?: { readonly namespace?: string } }[];
}

interface KubeconfigRead {
  /** The files looked at, in kubectl's order. */
  readonly files: readonly string[];
  /** The merged view of current-context and contexts (first file to set a value wins, as kubectl merges). */
  readonly config?: KubeconfigFile;
}

/** Which kubeconfig files apply, as kubectl picks them: --kubeconfig, else $KUBECONFIG (a path list), else ~/.kube/config. */
export function kubeconfigFiles(explicit?: string, environment: NodeJS.ProcessEnv = process.env): string[] {
  if (explicit) return [path.resolve(explicit)];
  if (environment.KUBECONFIG) return environment.KUBECONFIG.split(path.delimiter).filter(Boolean).map((f) => path.resolve(f));
  return [path.join(environment.HOME ?? homedir(), '.kube', 'config')];
}

function readKubeconfig(explicit?: string, environment: NodeJS.ProcessEnv = process.env): KubeconfigRead {
  const files = kubeconfigFiles(explicit, environment);
  const existing = files.filter((f) => existsSync(f));
  if (explicit && existing.length === 0) throw new Error(`kubeconfig "${explicit}" does not exist: expected a kubeconfig file (--kubeconfig or DEPLOYER_KUBECONFIG)`);
  if (existing.length === 0) return { files };
  let currentContext: string | undefined;
  const contexts: NonNullable<KubeconfigFile['contexts']>[number][] = [];
  for (const file of existing) {
    let parsed: KubeconfigFile | null;
    try {
      parsed = parse(readFileSync(file, 'utf8')) as KubeconfigFile | null;
    } catch (error) {
      throw new Error(`kubeconfig ${file}: not valid YAML (${(error as Error).message}): expected a kubeconfig file`);
    }
    currentContext ??= parsed?.['current-context'] || undefined;
    for (const c of parsed?.contexts ?? []) if (!contexts.some((seen) => seen.name === c.name)) contexts.push(c);
  }
  return { files: existing, config: { ...(currentContext ? { 'current-context': currentContext } : {}), contexts } };
}

export interface ResolvedNamespace {
  readonly namespace: string;
  /** Where it came from, for the note: "--namespace", "kubeconfig context shop-dev", … */
  readonly from: string;
}

/**
 * kubectl's rule: --namespace, else the namespace of the kubeconfig context in use (--context,
 * else current-context), else "default". DEPLOYER_NAMESPACE counts as the flag. `note` hears a
 * plain sentence when no kubeconfig was found, so "default" is never a silent guess.
 */
export function resolveNamespace(flags: NamespaceFlags, note: (line: string) => void = () => {}, environment: NodeJS.ProcessEnv = process.env): ResolvedNamespace {
  if (flags.namespace) return { namespace: flags.namespace, from: '--namespace' };
  const kubeconfig = readKubeconfig(flags.kubeconfig, environment);
  if (!kubeconfig.config) {
    note(`no kubeconfig found (${kubeconfig.files.join(', ')}): using namespace "default"; pass -n/--namespace to choose one`);
    return { namespace: 'default', from: 'default (no kubeconfig)' };
  }
  const contextName = kubeContext(flags) ?? kubeconfig.config['current-context'];
  if (!contextName) return { namespace: 'default', from: 'default (kubeconfig has no current-context)' };
  const context = kubeconfig.config.contexts?.find((c) => c.name === contextName);
  if (!context) {
    const names = kubeconfig.config.contexts?.map((c) => c.name).join(', ') || '(none)';
    throw new Error(`kube context "${contextName}" not found in ${kubeconfig.files.join(', ')}: expected one of ${names}`);
  }
  const namespace = context.context?.namespace;
  return namespace ? { namespace, from: `kubeconfig context ${contextName}` } : { namespace: 'default', from: `default (kubeconfig context ${contextName} sets no namespace)` };
}

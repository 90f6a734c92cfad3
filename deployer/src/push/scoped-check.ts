import type { NodeInfo } from '../host/api.js';
import { formatScope, type PolicyScope } from '../istio/scopes.js';
import { formatWorkload, GATEWAY_NAME_LABEL, type Labels, type Workload } from '../istio/selection.js';
import { checkConfiguration, type ConfigureCheck } from './configure-check.js';

/**
 * Proving a workload-scoped configuration (one object for overlapping scopes, deployer/src/istio/
 * scopes.ts): the filter reads the proxy's identity from node metadata and refuses without it, so
 * the check runs proxy_on_configure once per workload the object stands for — each scope its
 * policies name, or the workload `-n/-l` name — with Istio's node metadata for it.
 */
interface ScopedEntry {
  readonly namespace?: unknown;
  readonly selector?: unknown;
  readonly metadata?: { readonly namespace?: unknown };
  readonly spec?: { readonly selector?: { readonly matchLabels?: unknown } };
}

function labelsOf(value: unknown): Labels {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};
}

/** The workloads a workload-scoped rbac or jwt-auth config must be proven for; [] when it is not scoped. */
export function scopedConfigWorkloads(configuration: string, objectScope: PolicyScope): Workload[] {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(configuration) as Record<string, unknown>;
  } catch {
    return [];
  }
  const root = config?.['rootNamespace'] ?? config?.['root_namespace'];
  if (typeof root !== 'string') return [];
  const entries: ScopedEntry[] = Array.isArray(config['policies'])
    ? config['policies'] as ScopedEntry[]
    : Object.values((config['providers'] ?? {}) as Record<string, ScopedEntry>);
  const own: Labels = objectScope.targetRefs !== undefined ? { [GATEWAY_NAME_LABEL]: objectScope.targetRefs[0]!.name } : objectScope.selector;
  const found = new Map<string, Workload>();
  const add = (workload: Workload) => found.set(formatWorkload(workload), workload);
  add({ namespace: objectScope.namespace, labels: own });
  for (const entry of entries) {
    const namespace = entry.metadata?.namespace ?? entry.namespace;
    if (typeof namespace !== 'string') continue;
    const labels = { ...own, ...labelsOf(entry.spec?.selector?.matchLabels ?? entry.selector) };
    add({ namespace: namespace === root ? objectScope.namespace : namespace, labels });
  }
  return [...found.values()];
}

/** Istio's node metadata for a workload (pkg/model/proxy.go NodeMetadata: NAMESPACE, LABELS). */
export function nodeForWorkload(workload: Workload): NodeInfo {
  const name = workload.labels['app'] ?? 'workload';
  return {
    id: `sidecar~127.0.0.1~${name}.${workload.namespace}~${workload.namespace}.svc.cluster.local`,
    cluster: `${name}.${workload.namespace}`,
    metadata: { NAMESPACE: workload.namespace, LABELS: { ...workload.labels } },
  };
}

/**
 * checkConfiguration for an object at `objectScope`: for a workload-scoped config, once per
 * workload it covers (only the object's own scope when `exact`: -l named the workload); otherwise
 * once, as before.
 */
export async function checkObjectConfiguration(check: ConfigureCheck, objectScope: PolicyScope, exact = false): Promise<string[]> {
  const covered = scopedConfigWorkloads(check.configuration, objectScope);
  const workloads = exact ? covered.slice(0, 1) : covered;
  if (workloads.length === 0) {
    await checkConfiguration(check);
    return [`${check.where} configured by the module`];
  }
  const checked: string[] = [];
  for (const w of workloads) {
    await checkConfiguration({ ...check, node: nodeForWorkload(w), where: `${check.where} on a workload ${formatWorkload(w)}` });
    checked.push(`${check.where} configured by the module for ${formatWorkload(w)}`);
  }
  return workloads.length > 1 ? [`${check.where} (${formatScope(objectScope)}) configured by the module for ${workloads.length} workloads: ${workloads.map(formatWorkload).join(', ')}`] : checked;
}

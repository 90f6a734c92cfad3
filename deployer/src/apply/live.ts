import { formatLabels } from '../istio/selection.js';
import { scopeOfManifest } from '../istio/scopes.js';
import { MANAGED_RESOURCE_TYPES } from '../kube/resources.js';
import { ANNOTATIONS, FILTER_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../render/metadata.js';
import type { DeploymentRecord, JsonObject, KubernetesManifest } from '../render/types.js';
import type { ClusterClient, LiveObject } from './client.js';
import { readHistory } from './history.js';

/** What wasmesh finds deployed for one filter (from the labels/annotations it wrote). */
export interface DeployedFilter {
  readonly filter: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly digest: string;
  readonly image: string;
  readonly context: string;
  readonly order: number;
  readonly appliedAt: string;
  readonly history: readonly DeploymentRecord[];
  readonly object: LiveObject;
}

export function managedSelector(filter?: string): string {
  return `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}${filter ? `,${FILTER_LABEL}=${filter}` : ''}`;
}

export function describeDeployed(object: LiveObject): DeployedFilter {
  const annotations = object.metadata?.annotations ?? {};
  const labels = object.metadata?.labels ?? {};
  return {
    filter: labels[FILTER_LABEL] ?? '(unknown)',
    kind: object.kind ?? '(unknown)',
    name: object.metadata?.name ?? '',
    namespace: object.metadata?.namespace ?? '',
    digest: annotations[ANNOTATIONS.digest] ?? '',
    image: annotations[ANNOTATIONS.image] ?? '',
    context: annotations[ANNOTATIONS.context] ?? '',
    order: Number(annotations[ANNOTATIONS.order] ?? Number.NaN),
    appliedAt: annotations[ANNOTATIONS.appliedAt] ?? '',
    history: readHistory(annotations),
    object,
  };
}

/** Every wasmesh-managed EnvoyFilter/WasmPlugin (optionally of one filter), in namespace or all namespaces. */
export async function listDeployed(client: ClusterClient, namespace: string | undefined, filter?: string): Promise<DeployedFilter[]> {
  const found: DeployedFilter[] = [];
  for (const type of MANAGED_RESOURCE_TYPES) {
    for (const object of await client.list(type.apiVersion, type.kind, namespace, managedSelector(filter))) {
      found.push(describeDeployed({ ...object, apiVersion: object.apiVersion ?? type.apiVersion, kind: object.kind ?? type.kind }));
    }
  }
  return found.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.order - b.order || a.filter.localeCompare(b.filter));
}

/** The object as wasmesh would apply it: drops server-set fields (managedFields, resourceVersion, status…). */
export function toManifest(object: LiveObject): KubernetesManifest {
  const metadata = object.metadata ?? {};
  return {
    apiVersion: object.apiVersion ?? '',
    kind: object.kind ?? '',
    metadata: { name: metadata.name ?? '', namespace: metadata.namespace ?? '', labels: { ...(metadata.labels ?? {}) }, annotations: { ...(metadata.annotations ?? {}) } },
    spec: (object.spec ?? {}) as JsonObject,
  };
}

/**
 * Only the objects whose selector is exactly `selector` (`-l` on rollback/undeploy); undefined
 * keeps every scope of the filter.
 */
export function withScope(deployed: readonly DeployedFilter[], selector: Readonly<Record<string, string>> | undefined): DeployedFilter[] {
  if (selector === undefined || Object.keys(selector).length === 0) return [...deployed];
  const wanted = formatLabels(selector);
  return deployed.filter((d) => scopeOfManifest(toManifest(d.object)).targetRefs === undefined && formatLabels(scopeOfManifest(toManifest(d.object)).selector) === wanted);
}

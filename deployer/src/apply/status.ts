import { formatLabels } from '../istio/selection.js';
import { scopeOfManifest } from '../istio/scopes.js';
import { ClusterClient } from './client.js';
import { listDeployed, toManifest } from './live.js';
import type { KubeTarget } from '../kube/kubeconfig.js';

export interface FilterStatus {
  readonly filter: string;
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  /** Workloads the object selects: `app=productpage`, `*` (the whole namespace) or `Gateway:<name>`. */
  readonly scope: string;
  readonly digest: string;
  readonly image: string;
  readonly context: string;
  readonly order: number;
  readonly lastApplied: string;
  readonly previousDigest?: string;
}

/** `deployer status`: which filters wasmesh applied where, in chain order per namespace. */
export async function filterStatus(target: KubeTarget & { readonly namespace?: string }, client = new ClusterClient(target)): Promise<FilterStatus[]> {
  const deployed = await listDeployed(client, target.namespace);
  return deployed.map((d) => ({
    filter: d.filter,
    namespace: d.namespace,
    kind: d.kind,
    name: d.name,
    scope: describeScope(d.object),
    digest: d.digest,
    image: d.image,
    context: d.context,
    order: d.order,
    lastApplied: d.appliedAt,
    ...(d.history.find((h) => h.manifestDigest !== d.digest) ? { previousDigest: d.history.find((h) => h.manifestDigest !== d.digest)!.manifestDigest } : {}),
  }));
}

function describeScope(object: Parameters<typeof toManifest>[0]): string {
  const scope = scopeOfManifest(toManifest(object));
  return scope.targetRefs !== undefined ? scope.targetRefs.map((r) => `${r.kind}:${r.name}`).join(',') : formatLabels(scope.selector);
}

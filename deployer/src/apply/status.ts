import { ClusterClient } from './client.js';
import { listDeployed } from './live.js';
import type { KubeTarget } from '../kube/kubeconfig.js';

export interface FilterStatus {
  readonly filter: string;
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
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
    digest: d.digest,
    image: d.image,
    context: d.context,
    order: d.order,
    lastApplied: d.appliedAt,
    ...(d.history.find((h) => h.manifestDigest !== d.digest) ? { previousDigest: d.history.find((h) => h.manifestDigest !== d.digest)!.manifestDigest } : {}),
  }));
}

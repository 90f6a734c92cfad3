import { formatLabels } from '../istio/selection.js';
import { scopeOfManifest } from '../istio/scopes.js';
import { ClusterClient } from './client.js';
import { listDeployments, partOf } from './deployments.js';
import { toManifest, type DeployedFilter } from './live.js';
import type { KubeTarget } from '../kube/kubeconfig.js';

/** An object that accompanies a filter's own object (header-router's `-routes` EnvoyFilter). */
export interface FilterStatusPart {
  readonly part: string;
  readonly kind: string;
  readonly name: string;
  readonly lastApplied: string;
}

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
  /** The deployment's other objects; empty for every filter but header-router with routes. */
  readonly parts: readonly FilterStatusPart[];
  /** Set when this row is a part whose filter object is gone: `undeploy` removes it. */
  readonly orphanPart?: string;
}

/** `deployer status`: which filters wasmesh applied where, one row per deployment, in chain order per namespace. */
export async function filterStatus(target: KubeTarget & { readonly namespace?: string }, client = new ClusterClient(target)): Promise<FilterStatus[]> {
  const deployments = await listDeployments(client, target.namespace);
  return deployments.map(({ main: d, parts }) => {
    const previous = d.history.find((h) => h.manifestDigest !== d.digest);
    const orphan = partOf(d);
    return {
      filter: d.filter,
      namespace: d.namespace,
      kind: d.kind,
      name: d.name,
      scope: describeScope(d),
      digest: d.digest,
      image: d.image,
      context: d.context,
      order: d.order,
      lastApplied: d.appliedAt,
      ...(previous ? { previousDigest: previous.manifestDigest } : {}),
      parts: parts.map((p) => ({ part: p.part, kind: p.kind, name: p.name, lastApplied: p.appliedAt })),
      ...(orphan !== undefined ? { orphanPart: orphan } : {}),
    };
  });
}

/** The PARTS column: `routes`, or `routes (filter object missing)` for an orphaned part. */
export function describeParts(status: FilterStatus): string {
  if (status.orphanPart !== undefined) return `${status.orphanPart} (filter object missing)`;
  return status.parts.map((p) => p.part).join(',') || '-';
}

function describeScope(deployed: DeployedFilter): string {
  const scope = scopeOfManifest(toManifest(deployed.object));
  return scope.targetRefs !== undefined ? scope.targetRefs.map((r) => `${r.kind}:${r.name}`).join(',') : formatLabels(scope.selector);
}

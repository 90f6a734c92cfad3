import os from 'node:os';
import type { XdsNode } from './xds-subscriber.js';

/**
 * The node identity of `deployer run --xds` (from -n/--namespace, -l/--selector, --workload-name,
 * --cluster-id). The subscription itself and its adapter to `sidecar.reload` are in xds-run.ts.
 */
export interface XdsIdentity {
  readonly namespace: string;
  readonly workloadLabels: Readonly<Record<string, string>>;
  /** Pod-like name (default: the host name). */
  readonly workloadName?: string;
  /** Istio's CLUSTER_ID node metadata (multi-cluster meshes); omitted when not given. */
  readonly clusterId?: string;
  /** The IP in the node id (default 127.0.0.1). */
  readonly ip?: string;
}

/**
 * The xDS Node of a local sidecar, in the form istiod and our control plane read
 * (`sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`, metadata NAMESPACE, LABELS, WORKLOAD_NAME,
 * CLUSTER_ID).
 */
export function xdsNodeFor(identity: XdsIdentity): XdsNode {
  const workload = identity.workloadName ?? os.hostname().split('.')[0]!;
  return {
    id: `sidecar~${identity.ip ?? '127.0.0.1'}~${workload}.${identity.namespace}~${identity.namespace}.svc.cluster.local`,
    metadata: {
      NAMESPACE: identity.namespace, LABELS: { ...identity.workloadLabels }, WORKLOAD_NAME: workload,
      ...(identity.clusterId !== undefined ? { CLUSTER_ID: identity.clusterId } : {}),
    },
  };
}

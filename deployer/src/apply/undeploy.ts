import { formatLabels } from '../istio/selection.js';
import type { KubeTarget } from '../kube/kubeconfig.js';
import type { DryRun } from './apply.js';
import { ClusterClient } from './client.js';
import { listDeployments, objectsOf, partOf } from './deployments.js';

export interface UndeployOptions extends KubeTarget {
  readonly filter: string;
  readonly namespace: string;
  readonly dryRun: DryRun;
  /** `-l`: only the object of this scope (its exact selector); default every scope of the filter. */
  readonly selector?: Readonly<Record<string, string>>;
}

export interface RemovedObject {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly digest: string;
  /** Set on an object that accompanied the filter's own object (`routes`). */
  readonly part?: string;
}

/**
 * `deployer undeploy <filter>`: deletes the wasmesh-managed EnvoyFilter/WasmPlugin of that filter
 * and the objects deployed with it (header-router's routes), parts first so no route outlives
 * the filter that tags requests for it.
 */
export async function undeployFilter(options: UndeployOptions, client = new ClusterClient(options)): Promise<RemovedObject[]> {
  const deployments = await listDeployments(client, options.namespace, options.filter, options.selector);
  if (deployments.length === 0) {
    throw new Error(`filter "${options.filter}" is not deployed by wasmesh in namespace "${options.namespace}"${options.selector ? ` with selector ${formatLabels(options.selector)}` : ''}: expected a filter listed by deployer status`);
  }
  const removed: RemovedObject[] = [];
  for (const deployment of deployments) {
    for (const d of objectsOf(deployment).reverse()) {
      if (options.dryRun !== 'client') {
        await client.delete({ apiVersion: d.object.apiVersion ?? '', kind: d.kind, name: d.name, namespace: d.namespace }, options.dryRun === 'server');
      }
      const part = partOf(d);
      removed.push({ kind: d.kind, name: d.name, namespace: d.namespace, digest: d.digest, ...(part !== undefined ? { part } : {}) });
    }
  }
  return removed;
}

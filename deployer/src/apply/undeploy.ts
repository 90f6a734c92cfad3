import { formatLabels } from '../istio/selection.js';
import type { KubeTarget } from '../kube/kubeconfig.js';
import type { DryRun } from './apply.js';
import { ClusterClient } from './client.js';
import { listDeployed, withScope } from './live.js';

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
}

/** `deployer undeploy <filter>`: deletes the wasmesh-managed EnvoyFilter/WasmPlugin of that filter. */
export async function undeployFilter(options: UndeployOptions, client = new ClusterClient(options)): Promise<RemovedObject[]> {
  const deployed = withScope(await listDeployed(client, options.namespace, options.filter), options.selector);
  if (deployed.length === 0) {
    throw new Error(`filter "${options.filter}" is not deployed by wasmesh in namespace "${options.namespace}"${options.selector ? ` with selector ${formatLabels(options.selector)}` : ''}: expected a filter listed by deployer status`);
  }
  const removed: RemovedObject[] = [];
  for (const d of deployed) {
    if (options.dryRun !== 'client') {
      await client.delete({ apiVersion: d.object.apiVersion ?? '', kind: d.kind, name: d.name, namespace: d.namespace }, options.dryRun === 'server');
    }
    removed.push({ kind: d.kind, name: d.name, namespace: d.namespace, digest: d.digest });
  }
  return removed;
}

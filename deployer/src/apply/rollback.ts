import type { KubeTarget } from '../kube/kubeconfig.js';
import { retargetManifest } from '../render/retarget.js';
import type { DeploymentRecord, KubernetesManifest } from '../render/types.js';
import { validateManifest } from '../render/validate.js';
import { applyManifests, type AppliedObject, type DryRun } from './apply.js';
import { ClusterClient } from './client.js';
import { listDeployed, toManifest } from './live.js';

export interface RollbackOptions extends KubeTarget {
  readonly filter: string;
  readonly namespace: string;
  readonly dryRun: DryRun;
  readonly force: boolean;
  /** Roll back to this manifest digest instead of the one before the current. */
  readonly toDigest?: string;
  readonly now?: () => Date;
}

export interface RollbackResult {
  readonly filter: string;
  readonly from: string;
  readonly to: DeploymentRecord;
  readonly manifests: readonly KubernetesManifest[];
  readonly applied: readonly AppliedObject[];
}

/** `deployer rollback <filter>`: re-points the filter's live objects at the previous digest in their history. */
export async function rollbackFilter(options: RollbackOptions, client = new ClusterClient(options)): Promise<RollbackResult> {
  const deployed = await listDeployed(client, options.namespace, options.filter);
  if (deployed.length === 0) {
    throw new Error(`filter "${options.filter}" is not deployed by wasmesh in namespace "${options.namespace}": nothing to roll back (see deployer status)`);
  }
  const current = deployed[0]!;
  const target = options.toDigest
    ? current.history.find((h) => h.manifestDigest === options.toDigest)
    : current.history.find((h) => h.manifestDigest !== current.digest);
  if (!target) {
    throw new Error(options.toDigest
      ? `digest ${options.toDigest} is not in the history of "${options.filter}": expected one of ${current.history.map((h) => h.manifestDigest).join(', ')}`
      : `filter "${options.filter}" has no previous digest recorded (history: ${current.history.map((h) => h.manifestDigest).join(', ') || 'empty'}): nothing to roll back to`);
  }
  const appliedAt = (options.now ?? (() => new Date()))().toISOString();
  const manifests = deployed.map((d) => retargetManifest(toManifest(d.object), target, appliedAt));
  manifests.forEach(validateManifest);
  const applied = await applyManifests(client, manifests, { dryRun: options.dryRun, force: options.force });
  return { filter: options.filter, from: current.digest, to: target, manifests, applied };
}

import { formatLabels } from '../istio/selection.js';
import type { KubeTarget } from '../kube/kubeconfig.js';
import { retargetManifest } from '../render/retarget.js';
import type { DeploymentRecord, KubernetesManifest } from '../render/types.js';
import { validateManifest } from '../render/validate.js';
import { applyManifests, type AppliedObject, type DryRun } from './apply.js';
import { ClusterClient } from './client.js';
import { sameDeployment } from './history.js';
import { listDeployed, toManifest, withScope, type DeployedFilter } from './live.js';

export interface RollbackOptions extends KubeTarget {
  readonly filter: string;
  readonly namespace: string;
  readonly dryRun: DryRun;
  /** `-l`: only the object of this scope (its exact selector); default every scope of the filter. */
  readonly selector?: Readonly<Record<string, string>>;
  readonly force: boolean;
  /** Roll back to the newest deployment with this manifest digest instead of the one before the current. */
  readonly toDigest?: string;
  readonly now?: () => Date;
}

export interface RolledBackObject {
  readonly kind: string;
  readonly name: string;
  readonly from: DeploymentRecord;
  readonly to: DeploymentRecord;
}

export interface RollbackResult {
  readonly filter: string;
  /** Digest before the rollback (of the first object). */
  readonly from: string;
  /** The deployment restored (of the first object). */
  readonly to: DeploymentRecord;
  /** Per object: a filter deployed to several scopes has one object, and one history, per scope. */
  readonly objects: readonly RolledBackObject[];
  readonly manifests: readonly KubernetesManifest[];
  readonly applied: readonly AppliedObject[];
}

const short = (r: DeploymentRecord) => `${r.manifestDigest.slice(0, 19)}…${r.config === undefined ? '' : ` config ${r.config.length} bytes`} (${r.appliedAt})`;

/** The deployment to go back to: the newest earlier one differing in image or configuration, or the newest with `toDigest`. */
function rollbackTarget(deployed: DeployedFilter, toDigest: string | undefined): DeploymentRecord {
  const [current, ...earlier] = deployed.history;
  const where = `${deployed.kind} ${deployed.namespace}/${deployed.name}`;
  if (current === undefined) throw new Error(`${where} has no wasmesh.io/history annotation: nothing to roll back to (was it applied by wasmesh?)`);
  const target = toDigest !== undefined
    ? earlier.find((h) => h.manifestDigest === toDigest)
    : earlier.find((h) => !sameDeployment(h, current));
  if (target !== undefined) return target;
  const recorded = deployed.history.map(short).join(', ');
  throw new Error(toDigest !== undefined
    ? `digest ${toDigest} is not among the earlier deployments of ${where}: expected one of ${earlier.map((h) => h.manifestDigest).join(', ') || '(none recorded)'}`
    : `${where} has no earlier deployment recorded (history: ${recorded}): nothing to roll back to`);
}

/**
 * `deployer rollback <filter>`: puts each of the filter's live objects back to its previous
 * deployment — image digest AND configuration, as recorded by apply in its history.
 */
export async function rollbackFilter(options: RollbackOptions, client = new ClusterClient(options)): Promise<RollbackResult> {
  const deployed = withScope(await listDeployed(client, options.namespace, options.filter), options.selector);
  if (deployed.length === 0) {
    throw new Error(`filter "${options.filter}" is not deployed by wasmesh in namespace "${options.namespace}"${options.selector ? ` with selector ${formatLabels(options.selector)}` : ''}: nothing to roll back (see deployer status)`);
  }
  const objects = deployed.map((d): RolledBackObject => ({ kind: d.kind, name: d.name, from: d.history[0]!, to: rollbackTarget(d, options.toDigest) }));
  const manifests = deployed.map((d, i) => retargetManifest(toManifest(d.object), objects[i]!.to));
  manifests.forEach(validateManifest);
  const applied = await applyManifests(client, manifests, { dryRun: options.dryRun, force: options.force, ...(options.now ? { now: options.now } : {}) });
  return { filter: options.filter, from: objects[0]!.from.manifestDigest, to: objects[0]!.to, objects, manifests: applied.map((a) => a.manifest), applied };
}

import { formatLabels } from '../istio/selection.js';
import type { KubeTarget } from '../kube/kubeconfig.js';
import { retargetManifest } from '../render/retarget.js';
import type { DeploymentRecord, KubernetesManifest } from '../render/types.js';
import { validateManifest } from '../render/validate.js';
import { applyManifests, type AppliedObject, type DryRun } from './apply.js';
import { ClusterClient } from './client.js';
import { listDeployments, type Deployment } from './deployments.js';
import { toManifest } from './live.js';
import { rollbackPoint } from './rollback-plan.js';

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
  /** Set on an object deployed with the filter's own (`routes`): it moves with it. */
  readonly part?: string;
  readonly from: DeploymentRecord;
  readonly to: DeploymentRecord;
  /**
   * The part did not exist at the deployment restored: it is kept with no patches (inert, and
   * with its history, so rolling back again brings its routes back) rather than deleted.
   */
  readonly emptied?: boolean;
}

export interface RollbackResult {
  readonly filter: string;
  /** Digest before the rollback (of the first object). */
  readonly from: string;
  /** The deployment restored (of the first object). */
  readonly to: DeploymentRecord;
  /** Per object: a filter deployed to several scopes has one object, and one history, per scope; its parts follow it. */
  readonly objects: readonly RolledBackObject[];
  readonly manifests: readonly KubernetesManifest[];
  readonly applied: readonly AppliedObject[];
}

interface Planned {
  readonly objects: RolledBackObject[];
  readonly manifests: KubernetesManifest[];
}

/** What a part that did not exist yet is put back to: the filter's image, no routes. */
const NO_ROUTES = '[]';

/** The filter's object and its parts, each put back to its state at the point restored. */
function plan(deployment: Deployment, toDigest: string | undefined): Planned {
  const { current, target } = rollbackPoint(deployment, toDigest);
  const { main, parts } = deployment;
  const objects: RolledBackObject[] = [{ kind: main.kind, name: main.name, from: current.main, to: target.main }];
  const manifests = [retargetManifest(toManifest(main.object), target.main)];
  parts.forEach((p, i) => {
    const state = target.parts[i]!;
    const to = state ?? { ...target.main, config: NO_ROUTES };
    objects.push({ kind: p.kind, name: p.name, part: p.part, from: p.history[0]!, to, ...(state === null ? { emptied: true } : {}) });
    manifests.push(retargetManifest(toManifest(p.object), to));
  });
  return { objects, manifests };
}

/**
 * `deployer rollback <filter>`: puts each deployment of the filter back to its previous state —
 * image digest AND configuration, and header-router's routes as they were live with them — as
 * recorded by apply in the objects' histories.
 */
export async function rollbackFilter(options: RollbackOptions, client = new ClusterClient(options)): Promise<RollbackResult> {
  const deployments = await listDeployments(client, options.namespace, options.filter, options.selector);
  if (deployments.length === 0) {
    throw new Error(`filter "${options.filter}" is not deployed by wasmesh in namespace "${options.namespace}"${options.selector ? ` with selector ${formatLabels(options.selector)}` : ''}: nothing to roll back (see deployer status)`);
  }
  const plans = deployments.map((d) => plan(d, options.toDigest));
  const manifests = plans.flatMap((p) => p.manifests);
  manifests.forEach(validateManifest);
  const applied = await applyManifests(client, manifests, { dryRun: options.dryRun, force: options.force, ...(options.now ? { now: options.now } : {}) });
  const objects = plans.flatMap((p) => p.objects);
  return {
    filter: options.filter,
    from: objects[0]!.from.manifestDigest,
    to: objects[0]!.to,
    objects,
    manifests: applied.map((a) => a.manifest),
    applied,
  };
}

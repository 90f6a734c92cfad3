import type { KubernetesManifest } from '../render/types.js';
import { ClusterClient, type LiveObject } from './client.js';
import { stampDeployment } from './history.js';
import { toManifest } from './live.js';

export type DryRun = 'none' | 'client' | 'server';

export interface ApplyOptions {
  readonly dryRun: DryRun;
  /** Take over fields owned by another field manager instead of failing with a conflict. */
  readonly force: boolean;
  /** Clock for the applied-at annotation and history (tests fix it). */
  readonly now?: () => Date;
}

export interface AppliedObject {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly action: 'created' | 'configured' | 'unchanged' | 'would apply';
  readonly resourceVersion?: string;
  /** What was sent: the rendered manifest plus the apply-time annotations (history, applied-at). */
  readonly manifest: KubernetesManifest;
}

export function parseDryRun(value: string | boolean | undefined): DryRun {
  if (value === undefined || value === false) return 'none';
  if (value === true || value === '' ) return 'client';
  if (value === 'none' || value === 'client' || value === 'server') return value;
  throw new Error(`--dry-run "${value}": expected client or server`);
}

/**
 * Applies manifests all-or-nothing as far as the API allows: first a server-side dry run of every
 * object (conflicts, schema and admission errors surface before anything is written), then the
 * real apply; if a later object still fails, the earlier ones are put back as they were.
 * Each object is stamped with the apply-time facts (deployer/src/apply/history.ts) from its live
 * version; a client dry run knows no live object and sends the manifests as rendered.
 */
export async function applyManifests(client: ClusterClient | undefined, rendered: readonly KubernetesManifest[], options: ApplyOptions): Promise<AppliedObject[]> {
  const wouldApply = (m: KubernetesManifest): AppliedObject => ({ kind: m.kind, name: m.metadata.name, namespace: m.metadata.namespace, action: 'would apply', manifest: m });
  if (options.dryRun === 'client') return rendered.map(wouldApply);
  if (!client) throw new Error('applying needs a Kubernetes client: expected a kubeconfig (or --dry-run=client)');
  const appliedAt = (options.now ?? (() => new Date()))().toISOString();
  const before = new Map<KubernetesManifest, LiveObject | undefined>();
  const manifests: KubernetesManifest[] = [];
  for (const manifest of rendered) {
    const live = await client.get({ apiVersion: manifest.apiVersion, kind: manifest.kind, name: manifest.metadata.name, namespace: manifest.metadata.namespace });
    const stamped = stampDeployment(manifest, live, appliedAt);
    before.set(stamped, live);
    manifests.push(stamped);
    await client.apply(stamped, { force: options.force, dryRunServer: true });
  }
  if (options.dryRun === 'server') return manifests.map(wouldApply);
  const applied: AppliedObject[] = [];
  const done: KubernetesManifest[] = [];
  for (const manifest of manifests) {
    try {
      const live = await client.apply(manifest, { force: options.force, dryRunServer: false });
      const previous = before.get(manifest);
      const action = !previous ? 'created' : previous.metadata?.resourceVersion === live.metadata?.resourceVersion ? 'unchanged' : 'configured';
      applied.push({ kind: manifest.kind, name: manifest.metadata.name, namespace: manifest.metadata.namespace, action, resourceVersion: live.metadata?.resourceVersion, manifest });
      done.push(manifest);
    } catch (error) {
      await restore(client, done, before);
      throw error;
    }
  }
  return applied;
}

async function restore(client: ClusterClient, done: readonly KubernetesManifest[], before: ReadonlyMap<KubernetesManifest, LiveObject | undefined>): Promise<void> {
  for (const manifest of [...done].reverse()) {
    const previous = before.get(manifest);
    const ref = { apiVersion: manifest.apiVersion, kind: manifest.kind, name: manifest.metadata.name, namespace: manifest.metadata.namespace };
    if (previous) await client.apply(toManifest(previous), { force: true, dryRunServer: false });
    else await client.delete(ref, false);
  }
}

import { ApiException, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { loadKubeConfig, type KubeTarget } from '../kube/kubeconfig.js';
import { toKubeError } from './errors.js';

/**
 * The deployer's only door to Kubernetes: server-side apply, get, list by label, delete.
 * Server-side apply: https://kubernetes.io/docs/reference/using-api/server-side-apply/
 */
export const FIELD_MANAGER = 'wasmesh';

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

export interface LiveObject extends KubernetesObject {
  readonly spec?: Record<string, unknown>;
}

export class ClusterClient {
  readonly server: string;
  private readonly api: KubernetesObjectApi;

  constructor(target: KubeTarget = {}) {
    const kc = loadKubeConfig(target);
    this.server = kc.getCurrentCluster()?.server ?? '(unknown server)';
    this.api = KubernetesObjectApi.makeApiClient(kc);
  }

  /** Server-side apply; `dryRunServer` asks the API server to run every stage without persisting. */
  async apply(manifest: KubernetesObject, options: { readonly force: boolean; readonly dryRunServer: boolean }): Promise<LiveObject> {
    try {
      return await this.api.patch(manifest, undefined, options.dryRunServer ? 'All' : undefined, FIELD_MANAGER, options.force, PatchStrategy.ServerSideApply) as LiveObject;
    } catch (error) {
      throw toKubeError(options.dryRunServer ? 'Apply (server dry run)' : 'Apply', describe(manifest), error, this.server);
    }
  }

  async get(ref: ObjectRef): Promise<LiveObject | undefined> {
    try {
      return await this.api.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } }) as LiveObject;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw toKubeError('Get', `${ref.kind} ${ref.namespace}/${ref.name}`, error, this.server);
    }
  }

  async list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector: string): Promise<LiveObject[]> {
    try {
      const list = await this.api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      return list.items as LiveObject[];
    } catch (error) {
      throw toKubeError('List', `${kind} in ${namespace ?? 'all namespaces'}`, error, this.server);
    }
  }

  async delete(ref: ObjectRef, dryRunServer: boolean): Promise<void> {
    try {
      await this.api.delete({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } }, undefined, dryRunServer ? 'All' : undefined);
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return;
      throw toKubeError('Delete', `${ref.kind} ${ref.namespace}/${ref.name}`, error, this.server);
    }
  }
}

function describe(manifest: KubernetesObject): string {
  return `${manifest.kind} ${manifest.metadata?.namespace ?? ''}/${manifest.metadata?.name ?? ''}`;
}

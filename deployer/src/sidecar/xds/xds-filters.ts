import os from 'node:os';
import path from 'node:path';
import type { SidecarConfig } from '../config/types.js';
import { ModuleFetcher } from './module-fetcher.js';
import { XdsSubscriber, type XdsNode } from './xds-subscriber.js';

/** What `deployer run --xds` needs from the running sidecar: its config and live reload (sidecar.ts). */
export interface ReloadableSidecar {
  readonly config: SidecarConfig;
  reload(config: SidecarConfig): Promise<unknown>;
}

export interface XdsIdentity {
  readonly namespace: string;
  readonly workloadLabels: Readonly<Record<string, string>>;
  /** Pod-like name (default: the host name). */
  readonly workloadName?: string;
  /** The IP in the node id (default 127.0.0.1). */
  readonly ip?: string;
}

/**
 * The xDS Node of a local sidecar, in the form istiod and our control plane read
 * (`sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`, metadata NAMESPACE, LABELS, WORKLOAD_NAME).
 */
export function xdsNodeFor(identity: XdsIdentity): XdsNode {
  const workload = identity.workloadName ?? os.hostname().split('.')[0]!;
  return {
    id: `sidecar~${identity.ip ?? '127.0.0.1'}~${workload}.${identity.namespace}~${identity.namespace}.svc.cluster.local`,
    metadata: { NAMESPACE: identity.namespace, LABELS: { ...identity.workloadLabels }, WORKLOAD_NAME: workload },
  };
}

export interface XdsFiltersOptions {
  readonly address: string;
  readonly identity: XdsIdentity;
  /** Verified modules are cached here (default: a folder under the OS temp dir). */
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

/**
 * `deployer run --config F --xds ADDR`: the file gives listeners, routes and clusters; ECDS gives
 * the filters that apply to this workload. Each accepted chain is swapped in through the
 * sidecar's reload (between requests: in-flight ones finish on the old VMs); a chain the sidecar
 * refuses is NACKed and the running one stays.
 */
export function subscribeFilters(sidecar: ReloadableSidecar, options: XdsFiltersOptions): XdsSubscriber {
  const subscriber = new XdsSubscriber({
    address: options.address,
    node: xdsNodeFor(options.identity),
    fetcher: new ModuleFetcher({ cacheDir: options.cacheDir ?? path.join(os.tmpdir(), 'wasmesh-xds-modules') }),
    log: options.log,
    apply: async (filters) => { await sidecar.reload({ ...sidecar.config, filters: [...filters] }); },
  });
  subscriber.start();
  return subscriber;
}

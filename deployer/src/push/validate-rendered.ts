import { FILTER_LABEL, isRoutePatches } from '../render/metadata.js';
import { shippedConfiguration } from '../render/retarget.js';
import type { KubernetesManifest } from '../render/types.js';
import { validateManifests } from '../render/validate.js';
import { scopeOfManifest } from '../istio/scopes.js';
import { checkObjectConfiguration } from './scoped-check.js';

/**
 * Everything that ships is proven first: the CRD schema and Envoy protos (validateManifests),
 * then the module itself accepting the exact configuration of each object in our host
 * (configure-check.ts) — a config the filter refuses would deny every request in Envoy. A
 * workload-scoped config is proven once per workload it stands for, with that workload's node
 * metadata (only the object's own workload when `exact`: -l named it; scoped-check.ts).
 */
export async function validateRendered(wasm: Uint8Array, manifests: readonly KubernetesManifest[], exact = false): Promise<string[]> {
  validateManifests(manifests);
  const checked: string[] = [];
  for (const manifest of manifests) {
    const where = `${manifest.kind} ${manifest.metadata.namespace}/${manifest.metadata.name}`;
    // Route patches carry no module config (their routes were validated against Envoy's Route proto above).
    if (isRoutePatches(manifest)) continue;
    const filter = manifest.metadata.labels[FILTER_LABEL] ?? manifest.metadata.name;
    checked.push(...await checkObjectConfiguration({ wasm, filter, configuration: shippedConfiguration(manifest), where }, scopeOfManifest(manifest), exact));
  }
  return checked;
}


import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { renderEnvoyFilter } from './envoyfilter.js';
import type { JsonObject, KubernetesManifest, RenderOptions } from './types.js';
import { validateManifests } from './validate.js';
import { renderWasmPlugin } from './wasmplugin.js';
import { renderRoutePatches } from './route-patches.js';

export { renderEnvoyFilter } from './envoyfilter.js';
export { renderWasmPlugin } from './wasmplugin.js';
export { validateManifest, validateManifests } from './validate.js';
export * from './types.js';

function renderOne(options: RenderOptions): KubernetesManifest {
  return options.via === 'wasmplugin' ? renderWasmPlugin(options) : renderEnvoyFilter(options);
}

/** Renders the wiring for one filter by the chosen `via`, and validates it (CRD schema + Envoy protos). */
export function renderFilter(options: RenderOptions): KubernetesManifest[] {
  const manifest = renderOne(options);
  const manifests = options.routes && options.routes.length > 0 ? [manifest, renderRoutePatches(options, options.routes)] : [manifest];
  validateManifests(manifests);
  return manifests;
}

/** Where one object goes and the config it carries (deployer/src/istio/scopes.ts makes these from policies). */
export interface RenderTarget {
  readonly scope: { readonly namespace: string; readonly selector: RenderOptions['selector']; readonly targetRefs?: RenderOptions['targetRefs'] };
  readonly config: JsonObject;
}

export type SharedRenderOptions = Omit<RenderOptions, 'namespace' | 'selector' | 'targetRefs' | 'pluginConfig'>;

/**
 * One object per target: same image and wiring, its own scope and config. Not validated here:
 * callers validate what ships (push/validate-rendered.ts: schemas and the module's own check).
 */
export function renderFilterTargets(shared: SharedRenderOptions, targets: readonly RenderTarget[]): KubernetesManifest[] {
  return targets.flatMap((target) => {
    const options: RenderOptions = {
      ...shared,
      namespace: target.scope.namespace,
      selector: target.scope.selector,
      ...(target.scope.targetRefs ? { targetRefs: target.scope.targetRefs } : {}),
      pluginConfig: target.config,
    };
    // header-router from VirtualServices: the routes its routing header selects, in the same scope.
    return shared.routes && shared.routes.length > 0 ? [renderOne(options), renderRoutePatches(options, shared.routes)] : [renderOne(options)];
  });
}

export function manifestsToYaml(manifests: readonly KubernetesManifest[]): string {
  return manifests.map((m) => stringify(m, { lineWidth: 0 })).join('---\n');
}

export function manifestsToJson(manifests: readonly KubernetesManifest[]): string {
  const body = manifests.length === 1 ? manifests[0] : { apiVersion: 'v1', kind: 'List', items: manifests };
  return JSON.stringify(body, null, 2) + '\n';
}

/** GitOps output: one file per object, `<kind>-<name>.yaml`, in `dir`. Returns the paths written. */
export async function writeManifests(dir: string, manifests: readonly KubernetesManifest[], format: 'yaml' | 'json' = 'yaml'): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const manifest of manifests) {
    const file = path.join(dir, `${manifest.kind.toLowerCase()}-${manifest.metadata.name}.${format}`);
    await writeFile(file, format === 'yaml' ? manifestsToYaml([manifest]) : manifestsToJson([manifest]));
    written.push(file);
  }
  return written;
}

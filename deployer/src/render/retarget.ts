import { ANNOTATIONS, HISTORY_LIMIT, readHistory } from './metadata.js';
import type { DeploymentRecord, JsonObject, JsonValue, KubernetesManifest } from './types.js';
import { digestHex } from './wasm-config.js';

/**
 * Points an already rendered (or live) wasmesh manifest at another image, keeping everything
 * else — selector, context, config, priority — as it is. Used by `rollback`.
 */
export function retargetManifest(manifest: KubernetesManifest, target: DeploymentRecord, appliedAt: string): KubernetesManifest {
  const spec = structuredClone(manifest.spec) as Record<string, JsonValue>;
  if (manifest.kind === 'WasmPlugin') {
    spec.url = target.url;
    spec.sha256 = digestHex(target.manifestDigest);
  } else if (manifest.kind === 'EnvoyFilter') {
    const remote = findRemote(spec, manifest.metadata.name);
    (remote.http_uri as Record<string, JsonValue>).uri = target.url;
    remote.sha256 = digestHex(target.manifestDigest);
  } else {
    throw new Error(`cannot retarget ${manifest.kind} "${manifest.metadata.name}": expected an EnvoyFilter or WasmPlugin written by wasmesh`);
  }
  const history = readHistory(manifest.metadata.annotations);
  const current = history[0];
  const next: DeploymentRecord = { ...target, appliedAt };
  const annotations: Record<string, string> = {
    ...manifest.metadata.annotations,
    [ANNOTATIONS.image]: target.url,
    [ANNOTATIONS.digest]: target.manifestDigest,
    [ANNOTATIONS.wasmSha256]: target.wasmSha256,
    [ANNOTATIONS.appliedAt]: appliedAt,
    [ANNOTATIONS.history]: JSON.stringify([next, ...history].slice(0, HISTORY_LIMIT)),
  };
  if (current && current.manifestDigest !== target.manifestDigest) annotations[ANNOTATIONS.previousDigest] = current.manifestDigest;
  return { ...manifest, metadata: { ...manifest.metadata, annotations }, spec: spec as JsonObject };
}

function findRemote(spec: Record<string, JsonValue>, name: string): Record<string, JsonValue> {
  const patches = Array.isArray(spec.configPatches) ? spec.configPatches as readonly JsonObject[] : [];
  for (const patch of patches) {
    if (patch.applyTo !== 'EXTENSION_CONFIG') continue;
    const value = (patch.patch as JsonObject | undefined)?.value as JsonObject | undefined;
    const config = (value?.typed_config as JsonObject | undefined)?.config as JsonObject | undefined;
    const remote = ((config?.vm_config as JsonObject | undefined)?.code as JsonObject | undefined)?.remote;
    if (remote && typeof remote === 'object' && !Array.isArray(remote) && typeof (remote as JsonObject).http_uri === 'object') {
      return remote as Record<string, JsonValue>;
    }
  }
  throw new Error(`EnvoyFilter "${name}": no EXTENSION_CONFIG patch with vm_config.code.remote.http_uri found: expected an EnvoyFilter rendered by wasmesh`);
}

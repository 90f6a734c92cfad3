import { ANNOTATIONS, isRoutePatches } from './metadata.js';
import type { DeploymentRecord, JsonObject, JsonValue, KubernetesManifest } from './types.js';
import { digestHex, STRING_VALUE_TYPE } from './wasm-config.js';

/**
 * Reading and rewriting what a wasmesh manifest ships — image and plugin configuration — for
 * `push` (validation, history) and `rollback`. Pure: no Kubernetes, no clock.
 */

function wasmConfigOf(spec: JsonObject, name: string): Record<string, JsonValue> {
  const patches = Array.isArray(spec.configPatches) ? spec.configPatches as readonly JsonObject[] : [];
  for (const patch of patches) {
    if (patch.applyTo !== 'EXTENSION_CONFIG') continue;
    const value = (patch.patch as JsonObject | undefined)?.value as JsonObject | undefined;
    const config = (value?.typed_config as JsonObject | undefined)?.config;
    if (config && typeof config === 'object' && !Array.isArray(config) && typeof (config as JsonObject).vm_config === 'object') return config as Record<string, JsonValue>;
  }
  throw new Error(`EnvoyFilter "${name}": no EXTENSION_CONFIG patch with a Wasm config (vm_config) found: expected an EnvoyFilter rendered by wasmesh`);
}

function requireWasmesh(manifest: KubernetesManifest): 'EnvoyFilter' | 'WasmPlugin' {
  if (manifest.kind === 'EnvoyFilter' || manifest.kind === 'WasmPlugin') return manifest.kind;
  throw new Error(`${manifest.kind} "${manifest.metadata.name}": expected an EnvoyFilter or WasmPlugin written by wasmesh`);
}

/**
 * The plugin configuration exactly as the proxy's proxy_on_configure receives it: the
 * StringValue of the Wasm config (EnvoyFilter), or `pluginConfig` as JSON (WasmPlugin: istiod
 * marshals a non-empty Struct to JSON in a StringValue and sends no configuration at all for an
 * empty one — istio/istio pilot/pkg/model/extensions.go buildPluginConfig).
 */
export function shippedConfiguration(manifest: KubernetesManifest): string {
  // header-router's route patches ship routes, not a module configuration.
  if (isRoutePatches(manifest)) return '';
  if (requireWasmesh(manifest) === 'WasmPlugin') {
    const config = manifest.spec.pluginConfig as JsonObject | undefined;
    return config !== undefined && Object.keys(config).length > 0 ? JSON.stringify(config) : '';
  }
  const configuration = wasmConfigOf(manifest.spec, manifest.metadata.name).configuration as JsonObject | undefined;
  return typeof configuration?.value === 'string' ? configuration.value : '';
}

/**
 * What a route-patches object ships: its `configPatches` as JSON, so its history can restore the
 * routes of an earlier deployment (`rollback` puts header-router's filter and routes back together).
 * Records written before routes were recorded hold '' (nothing to restore).
 */
function shippedRoutes(manifest: KubernetesManifest): string {
  const patches = manifest.spec.configPatches;
  return Array.isArray(patches) ? JSON.stringify(patches) : '';
}

/** The deployment a manifest describes (appliedAt left to the caller: apply knows the time). */
export function deploymentOf(manifest: KubernetesManifest, appliedAt: string): DeploymentRecord {
  const a = manifest.metadata.annotations;
  const config = isRoutePatches(manifest) ? shippedRoutes(manifest) : shippedConfiguration(manifest);
  return { url: a[ANNOTATIONS.image] ?? '', manifestDigest: a[ANNOTATIONS.digest] ?? '', wasmSha256: a[ANNOTATIONS.wasmSha256] ?? '', config, appliedAt };
}

function parseConfig(config: string, name: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(config);
  } catch {
    throw new Error(`"${name}": recorded configuration is not JSON: ${config.slice(0, 80)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`"${name}": recorded configuration is not a JSON object: ${config.slice(0, 80)}`);
  return value as JsonObject;
}

function parseRoutes(config: string, name: string): JsonValue[] {
  let value: unknown;
  try {
    value = JSON.parse(config);
  } catch {
    throw new Error(`"${name}": recorded routes are not JSON: ${config.slice(0, 80)}`);
  }
  // [] is a routes object put back to a deployment that had none (apply/rollback.ts): inert.
  if (!Array.isArray(value)) throw new Error(`"${name}": recorded routes: expected a list of HTTP_ROUTE patches, got ${config.slice(0, 80)}`);
  return value as JsonValue[];
}

/**
 * The manifest pointed at `target`'s image and, when recorded, its configuration; everything
 * else (selector, context, priority) stays. Apply-time annotations are dropped: apply writes
 * them again. Used by `rollback`.
 */
export function retargetManifest(manifest: KubernetesManifest, target: DeploymentRecord): KubernetesManifest {
  const kind = requireWasmesh(manifest);
  const spec = structuredClone(manifest.spec) as Record<string, JsonValue>;
  if (isRoutePatches(manifest)) {
    // Routes recorded ('' in records older than this): put them back; otherwise leave them as they are.
    if (target.config !== undefined && target.config !== '') spec.configPatches = parseRoutes(target.config, manifest.metadata.name);
  } else if (kind === 'WasmPlugin') {
    spec.url = target.url;
    spec.sha256 = digestHex(target.manifestDigest);
    if (target.config !== undefined) {
      const config = target.config === '' ? {} : parseConfig(target.config, manifest.metadata.name);
      if (Object.keys(config).length > 0) spec.pluginConfig = config;
      else delete spec.pluginConfig;
    }
  } else {
    const config = wasmConfigOf(spec, manifest.metadata.name);
    const remote = ((config.vm_config as Record<string, JsonValue>).code as Record<string, JsonValue> | undefined)?.remote as Record<string, JsonValue> | undefined;
    if (!remote || typeof remote.http_uri !== 'object') throw new Error(`EnvoyFilter "${manifest.metadata.name}": no vm_config.code.remote.http_uri: expected an EnvoyFilter rendered by wasmesh`);
    (remote.http_uri as Record<string, JsonValue>).uri = target.url;
    remote.sha256 = digestHex(target.manifestDigest);
    if (target.config !== undefined) config.configuration = { '@type': STRING_VALUE_TYPE, value: target.config };
  }
  const annotations: Record<string, string> = {
    ...manifest.metadata.annotations,
    [ANNOTATIONS.image]: target.url,
    [ANNOTATIONS.digest]: target.manifestDigest,
    [ANNOTATIONS.wasmSha256]: target.wasmSha256,
  };
  for (const key of [ANNOTATIONS.appliedAt, ANNOTATIONS.history, ANNOTATIONS.previousDigest]) delete annotations[key];
  return { ...manifest, metadata: { ...manifest.metadata, annotations }, spec: spec as JsonObject };
}

import { createHash } from 'node:crypto';
import { ALL_TYPE_URLS, TYPE_SHORT_NAMES, TypeUrl, type ResourceReference, type Snapshot, type XdsResource } from './types.js';
import { encodeMessage } from './xds-protos.js';

/** Protobuf message behind each type URL. */
const MESSAGE_OF: Readonly<Record<TypeUrl, string>> = {
  [TypeUrl.listener]: 'envoy.config.listener.v3.Listener',
  [TypeUrl.route]: 'envoy.config.route.v3.RouteConfiguration',
  [TypeUrl.cluster]: 'envoy.config.cluster.v3.Cluster',
  [TypeUrl.endpoint]: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
  [TypeUrl.extensionConfig]: 'envoy.config.core.v3.TypedExtensionConfig',
};

export interface ResourceSpec {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  /** The message as snake_case JSON (nested Any as `{'@type': …}`). */
  readonly message: Record<string, unknown>;
  readonly references?: readonly ResourceReference[];
  readonly modules?: readonly string[];
}

function hash(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Encode once; the version is the content hash, so an unchanged resource keeps its version. */
export function buildResource(spec: ResourceSpec): XdsResource {
  let value: Uint8Array;
  try {
    value = encodeMessage(MESSAGE_OF[spec.typeUrl], spec.message);
  } catch (error) {
    throw new Error(`${TYPE_SHORT_NAMES[spec.typeUrl]} resource "${spec.name}": ${error instanceof Error ? error.message : String(error)}`);
  }
  return { name: spec.name, typeUrl: spec.typeUrl, value, version: hash(value).slice(0, 16), references: spec.references ?? [], modules: spec.modules ?? [] };
}

export class SnapshotInconsistentError extends Error {
  constructor(readonly group: string, readonly problems: readonly string[]) {
    super(`snapshot for ${group} is inconsistent: ${problems.join('; ')}`);
    this.name = 'SnapshotInconsistentError';
  }
}

/**
 * go-control-plane's Snapshot.Consistent(): every route configuration, cluster, endpoint
 * assignment and extension config a resource refers to is in the same snapshot, so a proxy never
 * waits on a name that will not come (Envoy would block listener warming on it).
 */
export function consistencyProblems(resources: ReadonlyMap<TypeUrl, ReadonlyMap<string, XdsResource>>): string[] {
  const problems: string[] = [];
  for (const byName of resources.values()) {
    for (const resource of byName.values()) {
      for (const ref of resource.references) {
        if (!resources.get(ref.typeUrl)?.has(ref.name)) {
          problems.push(`${TYPE_SHORT_NAMES[resource.typeUrl]} "${resource.name}" refers to ${TYPE_SHORT_NAMES[ref.typeUrl]} "${ref.name}", which is not in the snapshot`);
        }
      }
    }
  }
  return problems;
}

/** A frozen snapshot; throws SnapshotInconsistentError (never served) if a reference dangles or a name repeats. */
export function createSnapshot(group: string, resources: readonly XdsResource[]): Snapshot {
  const byType = new Map<TypeUrl, Map<string, XdsResource>>(ALL_TYPE_URLS.map((t) => [t, new Map()]));
  const problems: string[] = [];
  for (const resource of resources) {
    const map = byType.get(resource.typeUrl)!;
    if (map.has(resource.name)) problems.push(`${TYPE_SHORT_NAMES[resource.typeUrl]} "${resource.name}" is defined twice`);
    map.set(resource.name, resource);
  }
  problems.push(...consistencyProblems(byType));
  if (problems.length > 0) throw new SnapshotInconsistentError(group, problems);
  const versions = {} as Record<TypeUrl, string>;
  for (const typeUrl of ALL_TYPE_URLS) {
    const entries = [...byType.get(typeUrl)!.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    versions[typeUrl] = hash(entries.map((r) => `${r.name}\0${r.version}`).join('\n')).slice(0, 16);
  }
  return Object.freeze({ group, resources: byType, versions: Object.freeze(versions) });
}

/** Module digests any resource of the snapshot makes proxies download. */
export function snapshotModules(snapshot: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const byName of snapshot.resources.values()) for (const r of byName.values()) for (const m of r.modules) out.add(m);
  return out;
}

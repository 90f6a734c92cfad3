/**
 * Workload identity of a proxy as Istio describes it in node metadata (pkg/model/context.go
 * NodeMetadata): NAME, NAMESPACE, WORKLOAD_NAME, LABELS (app, version,
 * service.istio.io/canonical-name|revision), CLUSTER_ID, MESH_ID, OWNER … The local one comes
 * from the `node.metadata` property, a peer's from its `x-envoy-peer-metadata` header.
 */
import { base64Decode, base64Encode } from "../../lib/base64";
import { StructEntry, canonicalStruct, structEntries, valueString, valueStruct } from "./struct";

/** Label names Istio reads (istio/proxy extensions/common/context.h kCanonicalService*). */
const CANONICAL_NAME = "service.istio.io/canonical-name";
const CANONICAL_REVISION = "service.istio.io/canonical-revision";
/** Istio's value when a workload has no canonical revision label (kLatest). */
export const LATEST = "latest";

/**
 * The node metadata keys Istio's metadata exchange sends to its peer
 * (extensions/common/metadata_object.cc / context.cc: the keys the peer's stats need).
 */
const EXCHANGED_KEYS: Array<string> = [
  "APP_CONTAINERS", "CLUSTER_ID", "INSTANCE_IPS", "ISTIO_VERSION", "LABELS", "MESH_ID", "NAME", "NAMESPACE", "OWNER",
  "PLATFORM_METADATA", "SERVICE_ACCOUNT", "WORKLOAD_NAME",
];

export class NodeMeta {
  name: string = "";
  namespace: string = "";
  workloadName: string = "";
  clusterId: string = "";
  meshId: string = "";
  owner: string = "";
  /** LABELS was present (Istio treats "no labels" apart: app/version "" and revision "latest"). */
  hasLabels: bool = false;
  app: string = "";
  version: string = "";
  canonicalService: string = "";
  canonicalRevision: string = LATEST;

  /** Istio's map_node: canonical service falls back to the workload name, revision to "latest". */
  finish(): NodeMeta {
    if (this.canonicalService.length == 0 && this.hasLabels) this.canonicalService = this.workloadName;
    return this;
  }
}

/** A NodeMeta read from the Struct in bytes[start, end); null when malformed. */
export function nodeFromStruct(bytes: Uint8Array, start: i32, end: i32): NodeMeta | null {
  const entries = structEntries(bytes, start, end);
  if (entries === null) return null;
  const node = new NodeMeta();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const key = entry.key;
    if (key == "LABELS") {
      const labels = valueStruct(bytes, entry.valueStart, entry.valueEnd);
      if (labels !== null && !readLabels(node, bytes, labels[0], labels[1])) return null;
      continue;
    }
    const value = stringOf(bytes, entry);
    if (value === null) continue;
    if (key == "NAME") node.name = value;
    else if (key == "NAMESPACE") node.namespace = value;
    else if (key == "WORKLOAD_NAME") node.workloadName = value;
    else if (key == "CLUSTER_ID") node.clusterId = value;
    else if (key == "MESH_ID") node.meshId = value;
    else if (key == "OWNER") node.owner = value;
  }
  return node.finish();
}

function stringOf(bytes: Uint8Array, entry: StructEntry): string | null {
  return valueString(bytes, entry.valueStart, entry.valueEnd);
}

function readLabels(node: NodeMeta, bytes: Uint8Array, start: i32, end: i32): bool {
  const labels = structEntries(bytes, start, end);
  if (labels === null) return false;
  node.hasLabels = true;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    const value = stringOf(bytes, label);
    if (value === null) continue;
    if (label.key == "app") node.app = value;
    else if (label.key == "version") node.version = value;
    else if (label.key == CANONICAL_NAME) node.canonicalService = value;
    else if (label.key == CANONICAL_REVISION) node.canonicalRevision = value;
  }
  return true;
}

/**
 * `x-envoy-peer-metadata`: base64 (standard alphabet, padded) of the deterministic serialization
 * of a Struct holding the exchanged keys of this node's metadata
 * (istio/proxy extensions/metadata_exchange/plugin.cc updateMetadataValue). Empty when the
 * metadata cannot be read.
 */
export function exchangeHeaderValue(nodeMetadata: Uint8Array): string {
  const selected = canonicalStruct(nodeMetadata, 0, nodeMetadata.length, EXCHANGED_KEYS);
  return selected === null ? "" : base64Encode(selected);
}

/**
 * The peer's NodeMeta from its header. Istio decodes "without padding" (Envoy's
 * Base64::decodeWithoutPadding), so padded and unpadded values are both accepted.
 */
export function nodeFromHeader(value: string): NodeMeta | null {
  let text = value;
  const missing = text.length & 3;
  if (missing == 2) text += "==";
  else if (missing == 3) text += "=";
  const bytes = base64Decode(text);
  if (bytes === null) return null;
  return nodeFromStruct(bytes, 0, bytes.length);
}

/**
 * Peers seen recently, by their `x-envoy-peer-metadata-id`: a metadata header arriving under a
 * cached id is not decoded again (istio/proxy extensions/metadata_exchange/plugin.cc updatePeer).
 * Bounded by Istio's max_peer_cache_size (default 500; 0 disables the cache): past it, a quarter
 * of the entries go (the oldest here; Istio drops an arbitrary quarter of its hash map), so a
 * flood of made-up ids costs decoding, never memory. An empty id is never cached (Istio would
 * key every id-less peer under "" and report the first one's labels for all of them).
 */
export class PeerCache {
  private readonly ids: Map<string, NodeMeta> = new Map();
  /** The previous lookup: the same id string object (bytes.ts CachedText) skips hashing it. */
  private lastId: string = "";
  private lastNode: NodeMeta | null = null;
  constructor(readonly capacity: i32) {}

  /** The peer cached under `id`, or null: then `decode` the metadata header. */
  cached(id: string): NodeMeta | null {
    if (id.length == 0 || this.capacity <= 0) return null;
    if (changetype<usize>(id) == changetype<usize>(this.lastId)) return this.lastNode;
    if (!this.ids.has(id)) return null;
    return this.remember(id, this.ids.get(id));
  }

  /** The peer from its metadata header, cached under `id` (null when the header is malformed). */
  decode(id: string, header: string): NodeMeta | null {
    const node = nodeFromHeader(header);
    if (node === null || id.length == 0 || this.capacity <= 0) return node;
    if (this.ids.size > this.capacity) this.evictQuarter();
    this.ids.set(id, node);
    return this.remember(id, node);
  }

  get size(): i32 {
    return this.ids.size;
  }

  private remember(id: string, node: NodeMeta): NodeMeta {
    this.lastId = id;
    this.lastNode = node;
    return node;
  }

  private evictQuarter(): void {
    const keys = this.ids.keys();
    const n = max<i32>(1, this.capacity / 4);
    for (let i = 0; i < n && i < keys.length; i++) this.ids.delete(keys[i]);
    this.lastId = "";
    this.lastNode = null;
  }
}

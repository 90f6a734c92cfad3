/**
 * The control plane's interfaces, go-control-plane style (pkg/cache/v3, pkg/server/v3): resources
 * and snapshots are values; a SnapshotCache hands out immutable snapshots per node group; ADS
 * streams only read snapshots and report ACK/NACK to a StatusRecorder.
 */

/** xDS type URLs served over ADS (Envoy's resource types, v3). */
export const TypeUrl = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  extensionConfig: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
} as const;
export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

export const ALL_TYPE_URLS: readonly TypeUrl[] = Object.values(TypeUrl);

/** Short names for logs and status (`LDS`, `RDS`, …). */
export const TYPE_SHORT_NAMES: Readonly<Record<TypeUrl, string>> = {
  [TypeUrl.listener]: 'LDS', [TypeUrl.route]: 'RDS', [TypeUrl.cluster]: 'CDS', [TypeUrl.endpoint]: 'EDS', [TypeUrl.extensionConfig]: 'ECDS',
};

/**
 * Types a client may subscribe to as a wildcard (all resources): LDS and CDS. The others are
 * always requested by name (xDS protocol, "How the client specifies what resources to return").
 */
export function isWildcardCapable(typeUrl: string): boolean {
  return typeUrl === TypeUrl.listener || typeUrl === TypeUrl.cluster;
}

export function isKnownTypeUrl(typeUrl: string): typeUrl is TypeUrl {
  return (ALL_TYPE_URLS as readonly string[]).includes(typeUrl);
}

/** A resource another resource needs in the same snapshot (RDS name, EDS service name, ECDS name, cluster). */
export interface ResourceReference {
  readonly typeUrl: TypeUrl;
  readonly name: string;
}

/** One encoded xDS resource: its protobuf bytes (the Any's value) and a content version. */
export interface XdsResource {
  readonly name: string;
  readonly typeUrl: TypeUrl;
  /** The message, serialized once when the snapshot is built. */
  readonly value: Uint8Array;
  /** Content hash of `value` (delta xDS per-resource version). */
  readonly version: string;
  readonly references: readonly ResourceReference[];
  /** Module digests (sha256 hex) this resource makes proxies fetch; the module server keeps them. */
  readonly modules: readonly string[];
}

/** An immutable set of resources for one node group; `versions[type]` changes iff that type's content does. */
export interface Snapshot {
  readonly group: string;
  readonly resources: ReadonlyMap<TypeUrl, ReadonlyMap<string, XdsResource>>;
  readonly versions: Readonly<Record<TypeUrl, string>>;
}

/** Who a proxy is, from its xDS Node (deployer/src/control-plane/node-identity.ts). */
export interface NodeIdentity {
  readonly id: string;
  readonly cluster: string;
  /** `sidecar` (Envoy), or `grpc` for proxyless gRPC (metadata GENERATOR: grpc). */
  readonly generator: 'sidecar' | 'grpc';
  readonly ip?: string;
  readonly namespace: string;
  readonly workloadName?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Istio's DNS domain from the id (`ns.svc.cluster.local`). */
  readonly dnsDomain: string;
}

/** Built by the SnapshotGenerator for a node group; fresh after every accepted config change. */
export interface SnapshotSource {
  /** The key proxies with identical configuration share (generator, namespace, labels, workload). */
  groupOf(node: NodeIdentity): string;
  snapshotFor(node: NodeIdentity): Snapshot;
}

export interface AckRecord { readonly version: string; readonly nonce: string; readonly at: string }
export interface NackRecord extends AckRecord {
  readonly error: string;
  /** Resources in the refused response. */
  readonly resources: readonly string[];
}

/** A resource as a proxy holds it: name and content version. */
export interface ResourceVersion { readonly name: string; readonly version: string }

/** ACK/NACK per node and type, surfaced by the admin API and `deployer status --control-plane`. */
export interface NodeStatus {
  readonly node: NodeIdentity;
  readonly connected: boolean;
  readonly streams: number;
  readonly acked: Readonly<Partial<Record<TypeUrl, AckRecord>>>;
  readonly lastNack: Readonly<Partial<Record<TypeUrl, NackRecord>>>;
  /** Per type, the resources (name → version) the node has accepted. */
  readonly resources: Readonly<Partial<Record<TypeUrl, Readonly<Record<string, string>>>>>;
  /** Versions sent and not yet ACKed or NACKed. */
  readonly pending: Readonly<Partial<Record<TypeUrl, string>>>;
}

export interface StatusRecorder {
  connected(node: NodeIdentity): void;
  disconnected(node: NodeIdentity): void;
  sent(node: NodeIdentity, typeUrl: TypeUrl, version: string): void;
  /**
   * `accepted`: the resources of the ACKed response; SotW replaces the node's set (`replace`),
   * delta merges it and drops `removed`.
   */
  ack(node: NodeIdentity, typeUrl: TypeUrl, version: string, nonce: string, accepted: AcceptedResources): void;
  nack(node: NodeIdentity, typeUrl: TypeUrl, version: string, nonce: string, error: string, resources: readonly string[]): void;
}

export interface AcceptedResources {
  readonly mode: 'replace' | 'merge';
  readonly resources: readonly ResourceVersion[];
  readonly removed?: readonly string[];
}

/** Logging sink: one line per event (stderr in the CLI, captured in tests). */
export type Log = (line: string) => void;

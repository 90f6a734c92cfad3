/**
 * The label values of one finished stream, with Istio's value rules (istio/proxy
 * extensions/stats/plugin.cc map_node / map_request / map_unknown_if_empty, and
 * extensions/common/context.cc populateHTTPRequestInfo / getDestinationService):
 *  - the local side's workload labels come from node metadata, the peer side's from the metadata
 *    exchange; canonical service falls back to the workload name, canonical revision to "latest";
 *  - principals come from the downstream connection's certificates inbound, the upstream
 *    connection's outbound, and without peer metadata the source namespace is taken from the
 *    downstream peer's SPIFFE id (inbound);
 *  - destination_service is the host of an Istio cluster name (`outbound|80||host`), else the
 *    request's authority; its name drops the namespace when it is the destination's;
 *  - connection_security_policy is mutual_tls / none inbound, unknown outbound;
 *  - every empty value reads "unknown", then grpc_response_status is "" for non-gRPC requests.
 */
import { fetchProperty, propertyBytes, propertyLength, releaseProperty } from "../../lib/properties";
import { CachedText, cachedProperty } from "./bytes";
import { evaluate } from "./expression";
import { MetricsConfig } from "./config";
import {
  APP, CONNECTION_SECURITY_POLICY, DESTINATION, DESTINATION_CANONICAL_REVISION, DESTINATION_CANONICAL_SERVICE, DESTINATION_CLUSTER,
  DESTINATION_SERVICE, DESTINATION_SERVICE_NAME, DESTINATION_SERVICE_NAMESPACE, GRPC_RESPONSE_STATUS, LABEL_COUNT, PRINCIPAL,
  REPORTER, REQUEST_PROTOCOL, RESPONSE_CODE, RESPONSE_FLAGS, SOURCE, SOURCE_CANONICAL_REVISION, SOURCE_CANONICAL_SERVICE,
  SOURCE_CLUSTER, UNKNOWN, VERSION, WORKLOAD, WORKLOAD_NAMESPACE, isGrpcContentType, responseFlagsText, serviceName, spiffeNamespace,
} from "./labels";
import { NodeMeta } from "./node";

const P_RESPONSE_CODE = String.UTF8.encode("response\0code");
const P_RESPONSE_FLAGS = String.UTF8.encode("response\0flags");
const P_GRPC_STATUS = String.UTF8.encode("response\0grpc_status");
const P_CONTENT_TYPE = String.UTF8.encode("request\0headers\0content-type");
const P_HOST = String.UTF8.encode("request\0host");
const P_CLUSTER = String.UTF8.encode("cluster_name");
const P_CONNECTION_ID = String.UTF8.encode("connection_id");
const P_PEER_URI = String.UTF8.encode("connection\0uri_san_peer_certificate");
const P_LOCAL_URI = String.UTF8.encode("connection\0uri_san_local_certificate");
const P_MTLS = String.UTF8.encode("connection\0mtls");
const P_UPSTREAM_PEER_URI = String.UTF8.encode("upstream\0uri_san_peer_certificate");
const P_UPSTREAM_LOCAL_URI = String.UTF8.encode("upstream\0uri_san_local_certificate");
const P_DURATION = String.UTF8.encode("request\0duration");
const P_REQUEST_SIZE = String.UTF8.encode("request\0total_size");
const P_RESPONSE_SIZE = String.UTF8.encode("response\0total_size");

/** Sentinels of Istio's passthrough / blackhole routes (pilot util.BlackHoleCluster …). */
const BLACKHOLE = "BlackHoleCluster";
const PASSTHROUGH = "PassthroughCluster";

/**
 * Facts of the downstream connection (its certificates cannot change while it lives): read once
 * per connection id, not per stream.
 */
class ConnectionFacts {
  id: i64 = -1;
  peerPrincipal: string = "";
  localPrincipal: string = "";
  mtls: bool = false;
  /** source_workload_namespace from the peer's SPIFFE id, when no metadata was exchanged. */
  spiffeNamespace: string = "";

  refresh(): void {
    const id = intProperty(P_CONNECTION_ID, -1);
    if (id >= 0 && id == this.id) return;
    this.id = id;
    this.peerPrincipal = cachedProperty(P_PEER_URI, peerUriText);
    this.localPrincipal = cachedProperty(P_LOCAL_URI, localUriText);
    this.mtls = boolProperty(P_MTLS);
    this.spiffeNamespace = spiffeNamespace(this.peerPrincipal);
  }
}

const connection = new ConnectionFacts();

/** The values a stream's metrics record besides its labels. */
export class StreamFacts {
  /** content-type seen in onRequestHeaders (null: the filter never saw the request headers). */
  contentType: string | null = null;
  grpc: bool = false;
  durationMs: u64 = 0;
  requestBytes: u64 = 0;
  responseBytes: u64 = 0;
  requestMessages: u64 = 0;
  responseMessages: u64 = 0;
}

function intProperty(path: ArrayBuffer, fallback: i64): i64 {
  if (!fetchProperty(path)) return fallback;
  const value = propertyLength() == 8 ? load<i64>(propertyBytes()) : fallback;
  releaseProperty();
  return value;
}

function boolProperty(path: ArrayBuffer): bool {
  if (!fetchProperty(path)) return false;
  const value = propertyLength() == 1 && load<u8>(propertyBytes()) != 0;
  releaseProperty();
  return value;
}

/** Texts of the string properties read per stream, reused while their bytes repeat (bytes.ts). */
const peerUriText = new CachedText();
const localUriText = new CachedText();
const upstreamPeerUriText = new CachedText();
const upstreamLocalUriText = new CachedText();
const clusterText = new CachedText();
const hostText = new CachedText();
const contentTypeText = new CachedText();

/** destination_service / _name derived from (cluster, host, namespace): recomputed only when one changes. */
class ServiceNames {
  cluster: string = "";
  host: string = "";
  namespace: string = "";
  service: string = "";
  name: string = "";
  valid: bool = false;

  update(cluster: string, host: string, namespace: string): void {
    // Same string objects (CachedText) mean same inputs: pointer comparisons only.
    if (this.valid && changetype<usize>(cluster) == changetype<usize>(this.cluster) && changetype<usize>(host) == changetype<usize>(this.host)
      && changetype<usize>(namespace) == changetype<usize>(this.namespace)) return;
    this.cluster = cluster;
    this.host = host;
    this.namespace = namespace;
    this.valid = true;
    if (cluster == BLACKHOLE || cluster == PASSTHROUGH) {
      this.service = host;
      this.name = cluster;
      return;
    }
    let service = host;
    const parts = cluster.split("|");
    if (parts.length == 4 && parts[3].length > 0) service = parts[3];
    this.service = service;
    this.name = serviceName(service, namespace);
  }
}

const serviceNames = new ServiceNames();
let lastCode: i64 = -1;
let lastCodeText: string = "";

function codeText(code: i64): string {
  if (code != lastCode) {
    lastCode = code;
    lastCodeText = code.toString();
  }
  return lastCodeText;
}

/** Writes a node's workload labels to the side starting at `side` (SOURCE or DESTINATION). */
export function setSide(values: Array<string>, side: i32, node: NodeMeta | null): void {
  const canonicalService = side == SOURCE ? SOURCE_CANONICAL_SERVICE : DESTINATION_CANONICAL_SERVICE;
  const canonicalRevision = side == SOURCE ? SOURCE_CANONICAL_REVISION : DESTINATION_CANONICAL_REVISION;
  const cluster = side == SOURCE ? SOURCE_CLUSTER : DESTINATION_CLUSTER;
  if (node === null) {
    values[side + WORKLOAD] = "";
    values[side + WORKLOAD_NAMESPACE] = "";
    values[side + APP] = "";
    values[side + VERSION] = "";
    values[canonicalService] = "";
    values[canonicalRevision] = "latest";
    values[cluster] = "";
    return;
  }
  values[side + WORKLOAD] = node.workloadName;
  values[side + WORKLOAD_NAMESPACE] = node.namespace;
  values[side + APP] = node.app;
  values[side + VERSION] = node.version;
  values[canonicalService] = node.canonicalService;
  values[canonicalRevision] = node.canonicalRevision;
  values[cluster] = node.clusterId;
}

/**
 * Fills `values` (LABEL_COUNT standard labels then one per custom expression) and `facts` for
 * the stream being logged. `local` is this proxy's node, `peer` the other side's (null when no
 * metadata was exchanged).
 */
export function fillValues(values: Array<string>, facts: StreamFacts, config: MetricsConfig, outbound: bool, local: NodeMeta, peer: NodeMeta | null): void {
  values[REPORTER] = outbound ? "source" : "destination";
  const destination = outbound ? peer : local;
  setSide(values, outbound ? SOURCE : DESTINATION, local);
  setSide(values, outbound ? DESTINATION : SOURCE, peer);
  values[DESTINATION_SERVICE_NAMESPACE] = destination === null ? "" : destination.namespace;

  if (outbound) {
    // Istio (extensions/common/context.cc populateRequestInfo): the upstream connection's
    // certificates; the policy is only known inbound.
    values[SOURCE + PRINCIPAL] = cachedProperty(P_UPSTREAM_LOCAL_URI, upstreamLocalUriText);
    values[DESTINATION + PRINCIPAL] = cachedProperty(P_UPSTREAM_PEER_URI, upstreamPeerUriText);
    values[CONNECTION_SECURITY_POLICY] = UNKNOWN;
  } else {
    connection.refresh();
    values[SOURCE + PRINCIPAL] = connection.peerPrincipal;
    values[DESTINATION + PRINCIPAL] = connection.localPrincipal;
    values[CONNECTION_SECURITY_POLICY] = connection.mtls ? "mutual_tls" : "none";
    if (peer === null) values[SOURCE + WORKLOAD_NAMESPACE] = connection.spiffeNamespace;
  }

  const cluster = cachedProperty(P_CLUSTER, clusterText);
  const host = config.hostHeaderFallback ? cachedProperty(P_HOST, hostText) : UNKNOWN;
  // values[] holds the namespace string of a NodeMeta (or ""): stable objects, so the cache holds.
  serviceNames.update(cluster, host, values[DESTINATION_SERVICE_NAMESPACE]);
  values[DESTINATION_SERVICE] = serviceNames.service;
  values[DESTINATION_SERVICE_NAME] = serviceNames.name;

  const contentType = facts.contentType;
  facts.grpc = isGrpcContentType(contentType !== null ? contentType : cachedProperty(P_CONTENT_TYPE, contentTypeText));
  values[REQUEST_PROTOCOL] = facts.grpc ? "grpc" : "http";
  const code = intProperty(P_RESPONSE_CODE, 0);
  values[RESPONSE_CODE] = codeText(code);
  values[RESPONSE_FLAGS] = responseFlagsText(<u64>intProperty(P_RESPONSE_FLAGS, 0));
  for (let i = 0; i < LABEL_COUNT; i++) if (values[i].length == 0) values[i] = UNKNOWN;
  // Envoy derives grpc_status from the HTTP status when no grpc-status was sent (Grpc::Common::getGrpcStatus).
  values[GRPC_RESPONSE_STATUS] = facts.grpc ? intProperty(P_GRPC_STATUS, 2).toString() : "";

  for (let i = 0; i < config.expressions.length; i++) {
    const value = evaluate(config.expressions[i]);
    values[LABEL_COUNT + i] = value === null || value.length == 0 ? UNKNOWN : value;
  }

  const durationNs = intProperty(P_DURATION, 0);
  facts.durationMs = durationNs > 0 ? <u64>(durationNs / 1000000) : 0;
  facts.requestBytes = <u64>max<i64>(0, intProperty(P_REQUEST_SIZE, 0));
  facts.responseBytes = <u64>max<i64>(0, intProperty(P_RESPONSE_SIZE, 0));
}

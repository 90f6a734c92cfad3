/**
 * What the labels of a finished stream are computed from, read from the host in onLog: the
 * principals (per connection), cluster and authority, gRPC-ness, response code, flags and gRPC
 * status. Istio reads the same attributes (istio/proxy extensions/common/context.cc
 * populateHTTPRequestInfo / populateRequestInfo / getDestinationService).
 *
 * Most streams repeat the previous one's inputs (same peer, same route, same outcome), and then
 * their 25 label values repeat too. Strings come from CachedText (bytes.ts), which hands back the
 * same string object while the host's bytes repeat, so "same input" is a pointer comparison;
 * `StreamInputs` keeps references to the previous stream's inputs, so none of them can be freed
 * and its address reused by another string.
 */
import { fetchProperty, propertyBytes, propertyInt, propertyLength, releaseProperty } from "../../lib/properties";
import { CachedText, cachedProperty } from "./bytes";
import { isGrpcContentTypeBytes, serviceName, spiffeNamespace } from "./labels";
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

/** Sentinels of Istio's passthrough / blackhole routes (pilot util.BlackHoleCluster …). */
const BLACKHOLE = "BlackHoleCluster";
const PASSTHROUGH = "PassthroughCluster";

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
    const id = propertyInt(P_CONNECTION_ID, -1);
    if (id >= 0 && id == this.id) return;
    this.id = id;
    const peer = cachedProperty(P_PEER_URI, peerUriText);
    if (changetype<usize>(peer) != changetype<usize>(this.peerPrincipal)) {
      this.peerPrincipal = peer;
      this.spiffeNamespace = spiffeNamespace(peer);
    }
    this.localPrincipal = cachedProperty(P_LOCAL_URI, localUriText);
    this.mtls = boolProperty(P_MTLS);
  }
}

export const connection = new ConnectionFacts();

/**
 * destination_service / _name (Istio's getDestinationService): the host of an Istio cluster name
 * (`outbound|80||host`), else the request's authority, which is then only read when needed;
 * recomputed only when an input changes.
 */
class ServiceNames {
  cluster: string = "";
  /** The fourth part of a four-part cluster name, "" otherwise. */
  private clusterHost: string = "";
  private sentinel: bool = false;
  private parsed: bool = false;
  private host: string = "";
  private namespace: string = "";
  private resolved: bool = false;
  service: string = "";
  name: string = "";

  setCluster(cluster: string): void {
    if (this.parsed && changetype<usize>(cluster) == changetype<usize>(this.cluster)) return;
    this.parsed = true;
    this.resolved = false;
    this.cluster = cluster;
    this.sentinel = cluster == BLACKHOLE || cluster == PASSTHROUGH;
    this.clusterHost = "";
    if (this.sentinel) return;
    const parts = cluster.split("|");
    if (parts.length == 4) this.clusterHost = parts[3];
  }

  /** Whether the service comes from the request's authority (read it only then). */
  get usesHost(): bool {
    return this.sentinel || this.clusterHost.length == 0;
  }

  resolve(host: string, namespace: string): void {
    if (this.resolved && changetype<usize>(host) == changetype<usize>(this.host) && changetype<usize>(namespace) == changetype<usize>(this.namespace)) return;
    this.resolved = true;
    this.host = host;
    this.namespace = namespace;
    if (this.sentinel) {
      this.service = host;
      this.name = this.cluster;
      return;
    }
    this.service = this.clusterHost.length > 0 ? this.clusterHost : host;
    this.name = serviceName(this.service, namespace);
  }
}

export const serviceNames = new ServiceNames();

/** A stream answered before this filter saw its request: content-type from the logged request. */
export function grpcFromLoggedRequest(): bool {
  if (!fetchProperty(P_CONTENT_TYPE)) return false;
  const grpc = isGrpcContentTypeBytes(propertyBytes(), propertyLength());
  releaseProperty();
  return grpc;
}

/** The host inputs of one stream's labels, and whether they equal the previous stream's. */
export class StreamInputs {
  peer: NodeMeta | null = null;
  sourcePrincipal: string = "";
  destinationPrincipal: string = "";
  mtls: bool = false;
  cluster: string = "";
  host: string = "";
  grpc: bool = false;
  code: i64 = 0;
  flags: u64 = 0;
  grpcStatus: i64 = 0;
  private valid: bool = false;

  /** The next comparison fails (a new configuration: new label arrays). */
  forget(): void {
    this.valid = false;
  }

  /**
   * Reads this stream's inputs; true when they are the previous stream's (same objects, same
   * numbers). `hostFallback`: the authority may name the service (Istio's use_host_header_fallback).
   */
  read(outbound: bool, peer: NodeMeta | null, grpc: bool, hostFallback: bool): bool {
    let sourcePrincipal: string;
    let destinationPrincipal: string;
    let mtls = false;
    if (outbound) {
      // Istio (context.cc populateRequestInfo): the upstream connection's certificates.
      sourcePrincipal = cachedProperty(P_UPSTREAM_LOCAL_URI, upstreamLocalUriText);
      destinationPrincipal = cachedProperty(P_UPSTREAM_PEER_URI, upstreamPeerUriText);
    } else {
      connection.refresh();
      sourcePrincipal = connection.peerPrincipal;
      destinationPrincipal = connection.localPrincipal;
      mtls = connection.mtls;
    }
    const cluster = cachedProperty(P_CLUSTER, clusterText);
    serviceNames.setCluster(cluster);
    const host = !hostFallback ? "unknown" : serviceNames.usesHost ? cachedProperty(P_HOST, hostText) : "";
    const code = propertyInt(P_RESPONSE_CODE, 0);
    const flags = <u64>propertyInt(P_RESPONSE_FLAGS, 0);
    // Envoy derives grpc_status from the HTTP status when no grpc-status was sent (Grpc::Common::getGrpcStatus).
    const grpcStatus = grpc ? propertyInt(P_GRPC_STATUS, 2) : 0;
    const same = this.valid && this.peer === peer && this.mtls == mtls && this.grpc == grpc && this.code == code && this.flags == flags
      && this.grpcStatus == grpcStatus && sameObject(this.sourcePrincipal, sourcePrincipal) && sameObject(this.destinationPrincipal, destinationPrincipal)
      && sameObject(this.cluster, cluster) && sameObject(this.host, host);
    if (same) return true;
    this.valid = true;
    this.peer = peer;
    this.sourcePrincipal = sourcePrincipal;
    this.destinationPrincipal = destinationPrincipal;
    this.mtls = mtls;
    this.cluster = cluster;
    this.host = host;
    this.grpc = grpc;
    this.code = code;
    this.flags = flags;
    this.grpcStatus = grpcStatus;
    return false;
  }
}

// @ts-ignore: decorator
@inline function sameObject(a: string, b: string): bool {
  return changetype<usize>(a) == changetype<usize>(b);
}

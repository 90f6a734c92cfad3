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
import { evaluate } from "./expression";
import { MetricsConfig } from "./config";
import {
  APP, CONNECTION_SECURITY_POLICY, DESTINATION, DESTINATION_CANONICAL_REVISION, DESTINATION_CANONICAL_SERVICE, DESTINATION_CLUSTER,
  DESTINATION_SERVICE, DESTINATION_SERVICE_NAME, DESTINATION_SERVICE_NAMESPACE, GRPC_RESPONSE_STATUS, LABEL_COUNT, PRINCIPAL,
  REPORTER, REQUEST_PROTOCOL, RESPONSE_CODE, RESPONSE_FLAGS, SOURCE, SOURCE_CANONICAL_REVISION, SOURCE_CANONICAL_SERVICE,
  SOURCE_CLUSTER, UNKNOWN, VERSION, WORKLOAD, WORKLOAD_NAMESPACE, responseFlagsText,
} from "./labels";
import { NodeMeta } from "./node";
import { propertyInt } from "../../lib/properties";
import { StreamInputs, connection, grpcFromLoggedRequest, serviceNames } from "./stream-inputs";

const P_DURATION = String.UTF8.encode("request\0duration");
const P_REQUEST_SIZE = String.UTF8.encode("request\0total_size");
const P_RESPONSE_SIZE = String.UTF8.encode("response\0total_size");

/** The values a stream's metrics record besides its labels. */
export class StreamFacts {
  /** Set by the stream: the filter saw the request headers, and `grpc` is from their content-type. */
  grpcKnown: bool = false;
  grpc: bool = false;
  durationMs: u64 = 0;
  requestBytes: u64 = 0;
  responseBytes: u64 = 0;
  requestMessages: u64 = 0;
  responseMessages: u64 = 0;
}

const inputs = new StreamInputs();

/** A new configuration (new label arrays): the next stream's labels are computed afresh. */
export function forgetLabelInputs(): void {
  inputs.forget();
}

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
 * metadata was exchanged). Returns true when the labels are the previous stream's (then `values`
 * was left as it was: every input, custom values included, repeated).
 */
export function fillValues(values: Array<string>, facts: StreamFacts, config: MetricsConfig, outbound: bool, local: NodeMeta, peer: NodeMeta | null): bool {
  if (!facts.grpcKnown) facts.grpc = grpcFromLoggedRequest();
  let same = inputs.read(outbound, peer, facts.grpc, config.hostHeaderFallback);
  for (let i = 0; i < config.expressions.length; i++) {
    const result = evaluate(config.expressions[i]);
    const value = result === null || result.length == 0 ? UNKNOWN : result;
    if (value != values[LABEL_COUNT + i]) {
      values[LABEL_COUNT + i] = value;
      same = false;
    }
  }
  const durationNs = propertyInt(P_DURATION, 0);
  facts.durationMs = durationNs > 0 ? <u64>(durationNs / 1000000) : 0;
  facts.requestBytes = <u64>max<i64>(0, propertyInt(P_REQUEST_SIZE, 0));
  facts.responseBytes = <u64>max<i64>(0, propertyInt(P_RESPONSE_SIZE, 0));
  if (!same) standardLabels(values, outbound, local, peer);
  return same;
}

/** The LABEL_COUNT standard labels from this stream's inputs (read by fillValues). */
function standardLabels(values: Array<string>, outbound: bool, local: NodeMeta, peer: NodeMeta | null): void {
  values[REPORTER] = outbound ? "source" : "destination";
  const destination = outbound ? peer : local;
  setSide(values, outbound ? SOURCE : DESTINATION, local);
  setSide(values, outbound ? DESTINATION : SOURCE, peer);
  values[DESTINATION_SERVICE_NAMESPACE] = destination === null ? "" : destination.namespace;

  values[SOURCE + PRINCIPAL] = inputs.sourcePrincipal;
  values[DESTINATION + PRINCIPAL] = inputs.destinationPrincipal;
  if (outbound) {
    // Istio: the policy is only known inbound.
    values[CONNECTION_SECURITY_POLICY] = UNKNOWN;
  } else {
    values[CONNECTION_SECURITY_POLICY] = inputs.mtls ? "mutual_tls" : "none";
    if (peer === null) values[SOURCE + WORKLOAD_NAMESPACE] = connection.spiffeNamespace;
  }

  // values[] holds the namespace string of a NodeMeta (or ""): stable objects, so the cache holds.
  serviceNames.resolve(inputs.host, values[DESTINATION_SERVICE_NAMESPACE]);
  values[DESTINATION_SERVICE] = serviceNames.service;
  values[DESTINATION_SERVICE_NAME] = serviceNames.name;

  values[REQUEST_PROTOCOL] = inputs.grpc ? "grpc" : "http";
  values[RESPONSE_CODE] = codeText(inputs.code);
  values[RESPONSE_FLAGS] = responseFlagsText(inputs.flags);
  for (let i = 0; i < LABEL_COUNT; i++) if (values[i].length == 0) values[i] = UNKNOWN;
  values[GRPC_RESPONSE_STATUS] = inputs.grpc ? inputs.grpcStatus.toString() : "";
}

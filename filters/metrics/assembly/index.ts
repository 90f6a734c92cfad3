/**
 * metrics: Istio's standard service metrics (istio_requests_total, istio_request_duration_milliseconds,
 * istio_request_bytes, istio_response_bytes, istio_request|response_messages_total) from a
 * proxy-wasm filter, with Istio's HTTP metadata exchange. Behaviour follows Istio 1.17's stats
 * and metadata-exchange plugins; README.md has the configuration and the rules.
 *
 * Per stream: the exchange headers are read and removed in onRequestHeaders/onResponseHeaders
 * (and this proxy's own are sent), gRPC messages are counted in the body callbacks, and
 * everything is recorded in onLog — which runs for every stream, local replies and resets too.
 */
export * from "@solo-io/proxy-runtime/assembly/exports";
// The SDK's allocator plus a scratch area for the values this filter reads in place (lib/host-memory.ts).
export { free, malloc, proxy_on_memory_allocate } from "../../lib/host-memory";
import {
  BufferTypeValues, Context, FilterDataStatusValues, FilterHeadersStatusValues, HeaderMapTypeValues, LogLevelValues, RootContext,
  get_buffer_bytes, log, registerRootContext,
} from "@solo-io/proxy-runtime/assembly";
import { fetchProperty, propertyBytes, propertyLength, propertyString, releaseProperty } from "../../lib/properties";
import { MetricsConfig, Reporter, configError, parseMetricsConfig } from "./config";
import { StreamFacts, fillValues, forgetLabelInputs, setSide } from "./dimensions";
import {
  APP, DESTINATION, DESTINATION_CANONICAL_REVISION, DESTINATION_CANONICAL_SERVICE, DESTINATION_CLUSTER, DESTINATION_SERVICE_NAMESPACE,
  LABEL_COUNT, REPORTER, SOURCE, SOURCE_CANONICAL_REVISION, SOURCE_CANONICAL_SERVICE, SOURCE_CLUSTER, VERSION, WORKLOAD,
  WORKLOAD_NAMESPACE, isGrpcContentTypeBytes,
} from "./labels";
import { NodeMeta, PeerCache, exchangeHeaderValue, nodeFromStruct } from "./node";
import { Family, buildFamilies } from "./series";
import { GrpcFrameCounter } from "./grpc-frames";
import { CachedText, cachedHeader, removeHeader, replaceHeader } from "./bytes";
import { fetchHeader, fetchedBytes, fetchedLength, releaseFetched } from "../../lib/host-values";

/** Istio's exchange headers (istio/proxy extensions/metadata_exchange/plugin.h), encoded once. */
const PEER_METADATA = "x-envoy-peer-metadata";
const PEER_METADATA_ID = "x-envoy-peer-metadata-id";
const H_PEER_METADATA = String.UTF8.encode(PEER_METADATA);
const H_PEER_METADATA_ID = String.UTF8.encode(PEER_METADATA_ID);
const H_CONTENT_TYPE = String.UTF8.encode("content-type");
const REQUEST_HEADERS: u32 = HeaderMapTypeValues.RequestHeaders;
const RESPONSE_HEADERS: u32 = HeaderMapTypeValues.ResponseHeaders;
const P_NODE_METADATA = String.UTF8.encode("node\0metadata");
const P_NODE_ID = String.UTF8.encode("node\0id");
const P_DIRECTION = String.UTF8.encode("listener_direction");
const P_REQUEST_PEER_METADATA = String.UTF8.encode("request\0headers\0" + PEER_METADATA);
const P_REQUEST_PEER_ID = String.UTF8.encode("request\0headers\0" + PEER_METADATA_ID);
/** envoy.config.core.v3.TrafficDirection */
const OUTBOUND: i64 = 2;

class MetricsRoot extends RootContext {
  config: MetricsConfig | null = null;
  families: Array<Family> = new Array();
  outbound: bool = false;
  local: NodeMeta = new NodeMeta();
  nodeId: string = "";
  /** This proxy's x-envoy-peer-metadata value, and its node id, encoded once (empty when node metadata cannot be read). */
  exchangeValue: ArrayBuffer = new ArrayBuffer(0);
  nodeIdBytes: ArrayBuffer = new ArrayBuffer(0);
  /** Last header texts seen (reused while the bytes repeat). */
  peerIdText: CachedText = new CachedText();
  peerValueText: CachedText = new CachedText();
  peers: PeerCache = new PeerCache(500);
  /** Reused by every stream (callbacks of a VM run one at a time). */
  values: Array<string> = new Array();
  facts: StreamFacts = new StreamFacts();

  onConfigure(configuration_size: u32): bool {
    const bytes = get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size);
    let listenerOutbound = false;
    if (fetchProperty(P_DIRECTION)) {
      listenerOutbound = propertyLength() == 8 && load<i64>(propertyBytes()) == OUTBOUND;
      releaseProperty();
    }
    const config = parseMetricsConfig(String.UTF8.decode(bytes), listenerOutbound);
    if (config === null) {
      // Refused: the host keeps the previous configuration (and this VM keeps recording with it).
      log(LogLevelValues.error, "metrics: configuration refused: " + configError);
      return false;
    }
    this.readLocalNode();
    const outbound = config.reporter == Reporter.FromDirection ? listenerOutbound : config.reporter == Reporter.Source;
    // Labels fixed by this proxy's identity: kept by the overflow series, left out of keys.
    const constant = new StaticArray<bool>(LABEL_COUNT + config.expressions.length);
    constant[REPORTER] = true;
    const localSide = outbound ? SOURCE : DESTINATION;
    const fixed = localSideLabels(outbound);
    for (let i = 0; i < fixed.length; i++) constant[fixed[i]] = true;
    this.families = buildFamilies(config.metrics, constant, config.maxSeriesPerMetric);
    this.values = new Array<string>(LABEL_COUNT + config.expressions.length);
    for (let i = 0; i < this.values.length; i++) this.values[i] = "";
    setSide(this.values, localSide, this.local);
    forgetLabelInputs();
    this.peers = new PeerCache(config.maxPeerCacheSize);
    this.outbound = outbound;
    this.config = config;
    log(LogLevelValues.info, "metrics: reporting as " + (outbound ? "source" : "destination") + " for workload \"" +
      this.local.workloadName + "\" in \"" + this.local.namespace + "\" (" + this.families.length.toString() + " metric families)");
    return true;
  }

  private readLocalNode(): void {
    const id = propertyString(P_NODE_ID);
    this.nodeId = id === null ? "" : id;
    if (!fetchProperty(P_NODE_METADATA)) {
      log(LogLevelValues.warn, "metrics: no node metadata; local workload labels read \"unknown\"");
      return;
    }
    const bytes = new Uint8Array(propertyLength());
    memory.copy(bytes.dataStart, propertyBytes(), <usize>bytes.length);
    releaseProperty();
    const node = nodeFromStruct(bytes, 0, bytes.length);
    if (node === null) {
      log(LogLevelValues.warn, "metrics: node metadata is not a valid google.protobuf.Struct; local workload labels read \"unknown\"");
      return;
    }
    this.local = node;
    this.exchangeValue = String.UTF8.encode(exchangeHeaderValue(bytes));
    this.nodeIdBytes = String.UTF8.encode(this.nodeId);
  }

  createContext(context_id: u32): Context {
    return new MetricsStream(context_id, this);
  }
}

class MetricsStream extends Context {
  peer: NodeMeta | null = null;
  peerSeen: bool = false;
  /** Istio's metadata_received_ / metadata_id_received_: true until request headers without them are seen. */
  metadataReceived: bool = true;
  /** The last takePeer saw a non-empty `x-envoy-peer-metadata-id` / `x-envoy-peer-metadata`. */
  idSeen: bool = false;
  metadataSeen: bool = false;
  idReceived: bool = true;
  grpc: bool = false;
  requestFrames: GrpcFrameCounter | null = null;
  responseFrames: GrpcFrameCounter | null = null;

  private get metricsRoot(): MetricsRoot { return this.root_context as MetricsRoot; }

  /**
   * Reads and strips the peer's exchange headers from `map` (istio/proxy
   * extensions/metadata_exchange/plugin.cc onRequestHeaders/onResponseHeaders): the peer only
   * when `x-envoy-peer-metadata` was sent — an id alone names no peer, as in Istio, where the
   * stats plugin reads the peer from the filter state that only a metadata header sets. A
   * cached id skips decoding the metadata (Istio's updatePeer cache), and here even looking at
   * its bytes: they are only turned into text for a peer not in the cache.
   */
  private takePeer(map: u32): NodeMeta | null {
    const root = this.metricsRoot;
    const id = cachedHeader(map, H_PEER_METADATA_ID, root.peerIdText);
    this.idSeen = id.length > 0;
    if (this.idSeen) removeHeader(map, H_PEER_METADATA_ID);
    this.metadataSeen = false;
    if (!fetchHeader(map, H_PEER_METADATA)) return null;
    const length = fetchedLength();
    let peer: NodeMeta | null = null;
    if (length > 0) {
      this.metadataSeen = true;
      const peers = root.peers;
      peer = peers.cached(id);
      if (peer === null) peer = peers.decode(id, root.peerValueText.of(fetchedBytes(), length));
    }
    releaseFetched();
    if (this.metadataSeen) removeHeader(map, H_PEER_METADATA);
    return peer;
  }

  /**
   * Sends this proxy's metadata and id in `map` (Istio: replaceRequestHeader /
   * replaceResponseHeader), each when it is known and `metadata` / `id` allow it.
   */
  private sendOwn(map: u32, metadata: bool, id: bool): void {
    const root = this.metricsRoot;
    if (metadata && root.exchangeValue.byteLength > 0) replaceHeader(map, H_PEER_METADATA, root.exchangeValue);
    if (id && root.nodeIdBytes.byteLength > 0) replaceHeader(map, H_PEER_METADATA_ID, root.nodeIdBytes);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.metricsRoot;
    // Istio strips the downstream's headers at every proxy: they never reach the application.
    const downstream = this.takePeer(REQUEST_HEADERS);
    this.peerSeen = true;
    this.metadataReceived = this.metadataSeen;
    this.idReceived = this.idSeen;
    if (!root.outbound) this.peer = downstream;
    else this.sendOwn(REQUEST_HEADERS, true, true);
    // Istio reads content-type from the request headers (extensions/common/context.cc
    // populateRequestProtocol); only whether it is a gRPC one is kept.
    if (fetchHeader(REQUEST_HEADERS, H_CONTENT_TYPE)) {
      this.grpc = isGrpcContentTypeBytes(fetchedBytes(), fetchedLength());
      releaseFetched();
    }
    if (this.grpc) {
      this.requestFrames = new GrpcFrameCounter(BufferTypeValues.HttpRequestBody);
      this.responseFrames = new GrpcFrameCounter(BufferTypeValues.HttpResponseBody);
    }
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.metricsRoot;
    if (!root.outbound && this.metadataReceived && this.idReceived && root.exchangeValue.byteLength > 0 && root.nodeIdBytes.byteLength > 0) {
      // Inbound with both of ours to send: a replace drops every value the upstream set (Envoy's
      // replaceHeaderMapValue is HeaderMap::setCopy, remove-all-then-add; our host's abi/headers.ts
      // does the same), so the headers leave exactly as after Istio's strip-then-replace. What is
      // skipped is reading the upstream's metadata, which an inbound reporter never uses.
      this.sendOwn(RESPONSE_HEADERS, true, true);
      return FilterHeadersStatusValues.Continue;
    }
    const upstream = this.takePeer(RESPONSE_HEADERS);
    if (root.outbound) {
      if (upstream !== null) this.peer = upstream;
    } else {
      // Only what the downstream sent its own of (Istio's metadata_received_ / metadata_id_received_).
      this.sendOwn(RESPONSE_HEADERS, this.metadataReceived, this.idReceived);
    }
    return FilterHeadersStatusValues.Continue;
  }

  onRequestBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    const frames = this.requestFrames;
    if (frames !== null) frames.feed(<i32>body_buffer_length);
    return FilterDataStatusValues.Continue;
  }

  onResponseBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    const frames = this.responseFrames;
    if (frames !== null) frames.feed(<i32>body_buffer_length);
    return FilterDataStatusValues.Continue;
  }

  onLog(): void {
    const root = this.metricsRoot;
    const config = root.config;
    if (config === null) return;
    if (!this.peerSeen && !root.outbound) this.peer = this.peerFromLoggedRequest();
    const facts = root.facts;
    // The filter saw the request headers (and so content-type) unless an earlier filter answered first.
    facts.grpcKnown = this.peerSeen;
    facts.grpc = this.grpc;
    const values = root.values;
    const same = fillValues(values, facts, config, root.outbound, root.local, this.peer);
    const requestFrames = this.requestFrames;
    const responseFrames = this.responseFrames;
    facts.requestMessages = requestFrames === null ? 0 : requestFrames.messages;
    facts.responseMessages = responseFrames === null ? 0 : responseFrames.messages;
    const families = root.families;
    for (let i = 0; i < families.length; i++) families[i].record(values, facts, same);
  }

  /**
   * A stream answered before this filter saw its request headers (a local reply from an earlier
   * filter): the downstream's exchange headers are still in the logged request.
   */
  private peerFromLoggedRequest(): NodeMeta | null {
    const value = propertyString(P_REQUEST_PEER_METADATA);
    if (value === null || value.length == 0) return null;
    const id = propertyString(P_REQUEST_PEER_ID);
    const peers = this.metricsRoot.peers;
    const key = id === null ? "" : id;
    const peer = peers.cached(key);
    return peer !== null ? peer : peers.decode(key, value);
  }
}

/** The labels of this proxy's own workload (not the principal: it is per connection). */
function localSideLabels(outbound: bool): Array<i32> {
  const side = outbound ? SOURCE : DESTINATION;
  const labels: Array<i32> = [side + WORKLOAD, side + WORKLOAD_NAMESPACE, side + APP, side + VERSION];
  const own: Array<i32> = outbound
    ? [SOURCE_CANONICAL_SERVICE, SOURCE_CANONICAL_REVISION, SOURCE_CLUSTER]
    : [DESTINATION_CANONICAL_SERVICE, DESTINATION_CANONICAL_REVISION, DESTINATION_CLUSTER, DESTINATION_SERVICE_NAMESPACE];
  return labels.concat(own);
}

registerRootContext((context_id: u32) => new MetricsRoot(context_id), "metrics");

/**
 * The contract between the proxy-wasm host (deployer/src/host) and its embedders:
 * `deployer run` (deployer/src/sidecar), the proxytest-style emulator used by filter tests,
 * and the benchmarks. Types only; the host implements them.
 *
 * The model follows Envoy's HTTP filter manager: a stream walks an ordered chain of wasm
 * filters; each filter may continue, pause (until proxy_continue_stream or an http call
 * response), or end the stream with a local reply.
 */

/** Header list in wire order. Names are lower-case; HTTP/2-style pseudo-headers
 * (`:method`, `:path`, `:authority`, `:scheme`, `:status`) come first, as Envoy keeps them. */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

export interface PeerCertificate {
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** RFC 2253 subject, as Envoy's `connection.subject_peer_certificate`. */
  readonly subject: string;
  /** Lower-case hex SHA-256 of the DER certificate (`*.sha256_peer_certificate_digest`). */
  readonly sha256Digest?: string;
}

export interface TlsInfo {
  /** Present when the client presented a certificate (mTLS). */
  readonly peerCertificate?: PeerCertificate;
  readonly localUriSans?: readonly string[];
  readonly localDnsSans?: readonly string[];
  readonly localSubject?: string;
  readonly requestedServerName?: string;
  readonly tlsVersion?: string;
}

/**
 * The upstream connection a stream was forwarded on: Envoy's `upstream.*` attributes
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes#upstream-attributes).
 */
export interface UpstreamInfo {
  /** Upstream host IP and port (`upstream.address` is `ip:port`, `upstream.port` the port). */
  readonly address: string;
  readonly port: number;
  /** This proxy's end of the upstream connection, `ip:port`. */
  readonly localAddress?: string;
  /** TLS of the upstream connection (absent in clear text): the peer is the upstream server. */
  readonly tls?: TlsInfo;
}

/** One downstream connection (Envoy's `source.*`, `destination.*`, `connection.*`). */
export interface ConnectionInfo {
  readonly id: number;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
  readonly tls?: TlsInfo;
}

export type HttpProtocol = 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';

export interface StreamInfo {
  readonly connection: ConnectionInfo;
  readonly protocol: HttpProtocol;
  /** Wall-clock start of the request (`request.time`). Defaults to now. */
  readonly startTime?: Date;
  /**
   * Envoy's per-stream buffer limit (the filter manager's buffer_limit_: the listener's
   * per_connection_buffer_limit_bytes for HTTP/1, http2_protocol_options.initial_stream_window_size
   * for HTTP/2). Body a filter holds with StopIterationAndBuffer past it ends the stream: 413
   * `request_payload_too_large`, or 500 / a reset `response_payload_too_large`. Absent or 0: no limit.
   */
  readonly bufferLimitBytes?: number;
}

export interface LocalReply {
  readonly status: number;
  /** Envoy's response code details, e.g. `wasm_fail_stream` or what the filter passed. */
  readonly details: string;
  readonly body: Uint8Array;
  readonly headers: HeaderList;
  /** Set when the filter passed a gRPC status (not -1 / 0xFFFFFFFF). */
  readonly grpcStatus?: number;
  /**
   * Set when a filter reset the stream with proxy_close_stream (details `wasm_close_stream`):
   * no response should be sent; reset the downstream stream (HTTP/1.1: close the connection).
   * `status` is then 0.
   */
  readonly reset?: boolean;
  /** An Envoy response flag the reply sets in the access log (e.g. `NFCF`, Envoy's missing-config filter). */
  readonly responseFlag?: string;
}

/** What the chain did with one piece of the stream. `localReply`: the stream ends with that reply. */
export type HeadersOutcome =
  | { readonly action: 'continue'; readonly headers: HeaderList; readonly endOfStream: boolean; readonly routeCacheCleared: boolean }
  | { readonly action: 'localReply'; readonly reply: LocalReply };

/** `data` is what may be forwarded now (possibly empty while a filter buffers). */
export type DataOutcome =
  | { readonly action: 'continue'; readonly data: Uint8Array; readonly endOfStream: boolean }
  | { readonly action: 'localReply'; readonly reply: LocalReply };

export type TrailersOutcome =
  | { readonly action: 'continue'; readonly trailers: HeaderList; readonly bufferedData: Uint8Array }
  | { readonly action: 'localReply'; readonly reply: LocalReply };

/** Facts known only once the upstream answered or the stream ended (`response.*`, access log). */
export interface StreamCompletion {
  readonly responseCode: number;
  readonly responseCodeDetails: string;
  /** Envoy's response flags string, e.g. `UF` (upstream failure), `UT`, `NR`, `-`. */
  readonly responseFlags: string;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Upstream cluster name (`xds.cluster_name`), when routed. */
  readonly clusterName?: string;
  readonly routeName?: string;
  /** The upstream connection, when the stream was forwarded and a connection was made. */
  readonly upstream?: UpstreamInfo;
}

/**
 * One HTTP stream through the chain. Calls are made in stream order, each after the previous
 * one resolved; a pause in a filter keeps the promise pending until it resumes.
 */
export interface FilterChainStream {
  requestHeaders(headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome>;
  requestBody(chunk: Uint8Array, endOfStream: boolean): Promise<DataOutcome>;
  requestTrailers(trailers: HeaderList): Promise<TrailersOutcome>;
  responseHeaders(headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome>;
  responseBody(chunk: Uint8Array, endOfStream: boolean): Promise<DataOutcome>;
  responseTrailers(trailers: HeaderList): Promise<TrailersOutcome>;
  /** Stream finished (or reset): runs proxy_on_log, then proxy_on_done and proxy_on_delete, in every filter (Envoy order). */
  complete(info: StreamCompletion): void;
}

export interface FilterChain {
  readonly plugins: readonly WasmPluginHandle[];
  newStream(info: StreamInfo): FilterChainStream;
}

/** A response to proxy_dispatch_http_call; `undefined` headers mean the call failed (reset/timeout). */
export interface HttpCallResponse {
  readonly headers: HeaderList;
  readonly body: Uint8Array;
  readonly trailers: HeaderList;
}

/** Which filter made an http call (optional extra argument of ClusterDispatcher.dispatch). */
export interface HttpCallInfo {
  readonly plugin: string;
  /** The token proxy_http_call returned to the filter. */
  readonly token: number;
}

/** Named upstream clusters for proxy_dispatch_http_call (Envoy: a cluster from the cluster manager). */
export interface ClusterDispatcher {
  hasCluster(name: string): boolean;
  /** Rejects on connection failure or timeout: the filter then gets on_http_call_response with no headers. */
  dispatch(cluster: string, headers: HeaderList, body: Uint8Array, trailers: HeaderList, timeoutMs: number, call?: HttpCallInfo): Promise<HttpCallResponse>;
}

export type ListenerDirection = 'INBOUND' | 'OUTBOUND' | 'UNSPECIFIED';

export interface NodeInfo {
  readonly id: string;
  readonly cluster: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';

export interface LogEntry {
  readonly level: LogLevel;
  readonly plugin: string;
  readonly message: string;
}

/** Fields named as in envoy.extensions.wasm.v3.PluginConfig / VmConfig. */
export interface PluginSpec {
  readonly name: string;
  readonly rootId: string;
  /** VMs with the same vm_id share shared data and queues (Envoy). Defaults to "". */
  readonly vmId?: string;
  readonly wasm: Uint8Array;
  /** Handed to proxy_on_configure (PluginConfiguration buffer). */
  readonly configuration: string;
  /** Handed to proxy_on_vm_start (VmConfiguration buffer). */
  readonly vmConfiguration?: string;
  /** Envoy's `fail_open`: on a VM failure the stream passes instead of getting a 503. */
  readonly failOpen: boolean;
  /** VMs per plugin, Envoy's one-per-worker model. Defaults to 1. */
  readonly workers?: number;
}

export interface WasmPluginHandle {
  readonly spec: PluginSpec;
  /** Re-run proxy_on_configure on every VM; a refused config throws and the last good one stays. */
  reconfigure(configuration: string): Promise<void>;
}

export interface MetricSample {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** counter/gauge value; histogram: sum. */
  readonly value: number;
  /** histogram only: cumulative bucket counts by upper bound, and the sample count. */
  readonly buckets?: ReadonlyArray<readonly [upperBound: number, cumulativeCount: number]>;
  readonly count?: number;
}

export interface HostOptions {
  readonly clusters?: ClusterDispatcher;
  readonly node?: NodeInfo;
  readonly listenerDirection?: ListenerDirection;
  /** Receives every proxy_log line (filtered by logLevel). */
  readonly onLog?: (entry: LogEntry) => void;
  readonly logLevel?: LogLevel;
}

/** One proxy's worth of wasm state: shared data, shared queues and the stats store span its plugins. */
export interface ProxyWasmHost {
  loadPlugin(spec: PluginSpec): Promise<WasmPluginHandle>;
  newFilterChain(plugins: readonly WasmPluginHandle[]): FilterChain;
  metrics(): readonly MetricSample[];
  /**
   * Retires one plugin (its VMs get proxy_on_done and are freed); shared data, queues and stats
   * stay with the host. Used by `deployer run` reloads once no stream uses the plugin.
   */
  unloadPlugin?(plugin: WasmPluginHandle): void;
  /** Stops timers and pending http calls; VMs get proxy_on_done. */
  close(): Promise<void>;
}

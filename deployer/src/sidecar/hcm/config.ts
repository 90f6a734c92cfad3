/**
 * The sidecar's HTTP connection manager (HCM) settings, named and defaulted as Envoy's
 * envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto)
 * and set to what an Istio sidecar's inbound HCM gets: normalize_path true (MeshConfig
 * pathNormalization BASE, Istio's default), merge_slashes false, escaped slashes kept.
 */

/** HttpConnectionManager.PathWithEscapedSlashesAction; IMPLEMENTATION_SPECIFIC_DEFAULT is KEEP_UNCHANGED in Envoy. */
export const ESCAPED_SLASHES_ACTIONS = ['KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'] as const;
export type EscapedSlashesAction = (typeof ESCAPED_SLASHES_ACTIONS)[number];

/** MeshConfig.ProxyPathNormalization.NormalizationType (DEFAULT is BASE). */
export type MeshPathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

export interface PathNormalizationConfig {
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  readonly escapedSlashesAction: EscapedSlashesAction;
}

export interface HcmConfig extends PathNormalizationConfig {
  /** max_request_headers_kb (Envoy default 60, at most 8192). */
  readonly maxRequestHeadersKb: number;
  /** common_http_protocol_options.max_headers_count (Envoy default 100). */
  readonly maxHeadersCount: number;
  /** common_http_protocol_options.idle_timeout: a connection without streams is closed (default 1 h; 0 disables). */
  readonly idleTimeoutMs: number;
  /** common_http_protocol_options.max_stream_duration (default none = 0). */
  readonly maxStreamDurationMs: number;
  /** stream_idle_timeout (default 5 min; 0 disables). */
  readonly streamIdleTimeoutMs: number;
  /** request_headers_timeout (default 0 = disabled). */
  readonly requestHeadersTimeoutMs: number;
  /** request_timeout (default 0 = disabled). */
  readonly requestTimeoutMs: number;
  /**
   * drain_timeout (default 5 s): on drain, the time between HTTP/2's shutdown notice (GOAWAY with
   * the highest stream id) and the final GOAWAY (conn_manager_impl.cc startDrainSequence).
   */
  readonly drainTimeoutMs: number;
  /**
   * delayed_close_timeout (default 1 s; 0 disables): how long an HTTP/1 connection closed after an
   * early response keeps reading the rest of the request before it closes (hcm/early-response.ts).
   */
  readonly delayedCloseTimeoutMs: number;
  /** strip_trailing_host_dot (default false, as Istio leaves it). */
  readonly stripTrailingHostDot: boolean;
  /**
   * http_protocol_options.accept_http_10 (default false: Envoy answers HTTP/1.0 with 426; istiod
   * turns it on only with PILOT_HTTP10=1).
   */
  readonly acceptHttp10: boolean;
  /**
   * http2_protocol_options.initial_stream_window_size (Envoy default 268435456, 65535..2147483647):
   * also the HTTP/2 stream's buffer limit, which bounds what filters may buffer on HTTP/2
   * (source/common/http/http2/codec_impl.cc per_stream_buffer_limit_).
   */
  readonly http2InitialStreamWindowSize: number;
  /**
   * http2_protocol_options.initial_connection_window_size (same default and range as the stream
   * window): the connection-level flow-control window, opened with a WINDOW_UPDATE on stream 0
   * when a connection starts (codec_impl.cc: nghttp2_session_set_local_window_size). Without it
   * node keeps HTTP/2's initial 65,535 bytes for the whole connection, so concurrent uploads
   * share one 64 KiB window however large each stream's is.
   */
  readonly http2InitialConnectionWindowSize: number;
}

/** Listener.per_connection_buffer_limit_bytes default (1 MiB): the HTTP/1 stream buffer limit. */
export const DEFAULT_PER_CONNECTION_BUFFER_LIMIT_BYTES = 1024 * 1024;

/**
 * The overload manager's global downstream connection limit
 * (envoy.resource_monitors.global_downstream_max_connections, max_active_downstream_connections):
 * past it the listener closes new connections at accept; existing ones are untouched.
 */
export interface OverloadConfig {
  readonly maxActiveDownstreamConnections: number;
}

export const DEFAULT_HCM: HcmConfig = {
  normalizePath: true,
  mergeSlashes: false,
  escapedSlashesAction: 'KEEP_UNCHANGED',
  maxRequestHeadersKb: 60,
  maxHeadersCount: 100,
  idleTimeoutMs: 3_600_000,
  maxStreamDurationMs: 0,
  streamIdleTimeoutMs: 300_000,
  requestHeadersTimeoutMs: 0,
  requestTimeoutMs: 0,
  drainTimeoutMs: 5000,
  delayedCloseTimeoutMs: 1000,
  stripTrailingHostDot: false,
  acceptHttp10: false,
  http2InitialStreamWindowSize: 268_435_456,
  http2InitialConnectionWindowSize: 268_435_456,
};

/**
 * What istiod writes into the HCM for each MeshConfig pathNormalization mode
 * (istio/istio pilot/pkg/networking/core/listener_builder.go, "Setup normalization":
 * PathWithEscapedSlashesAction = KEEP_UNCHANGED first; NONE → NormalizePath false;
 * BASE/DEFAULT → NormalizePath true; MERGE_SLASHES → + MergeSlashes; DECODE_AND_MERGE_SLASHES →
 * + UNESCAPE_AND_FORWARD).
 */
export function pathNormalizationForMesh(mode: MeshPathNormalization): PathNormalizationConfig {
  switch (mode) {
    case 'NONE': return { normalizePath: false, mergeSlashes: false, escapedSlashesAction: 'KEEP_UNCHANGED' };
    case 'BASE': return { normalizePath: true, mergeSlashes: false, escapedSlashesAction: 'KEEP_UNCHANGED' };
    case 'MERGE_SLASHES': return { normalizePath: true, mergeSlashes: true, escapedSlashesAction: 'KEEP_UNCHANGED' };
    case 'DECODE_AND_MERGE_SLASHES': return { normalizePath: true, mergeSlashes: true, escapedSlashesAction: 'UNESCAPE_AND_FORWARD' };
  }
}

/**
 * Default connection cap: half of what the open-files limit leaves after a reserve for the admin
 * listener, upstream pools and wasm modules (each downstream connection may hold one upstream).
 */
export function defaultMaxDownstreamConnections(openFilesLimit: number | undefined): number {
  if (openFilesLimit === undefined || !Number.isFinite(openFilesLimit)) return 10_000;
  return Math.max(64, Math.floor((openFilesLimit - 256) / 2));
}

/** The `http_connection_manager` block of sidecar.yaml after the schema check (Envoy's field names). */
export interface RawHcmFields {
  readonly normalize_path?: boolean;
  readonly merge_slashes?: boolean;
  readonly path_with_escaped_slashes_action?: string;
  readonly max_request_headers_kb?: number;
  readonly common_http_protocol_options?: { readonly idle_timeout?: string; readonly max_headers_count?: number; readonly max_stream_duration?: string };
  readonly http_protocol_options?: { readonly accept_http_10?: boolean };
  readonly http2_protocol_options?: { readonly initial_stream_window_size?: number; readonly initial_connection_window_size?: number };
  readonly stream_idle_timeout?: string;
  readonly request_headers_timeout?: string;
  readonly request_timeout?: string;
  readonly drain_timeout?: string;
  readonly delayed_close_timeout?: string;
  readonly strip_trailing_host_dot?: boolean;
}

/** Fields left out keep the Istio sidecar defaults; `0s` disables a timeout, as in Envoy. */
export function resolveHcmConfig(raw: RawHcmFields | undefined, durationMs: (text: string) => number): HcmConfig {
  if (!raw) return DEFAULT_HCM;
  const ms = (text: string | undefined, fallback: number) => (text === undefined ? fallback : durationMs(text));
  const action = raw.path_with_escaped_slashes_action;
  const common = raw.common_http_protocol_options ?? {};
  return {
    normalizePath: raw.normalize_path ?? DEFAULT_HCM.normalizePath,
    mergeSlashes: raw.merge_slashes ?? DEFAULT_HCM.mergeSlashes,
    escapedSlashesAction: action === undefined || action === 'IMPLEMENTATION_SPECIFIC_DEFAULT' ? 'KEEP_UNCHANGED' : action as EscapedSlashesAction,
    maxRequestHeadersKb: raw.max_request_headers_kb ?? DEFAULT_HCM.maxRequestHeadersKb,
    maxHeadersCount: common.max_headers_count ?? DEFAULT_HCM.maxHeadersCount,
    idleTimeoutMs: ms(common.idle_timeout, DEFAULT_HCM.idleTimeoutMs),
    maxStreamDurationMs: ms(common.max_stream_duration, DEFAULT_HCM.maxStreamDurationMs),
    streamIdleTimeoutMs: ms(raw.stream_idle_timeout, DEFAULT_HCM.streamIdleTimeoutMs),
    requestHeadersTimeoutMs: ms(raw.request_headers_timeout, DEFAULT_HCM.requestHeadersTimeoutMs),
    requestTimeoutMs: ms(raw.request_timeout, DEFAULT_HCM.requestTimeoutMs),
    drainTimeoutMs: ms(raw.drain_timeout, DEFAULT_HCM.drainTimeoutMs),
    delayedCloseTimeoutMs: ms(raw.delayed_close_timeout, DEFAULT_HCM.delayedCloseTimeoutMs),
    stripTrailingHostDot: raw.strip_trailing_host_dot ?? DEFAULT_HCM.stripTrailingHostDot,
    acceptHttp10: raw.http_protocol_options?.accept_http_10 ?? DEFAULT_HCM.acceptHttp10,
    http2InitialStreamWindowSize: raw.http2_protocol_options?.initial_stream_window_size ?? DEFAULT_HCM.http2InitialStreamWindowSize,
    http2InitialConnectionWindowSize: raw.http2_protocol_options?.initial_connection_window_size ?? DEFAULT_HCM.http2InitialConnectionWindowSize,
  };
}

/** The soft RLIMIT_NOFILE of this process ("Max open files" in /proc/self/limits), if readable. */
export function openFilesLimit(readLimits: () => string): number | undefined {
  try {
    const line = readLimits().split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

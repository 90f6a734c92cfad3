import type { ListenerDirection, NodeInfo } from '../../host/api.js';
import type { StatsTagSpec } from '../stats-tags.js';
import type { HcmConfig, OverloadConfig } from '../hcm/config.js';

/**
 * The validated, resolved form of a sidecar.yaml (`deployer run --config`). Field names of the
 * YAML follow envoy.extensions.filters.http.wasm.v3 / envoy.config.route.v3 where they overlap;
 * these types are what the rest of the sidecar works with (paths resolved, durations in ms).
 */

import type { Re2Regex } from '../../regex/engine.js';

export interface ListenAddress {
  readonly host: string;
  /** 0 asks the OS for a free port (tests, demo). */
  readonly port: number;
}

export interface TlsListenerConfig {
  /** PEM server certificate chain (absolute path). */
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM CA bundle that client certificates must chain to; clients must present one (mTLS). */
  readonly clientCaFile: string;
}

export interface WasmFilterConfig {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  /** Absolute path of the .wasm module. */
  readonly wasmFile: string;
  /** JSON text (or the raw string) handed to proxy_on_configure. */
  readonly configuration: string;
  /** Handed to proxy_on_vm_start. */
  readonly vmConfiguration: string;
  readonly failOpen: boolean;
}

export interface ClusterConfig {
  readonly name: string;
  readonly url: URL;
  /** Envoy's cluster connect_timeout (default 5 s). */
  readonly connectTimeoutMs: number;
  /** TLS for an https:// cluster (Envoy's UpstreamTlsContext); absent for http://. */
  readonly tls?: UpstreamTlsConfig;
}

/**
 * TLS to an https:// cluster. With `caFile`, the upstream's certificate must chain to it and, as
 * in Envoy, its name is not checked unless `subjectAltNames` lists the accepted URI/DNS SANs;
 * without, Node's default CAs and a host name check apply (a plain https client).
 */
export interface UpstreamTlsConfig {
  /** Absolute paths of PEM files. */
  readonly caFile?: string;
  /** Client certificate chain and key presented to the upstream (mTLS). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** SNI sent (default: the URL's host when it is a name). */
  readonly sni?: string;
  readonly subjectAltNames?: readonly string[];
}

/**
 * envoy.type.matcher.v3.StringMatcher. `ignoreCase` applies to the literal kinds only: Envoy
 * ignores ignore_case for safe_regex. Regexes run on the RE2 engine the filters use.
 */
export type StringMatch =
  | { readonly kind: 'exact' | 'prefix' | 'suffix' | 'contains'; readonly value: string; readonly ignoreCase?: boolean }
  | { readonly kind: 'regex'; readonly value: Re2Regex };

/** envoy.config.route.v3.HeaderMatcher, the commonly used subset. */
export interface HeaderMatcher {
  readonly name: string;
  /** Absent: the header must be present (present_match). */
  readonly match?: StringMatch;
  readonly invert: boolean;
}

export type PathMatch =
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'path'; readonly value: string }
  | { readonly kind: 'regex'; readonly value: Re2Regex };

export interface RouteConfig {
  readonly name: string;
  readonly path: PathMatch;
  readonly headers: readonly HeaderMatcher[];
  readonly cluster: string;
  /** Envoy's route timeout (default 15 s); 0 disables it. */
  readonly timeoutMs: number;
}

export interface SidecarConfig {
  /** `http_connection_manager` (Envoy's HttpConnectionManager fields; Istio sidecar defaults). */
  readonly hcm: HcmConfig;
  /** `access_log_format`: Envoy's default line, or the one an Istio sidecar writes. */
  readonly accessLogFormat: 'envoy' | 'istio';
  /** `overload`: the downstream connection cap. */
  readonly overload: OverloadConfig;
  readonly listen: ListenAddress;
  /**
   * `per_connection_buffer_limit_bytes` (Envoy's Listener field, default 1 MiB): how much request or
   * response body filters may buffer on an HTTP/1 stream before Envoy answers 413 / 500.
   */
  readonly perConnectionBufferLimitBytes: number;
  readonly admin: ListenAddress;
  readonly workers: number;
  readonly tls?: TlsListenerConfig;
  readonly filters: readonly WasmFilterConfig[];
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  readonly routes: readonly RouteConfig[];
  /** Envoy node (id, cluster, Istio node metadata) the filters read; default: a bare local node. */
  readonly node?: NodeInfo;
  /** `listener_direction` the filters see (metrics: reporter); default INBOUND. */
  readonly listenerDirection?: ListenerDirection;
  /** Envoy `stats_config.stats_tags` applied to wasm metrics on /stats/prometheus; default Istio's sidecar tags. */
  readonly statsTags?: readonly StatsTagSpec[];
}

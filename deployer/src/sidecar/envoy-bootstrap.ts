import path from 'node:path';
import { ISTIO_ACCESS_LOG_FORMAT } from './access-log.js';
import type { ClusterConfig, HeaderMatcher, PathMatch, SidecarConfig, StringMatch } from './config/types.js';
import { upstreamTlsSocket } from './envoy-upstream-tls.js';
import type { HcmConfig } from './hcm/config.js';
import { ISTIO_STATS_TAGS } from './stats-tags.js';

export interface EnvoyBootstrapOptions {
  /** Folder the .wasm files are in where Envoy runs (e.g. /etc/wasmesh/filters in a container). */
  readonly wasmDir: string;
  /** HCM stat_prefix; Istio names its inbound one like this. */
  readonly statPrefix?: string;
}

type Json = Record<string, unknown>;

/** Envoy's default format, spelled out (the sidecar's access-log.ts writes the same fields). */
export const ENVOY_DEFAULT_ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" ' +
  '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

const any = (type: string, value: Json): Json => ({ '@type': `type.googleapis.com/${type}`, ...value });

/**
 * The Envoy bootstrap equivalent to a sidecar.yaml: the same listener (codec AUTO: HTTP/1.1 and
 * h2c), the same wasm filters in order via envoy.filters.http.wasm, the same routes and clusters,
 * admin and a stdout access log in Envoy's default format. Field names as in Envoy's v3 API
 * (envoy.config.bootstrap.v3.Bootstrap).
 */
export function toEnvoyBootstrap(config: SidecarConfig, options: EnvoyBootstrapOptions): Json {
  const statPrefix = options.statPrefix ?? `inbound_${config.listen.host}_${config.listen.port}`;
  const hcm = any('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
    stat_prefix: statPrefix,
    codec_type: 'AUTO',
    ...hcmSettings(config.hcm),
    access_log: [{
      name: 'envoy.access_loggers.stdout',
      typed_config: any('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', {
        log_format: { text_format_source: { inline_string: config.accessLogFormat === 'istio' ? ISTIO_ACCESS_LOG_FORMAT : ENVOY_DEFAULT_ACCESS_LOG_FORMAT } },
      }),
    }],
    route_config: {
      name: 'sidecar',
      virtual_hosts: [{ name: 'inbound', domains: ['*'], routes: config.routes.map((route) => ({
        name: route.name,
        match: { ...pathMatch(route.path), ...(route.headers.length ? { headers: route.headers.map(headerMatcher) } : {}) },
        route: { cluster: route.cluster, timeout: `${route.timeoutMs / 1000}s` },
      })) }],
    },
    http_filters: [
      ...config.filters.map((filter) => ({
        name: 'envoy.filters.http.wasm',
        typed_config: any('envoy.extensions.filters.http.wasm.v3.Wasm', {
          config: {
            name: filter.name,
            root_id: filter.rootId,
            fail_open: filter.failOpen,
            configuration: any('google.protobuf.StringValue', { value: filter.configuration }),
            vm_config: {
              ...(filter.vmId ? { vm_id: filter.vmId } : {}),
              runtime: 'envoy.wasm.runtime.v8',
              code: { local: { filename: path.posix.join(options.wasmDir, path.basename(filter.wasmFile)) } },
              ...(filter.vmConfiguration ? { configuration: any('google.protobuf.StringValue', { value: filter.vmConfiguration }) } : {}),
            },
          },
        }),
      })),
      { name: 'envoy.filters.http.router', typed_config: any('envoy.extensions.filters.http.router.v3.Router', {}) },
    ],
  });
  // Istio's inbound listener is `virtualInbound`, INBOUND (the metrics filter's reporter=destination).
  const listener: Json = {
    name: 'virtualInbound',
    traffic_direction: 'INBOUND',
    address: { socket_address: { address: config.listen.host, port_value: config.listen.port } },
    per_connection_buffer_limit_bytes: config.perConnectionBufferLimitBytes,
    filter_chains: [{
      filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }],
      ...(config.tls ? { transport_socket: downstreamTls(config.tls.certFile, config.tls.keyFile, config.tls.clientCaFile) } : {}),
    }],
  };
  return {
    node: config.node
      ? { id: config.node.id, cluster: config.node.cluster, ...(Object.keys(config.node.metadata).length ? { metadata: config.node.metadata } : {}) }
      : { id: 'wasmesh-sidecar', cluster: 'wasmesh' },
    // The sidecar applies Istio's sidecar stats_tags by default (stats-tags.ts); Envoy needs them spelled out.
    stats_config: {
      use_all_default_tags: false,
      stats_tags: (config.statsTags ?? ISTIO_STATS_TAGS).map((tag) => ({ tag_name: tag.tagName, regex: tag.regex })),
    },
    static_resources: {
      listeners: [listener],
      clusters: [...config.clusters.values()].map(envoyCluster),
    },
    admin: { address: { socket_address: { address: config.admin.host, port_value: config.admin.port } } },
    // The sidecar's connection cap (deployer/src/sidecar/hcm/config.ts OverloadConfig).
    overload_manager: {
      resource_monitors: [{
        name: 'envoy.resource_monitors.global_downstream_max_connections',
        typed_config: any('envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig', {
          max_active_downstream_connections: config.overload.maxActiveDownstreamConnections,
        }),
      }],
    },
  };
}

/** One endpoint, resolved by DNS as the sidecar resolves it; https:// clusters speak TLS (port 443 by default). */
function envoyCluster(cluster: ClusterConfig): Json {
  const https = cluster.url.protocol === 'https:';
  return {
    name: cluster.name,
    type: 'STRICT_DNS',
    connect_timeout: `${cluster.connectTimeoutMs / 1000}s`,
    load_assignment: {
      cluster_name: cluster.name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: {
        address: cluster.url.hostname.replace(/^\[|\]$/g, ''), port_value: Number(cluster.url.port || (https ? 443 : 80)),
      } } } }] }],
    },
    ...(https ? { transport_socket: upstreamTlsSocket(cluster.url, cluster.tls ?? {}) } : {}),
  };
}

/** The HttpConnectionManager fields the sidecar's HCM stage implements, under Envoy's names. */
export function hcmSettings(hcm: HcmConfig): Json {
  const duration = (ms: number) => `${ms / 1000}s`;
  return {
    normalize_path: hcm.normalizePath,
    merge_slashes: hcm.mergeSlashes,
    path_with_escaped_slashes_action: hcm.escapedSlashesAction,
    max_request_headers_kb: hcm.maxRequestHeadersKb,
    common_http_protocol_options: {
      idle_timeout: duration(hcm.idleTimeoutMs),
      max_headers_count: hcm.maxHeadersCount,
      ...(hcm.maxStreamDurationMs > 0 ? { max_stream_duration: duration(hcm.maxStreamDurationMs) } : {}),
    },
    http_protocol_options: { accept_http_10: hcm.acceptHttp10 },
    http2_protocol_options: { initial_stream_window_size: hcm.http2InitialStreamWindowSize, initial_connection_window_size: hcm.http2InitialConnectionWindowSize },
    stream_idle_timeout: duration(hcm.streamIdleTimeoutMs),
    request_headers_timeout: duration(hcm.requestHeadersTimeoutMs),
    request_timeout: duration(hcm.requestTimeoutMs),
    drain_timeout: duration(hcm.drainTimeoutMs),
    delayed_close_timeout: duration(hcm.delayedCloseTimeoutMs),
    strip_trailing_host_dot: hcm.stripTrailingHostDot,
  };
}

function downstreamTls(cert: string, key: string, ca: string): Json {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: any('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', {
      require_client_certificate: true,
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { filename: cert }, private_key: { filename: key } }],
        validation_context: { trusted_ca: { filename: ca } },
        alpn_protocols: ['h2', 'http/1.1'],
      },
    }),
  };
}

function pathMatch(match: PathMatch): Json {
  return match.kind === 'regex' ? { safe_regex: { regex: match.value.pattern } } : { [match.kind]: match.value };
}

function headerMatcher(matcher: HeaderMatcher): Json {
  return {
    name: matcher.name,
    ...(matcher.match ? { string_match: stringMatch(matcher.match) } : { present_match: true }),
    ...(matcher.invert ? { invert_match: true } : {}),
  };
}

function stringMatch(match: StringMatch): Json {
  if (match.kind === 'regex') return { safe_regex: { regex: match.value.pattern } };
  return { [match.kind]: match.value, ...(match.ignoreCase ? { ignore_case: true } : {}) };
}

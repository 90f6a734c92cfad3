import type { SidecarConfig } from '../config/types.js';
import type { HcmConfig } from './config.js';

/** sidecar.yaml field (Envoy's HttpConnectionManager name) of each HCM setting, and how its value prints. */
const HCM_FIELDS: { readonly [K in keyof HcmConfig]-?: readonly [field: string, unit: 'ms' | 'plain'] } = {
  normalizePath: ['http_connection_manager.normalize_path', 'plain'],
  mergeSlashes: ['http_connection_manager.merge_slashes', 'plain'],
  escapedSlashesAction: ['http_connection_manager.path_with_escaped_slashes_action', 'plain'],
  maxRequestHeadersKb: ['http_connection_manager.max_request_headers_kb', 'plain'],
  maxHeadersCount: ['http_connection_manager.common_http_protocol_options.max_headers_count', 'plain'],
  idleTimeoutMs: ['http_connection_manager.common_http_protocol_options.idle_timeout', 'ms'],
  maxStreamDurationMs: ['http_connection_manager.common_http_protocol_options.max_stream_duration', 'ms'],
  streamIdleTimeoutMs: ['http_connection_manager.stream_idle_timeout', 'ms'],
  requestHeadersTimeoutMs: ['http_connection_manager.request_headers_timeout', 'ms'],
  requestTimeoutMs: ['http_connection_manager.request_timeout', 'ms'],
  drainTimeoutMs: ['http_connection_manager.drain_timeout', 'ms'],
  delayedCloseTimeoutMs: ['http_connection_manager.delayed_close_timeout', 'ms'],
  stripTrailingHostDot: ['http_connection_manager.strip_trailing_host_dot', 'plain'],
  acceptHttp10: ['http_connection_manager.http_protocol_options.accept_http_10', 'plain'],
  http2InitialStreamWindowSize: ['http_connection_manager.http2_protocol_options.initial_stream_window_size', 'plain'],
  http2InitialConnectionWindowSize: ['http_connection_manager.http2_protocol_options.initial_connection_window_size', 'plain'],
};

const show = (value: unknown, unit: 'ms' | 'plain') => (unit === 'ms' ? `${Number(value) / 1000}s` : String(value));

/**
 * The listener-level settings a reload changes, one `field: old → new` line each, named as in
 * sidecar.yaml: the HCM stage, the connection cap, the buffer limit and the access log format.
 */
export function listenerSettingChanges(running: SidecarConfig, next: SidecarConfig): string[] {
  const changes: string[] = [];
  for (const key of Object.keys(HCM_FIELDS) as (keyof HcmConfig)[]) {
    const [field, unit] = HCM_FIELDS[key];
    if (running.hcm[key] !== next.hcm[key]) changes.push(`${field}: ${show(running.hcm[key], unit)} → ${show(next.hcm[key], unit)}`);
  }
  const other: readonly [string, unknown, unknown][] = [
    ['overload.max_active_downstream_connections', running.overload.maxActiveDownstreamConnections, next.overload.maxActiveDownstreamConnections],
    ['per_connection_buffer_limit_bytes', running.perConnectionBufferLimitBytes, next.perConnectionBufferLimitBytes],
    ['access_log_format', running.accessLogFormat, next.accessLogFormat],
  ];
  for (const [field, before, after] of other) if (before !== after) changes.push(`${field}: ${String(before)} → ${String(after)}`);
  return changes;
}

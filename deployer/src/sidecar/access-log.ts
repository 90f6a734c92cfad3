import type { HeaderList, HttpProtocol } from '../host/api.js';
import { headerValue } from './routing.js';

/** What one finished request contributes to its access log line. */
export interface AccessLogEntry {
  readonly startTime: Date;
  readonly requestHeaders: HeaderList;
  readonly responseHeaders: HeaderList;
  readonly protocol: HttpProtocol;
  /** 0 when no response was started (client went away), as Envoy logs it. */
  readonly responseCode: number;
  readonly responseFlags: string;
  /** %RESPONSE_CODE_DETAILS%, e.g. via_upstream, http1.codec_error. */
  readonly responseCodeDetails?: string;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly durationMs: number;
  /** `ip:port` of the upstream host, when one was picked. */
  readonly upstreamHost?: string;
  readonly clusterName?: string;
  readonly routeName?: string;
  /** `ip:port` of the listener side and of the client, for the Istio format. */
  readonly downstreamLocalAddress?: string;
  readonly downstreamRemoteAddress?: string;
}

/** `envoy`: Envoy's default format; `istio`: the format an Istio sidecar logs with (meshConfig.accessLogFile). */
export type AccessLogFormat = 'envoy' | 'istio';

/**
 * Envoy's default access log format
 * (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#default-format-string):
 *
 *   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 *   %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 *   "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
 *
 * Unset values print as "-"; START_TIME is ISO 8601 UTC with milliseconds.
 */
export function formatAccessLogLine(entry: AccessLogEntry, format: AccessLogFormat = 'envoy'): string {
  const req = (name: string) => orDash(headerValue(entry.requestHeaders, name));
  const path = headerValue(entry.requestHeaders, 'x-envoy-original-path') ?? headerValue(entry.requestHeaders, ':path');
  const head = `[${entry.startTime.toISOString()}] "${req(':method')} ${orDash(path)} ${entry.protocol}" ` +
    `${entry.responseCode} ${entry.responseFlags || '-'} `;
  const tail = `${entry.bytesReceived} ${entry.bytesSent} ${Math.round(entry.durationMs)} ` +
    `${orDash(headerValue(entry.responseHeaders, 'x-envoy-upstream-service-time'))} ` +
    `"${req('x-forwarded-for')}" "${req('user-agent')}" "${req('x-request-id')}" "${req(':authority')}" "${orDash(entry.upstreamHost)}"`;
  if (format === 'envoy') return head + tail;
  // Istio's default text format (istio/istio pilot/pkg/model/telemetry_logging.go EnvoyTextLogFormat):
  // adds %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%"
  // and, after the upstream host, cluster, upstream local address, downstream local and remote
  // addresses, SNI and route name.
  return head + `${orDash(entry.responseCodeDetails)} - "-" ` + tail +
    ` ${orDash(entry.clusterName)} - ${orDash(entry.downstreamLocalAddress)} ${orDash(entry.downstreamRemoteAddress)} - ${orDash(entry.routeName)}`;
}

export const ISTIO_ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% ' +
  '%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

function orDash(value: string | undefined): string {
  return value === undefined || value === '' ? '-' : value;
}

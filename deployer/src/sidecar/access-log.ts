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
}

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
export function formatAccessLogLine(entry: AccessLogEntry): string {
  const req = (name: string) => orDash(headerValue(entry.requestHeaders, name));
  const path = headerValue(entry.requestHeaders, 'x-envoy-original-path') ?? headerValue(entry.requestHeaders, ':path');
  return `[${entry.startTime.toISOString()}] "${req(':method')} ${orDash(path)} ${entry.protocol}" ` +
    `${entry.responseCode} ${entry.responseFlags || '-'} ${entry.bytesReceived} ${entry.bytesSent} ${Math.round(entry.durationMs)} ` +
    `${orDash(headerValue(entry.responseHeaders, 'x-envoy-upstream-service-time'))} ` +
    `"${req('x-forwarded-for')}" "${req('user-agent')}" "${req('x-request-id')}" "${req(':authority')}" "${orDash(entry.upstreamHost)}"`;
}

function orDash(value: string | undefined): string {
  return value === undefined || value === '' ? '-' : value;
}

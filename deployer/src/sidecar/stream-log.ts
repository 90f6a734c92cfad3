/**
 * The end of one stream (stream-handler.ts finish): its response flags, the filter chain's
 * completion (proxy_on_log / on_done / on_delete) and the access log line.
 */
import { formatAccessLogLine } from './access-log.js';
import type { StreamHandler } from './stream-handler.js';
import { addresses } from './stream-flow.js';

/** Envoy's response flags as the access log prints them: each once, comma-separated, `-` for none. */
function responseFlagsOf(flags: readonly string[]): string {
  if (flags.length === 0) return '-';
  if (flags.length === 1) return flags[0]!;
  return [...new Set(flags)].join(',');
}

/** Completes the chain and writes the access log line; `completed`: the response was sent whole. */
export function logStream(h: StreamHandler, completed: boolean): void {
  const responseFlags = responseFlagsOf(h.flags);
  const details = h.details || (completed ? 'via_upstream' : 'downstream_remote_disconnect');
  const route = h.route;
  try {
    h.stream?.complete({
      responseCode: h.responseCode,
      responseCodeDetails: details,
      responseFlags,
      bytesReceived: h.bytesReceived,
      bytesSent: h.bytesSent,
      clusterName: route?.cluster,
      routeName: route?.name,
      ...(h.upstreamConnection !== undefined ? { upstream: h.upstreamConnection } : {}),
    });
  } catch (error) {
    h.ctx.onError(error);
  }
  if (h.ctx.accessLog === undefined) return;
  h.ctx.accessLog(formatAccessLogLine({
    startTime: h.startTime,
    requestHeaders: h.requestHeaders,
    responseHeaders: h.responseHeadersSent,
    protocol: h.ex.protocol,
    responseCode: h.responseCode,
    responseFlags,
    responseCodeDetails: details,
    bytesReceived: h.bytesReceived,
    bytesSent: h.bytesSent,
    durationMs: performance.now() - h.startedAt,
    upstreamHost: h.upstreamHost,
    clusterName: route?.cluster,
    routeName: route?.name,
    ...(h.target.accessLogFormat === 'istio' ? addresses(h.ex.connection) : {}),
  }, h.target.accessLogFormat));
}

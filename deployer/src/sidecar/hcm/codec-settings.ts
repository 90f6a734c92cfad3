/**
 * The codec settings an HCM configuration gives node's HTTP/1 and HTTP/2 servers, shared by the
 * plaintext listener (a new codec per settings version) and the TLS listener (one server whose
 * settings are updated in place on reload).
 */
import type http from 'node:http';
import type http2 from 'node:http2';
import type { HcmConfig } from './config.js';

/** The HTTP/1 timeouts of node's server for these settings (http.ServerOptions names). */
export interface Http1Timeouts {
  readonly keepAliveTimeout: number;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly connectionsCheckingInterval: number;
}

export function http1Timeouts(settings: HcmConfig): Http1Timeouts {
  // Until the headers are complete Envoy's stream is bounded by request_headers_timeout, else by
  // stream_idle_timeout (the stream exists from the first byte).
  const headersTimeout = settings.requestHeadersTimeoutMs || settings.streamIdleTimeoutMs || 0;
  return {
    // common_http_protocol_options.idle_timeout between requests of a keep-alive connection.
    keepAliveTimeout: settings.idleTimeoutMs,
    headersTimeout,
    // request_timeout / stream_idle_timeout after the headers: StreamHandler's timers.
    requestTimeout: 0,
    // node checks the header timeout on this period: a quarter of it, within 50 ms..1 s.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor((headersTimeout || 4000) / 4))),
  };
}

/**
 * Applies the HTTP/1 timeouts to a server already listening (the TLS listener's HTTP/1.1 over
 * ALPN): node reads keepAliveTimeout, headersTimeout and requestTimeout on each use; the header
 * timeout check is re-armed with the new period (node's 'listening' handler,
 * setupConnectionsTracking, replaces its interval timer).
 */
export function applyHttp1Timeouts(server: http.Server | http2.Http2SecureServer, timeouts: Http1Timeouts): void {
  const target = server as unknown as { -readonly [K in keyof Http1Timeouts]: number };
  target.keepAliveTimeout = timeouts.keepAliveTimeout;
  target.headersTimeout = timeouts.headersTimeout;
  target.requestTimeout = timeouts.requestTimeout;
  const rearm = target.connectionsCheckingInterval !== timeouts.connectionsCheckingInterval;
  target.connectionsCheckingInterval = timeouts.connectionsCheckingInterval;
  if (rearm && server.listening && server.listeners('listening').some((listener) => listener.name === 'setupConnectionsTracking')) server.emit('listening');
}

/**
 * The HTTP/2 SETTINGS Envoy advertises for these settings (source/common/http/http2/codec_impl.cc):
 * max_request_headers_kb as SETTINGS_MAX_HEADER_LIST_SIZE and
 * http2_protocol_options.initial_stream_window_size as SETTINGS_INITIAL_WINDOW_SIZE.
 */
export function http2Settings(settings: HcmConfig): http2.Settings {
  return { maxHeaderListSize: settings.maxRequestHeadersKb * 1024, initialWindowSize: settings.http2InitialStreamWindowSize };
}

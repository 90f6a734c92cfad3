import http from 'node:http';
import { constants as osConstants } from 'node:os';
import type { HeaderList } from '../host/api.js';
import type { ClusterConfig } from './config/types.js';
import { pseudo, toNodeHeaders } from './headers.js';

/** Why an upstream request failed before a response started, in Envoy's reset-reason terms. */
export type UpstreamFailureKind = 'connection_failure' | 'connection_timeout' | 'connection_termination';

export class UpstreamFailure extends Error {
  constructor(readonly kind: UpstreamFailureKind, readonly transportReason?: string) {
    super(`upstream ${kind.replace('_', ' ')}${transportReason ? ` (${transportReason})` : ''}`);
    this.name = 'UpstreamFailure';
  }
}

/** Keep-alive connection pool per cluster (Envoy's per-cluster HTTP/1.1 connection pool). */
export class ClusterPool {
  private readonly agent: http.Agent;

  constructor(readonly cluster: ClusterConfig) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo', noDelay: true });
  }

  get hostPort(): string {
    return `${this.cluster.url.hostname}:${this.cluster.url.port || '80'}`;
  }

  /**
   * Starts a request to the cluster; the body is written by the caller as it streams in.
   * `:authority` is kept as the Host header (Envoy forwards the downstream authority unchanged
   * unless the route rewrites it).
   */
  request(headers: HeaderList): { readonly request: http.ClientRequest; readonly response: Promise<http.IncomingMessage> } {
    const authority = pseudo(headers, ':authority');
    const nodeHeaders = toNodeHeaders(headers);
    if (authority) nodeHeaders.host = authority;
    const request = http.request({
      host: this.cluster.url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(this.cluster.url.port || 80),
      method: pseudo(headers, ':method') ?? 'GET',
      path: pseudo(headers, ':path') ?? '/',
      headers: nodeHeaders,
      agent: this.agent,
      setHost: false,
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      let connectTimer: NodeJS.Timeout | undefined;
      request.on('socket', (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => {
          request.destroy(new UpstreamFailure('connection_timeout'));
        }, this.cluster.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      request.once('response', (res) => {
        clearTimeout(connectTimer);
        resolve(res);
      });
      request.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        reject(classifyError(error));
      });
    });
    // The caller may abort before awaiting the response; the rejection is handled there.
    response.catch(() => undefined);
    return { request, response };
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Envoy's body for a failed connect reads "transport failure reason: delayed connect error: 111"
 * on Linux (the errno of ECONNREFUSED), see source/common/network/connection_impl.cc.
 */
function classifyError(error: NodeJS.ErrnoException): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  const connectErrors = ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'];
  if (error.code && connectErrors.includes(error.code)) {
    const errno = (osConstants.errno as Record<string, number | undefined>)[error.code];
    return new UpstreamFailure('connection_failure', errno === undefined ? error.code : `delayed connect error: ${errno}`);
  }
  return new UpstreamFailure('connection_termination');
}

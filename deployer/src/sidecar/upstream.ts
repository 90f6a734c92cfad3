import http from 'node:http';
import { constants as osConstants } from 'node:os';
import { Pool } from 'undici';
import type { HeaderList } from '../host/api.js';
import type { ClusterConfig } from './config/types.js';
import { NodeUpstreamCall, UndiciUpstreamCall } from './upstream-calls.js';

/** Why an upstream request failed before a response started, in Envoy's reset-reason terms. */
export type UpstreamFailureKind = 'connection_failure' | 'connection_timeout' | 'connection_termination';

export class UpstreamFailure extends Error {
  constructor(readonly kind: UpstreamFailureKind, readonly transportReason?: string) {
    super(`upstream ${kind.replace('_', ' ')}${transportReason ? ` (${transportReason})` : ''}`);
    this.name = 'UpstreamFailure';
  }
}

/** An upstream response once its headers arrived. */
export interface UpstreamResponse {
  readonly status: number;
  /** `:status` first, names lower-cased, hop-by-hop headers removed (headers.ts responseHeaderList). */
  readonly headers: [string, string][];
  /**
   * Streams the body chunk by chunk, waiting for each `onChunk` (backpressure); resolves at the
   * end or when `onChunk` answers false, rejects when the upstream resets mid-body. `last` is
   * true for the final chunk of a response already complete without trailers (known when the
   * whole rest arrived in one read), so the caller can end the stream with it.
   */
  readBody(onChunk: (chunk: Uint8Array, last: boolean) => Promise<boolean>): Promise<void>;
  /** Throws the body away (HEAD, 204, 304). */
  discard(): void;
  /** The whole body (and trailers) arrived. */
  readonly complete: boolean;
  trailers(): [string, string][];
}

/** One request to a cluster: the body (if any) is written by the caller as it streams in. */
export interface UpstreamCall {
  /** Resolves with the response headers; rejects with an UpstreamFailure. Never unhandled. */
  readonly response: Promise<UpstreamResponse>;
  /** A request body chunk; resolves once the upstream can take more. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the request body, with its last bytes and trailers. */
  end(last?: Uint8Array, trailers?: HeaderList): void;
  /** Resets the request (route timeout, downstream reset, local reply). */
  destroy(): void;
  readonly destroyed: boolean;
}

/**
 * Keep-alive connection pool per cluster (Envoy's per-cluster HTTP/1.1 connection pool).
 * Requests without a body, the common case, go through undici's Pool: its client writes and
 * parses HTTP/1.1 without node's ClientRequest/IncomingMessage/Agent machinery, about half the
 * CPU per request of http.request (bench/sidecar.ts). A request with a body keeps node's client,
 * because undici cannot send request trailers (gRPC and chunked uploads carry them, and Envoy
 * forwards them).
 */
export class ClusterPool {
  private agent: http.Agent | undefined;
  private readonly pool: Pool;
  private readonly host: string;
  private readonly port: number;

  constructor(readonly cluster: ClusterConfig) {
    this.host = cluster.url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(cluster.url.port || 80);
    this.pool = new Pool(`http://${cluster.url.host || `${cluster.url.hostname}:${this.port}`}`, {
      connections: null,
      pipelining: 1,
      connectTimeout: cluster.connectTimeoutMs,
      // The route timeout (stream-handler.ts) bounds a request, as Envoy's router does; undici's
      // own header and body timeouts would answer differently.
      headersTimeout: 0,
      bodyTimeout: 0,
      // Envoy's HTTP/1 codec lets filters change a body without fixing content-length.
      strictContentLength: false,
    });
    // A reset pooled connection is reported to the request on it (handler.onError).
    this.pool.on('connectionError', () => undefined);
  }

  get hostPort(): string {
    return `${this.cluster.url.hostname}:${this.cluster.url.port || '80'}`;
  }

  /**
   * Starts a request to the cluster. `:authority` is kept as the Host header (Envoy forwards the
   * downstream authority unchanged unless the route rewrites it). `hasBody` false: the request
   * ends with its headers.
   */
  request(headers: HeaderList, hasBody: boolean): UpstreamCall {
    if (!hasBody) return new UndiciUpstreamCall(this.pool, headers);
    this.agent ??= new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo', noDelay: true });
    return new NodeUpstreamCall(this.agent, this.host, this.port, this.cluster.connectTimeoutMs, headers);
  }

  close(): void {
    this.agent?.destroy();
    void this.pool.destroy().catch(() => undefined);
  }
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Envoy's body for a failed connect reads "transport failure reason: delayed connect error: 111"
 * on Linux (the errno of ECONNREFUSED), see source/common/network/connection_impl.cc.
 */
export function classifyUpstreamError(error: NodeJS.ErrnoException): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  if (error.code === 'UND_ERR_CONNECT_TIMEOUT') return new UpstreamFailure('connection_timeout');
  if (error.code && CONNECT_ERRORS.has(error.code)) {
    const errno = (osConstants.errno as Record<string, number | undefined>)[error.code];
    return new UpstreamFailure('connection_failure', errno === undefined ? error.code : `delayed connect error: ${errno}`);
  }
  return new UpstreamFailure('connection_termination');
}

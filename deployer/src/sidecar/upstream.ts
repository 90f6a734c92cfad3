import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Socket } from 'node:net';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import { buildConnector, Pool } from 'undici';
import type { HeaderList, UpstreamInfo } from '../host/api.js';
import type { ClusterConfig, UpstreamTlsConfig } from './config/types.js';
import { parseSubjectAltNames, upstreamTlsInfo } from './tls-info.js';
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
  /**
   * The connection the response came on: node's client carries it; an undici call learns it when
   * its request is written (upstream-calls.ts onSendHeaders). Undefined when unknown.
   */
  readonly socket?: Socket | null;
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
 * Keep-alive connection pool per cluster (Envoy's per-cluster HTTP/1.1 connection pool); TLS
 * (Envoy's UpstreamTlsContext) for an https:// cluster.
 *
 * On an http:// cluster, requests without a body, the common case, go through undici's Pool: its
 * client writes and parses HTTP/1.1 without node's ClientRequest/IncomingMessage/Agent machinery,
 * about half the CPU per request of http.request (bench/sidecar.ts). A request with a body keeps
 * node's client, because undici cannot send request trailers (gRPC and chunked uploads carry
 * them, and Envoy forwards them). An https:// cluster uses node's https client for every request:
 * its Agent carries the cluster's CA/cert/key/SNI/SAN checks, and the TLS socket gives the
 * handshake failures (UF, TLS_error) and the upstream.* TLS facts.
 */
export class ClusterPool {
  private agent: http.Agent | undefined;
  private readonly pool: Pool | undefined;
  private readonly host: string;
  private readonly port: number;
  private readonly tls: UpstreamTlsConfig | undefined;
  /** Envoy's upstream.* facts per node connection: fixed while it lives, shared by its requests. */
  private readonly connections = new WeakMap<Socket, UpstreamInfo>();
  /**
   * What an undici request whose connection is unknown (upstream-calls.ts onSendHeaders did not
   * see it) answers: the address the cluster last connected to, without a local address.
   */
  private undiciInfo: UpstreamInfo | undefined;

  constructor(readonly cluster: ClusterConfig) {
    this.tls = cluster.url.protocol === 'https:' ? cluster.tls ?? {} : undefined;
    this.host = cluster.url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(cluster.url.port || (this.tls === undefined ? 80 : 443));
    if (this.tls !== undefined) {
      // Built now, so an unreadable CA/cert/key fails the configuration, not a request.
      this.agent = new https.Agent({ ...AGENT_OPTIONS, ...agentTlsOptions(cluster, this.tls) });
      return;
    }
    const connector = buildConnector({ timeout: cluster.connectTimeoutMs });
    this.pool = new Pool(`http://${cluster.url.host || `${cluster.url.hostname}:${this.port}`}`, {
      connections: null,
      pipelining: 1,
      connect: (options, callback) => connector(options, (...args) => {
        const socket = args[1];
        if (socket != null && socket.remoteAddress !== undefined) {
          this.undiciInfo = { address: socket.remoteAddress, port: socket.remotePort ?? this.port };
        }
        callback(...args);
      }),
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
    return `${this.cluster.url.hostname}:${this.cluster.url.port || String(this.port)}`;
  }

  /** The upstream.* facts of the connection `response` arrived on. */
  upstreamInfo(response: UpstreamResponse): UpstreamInfo | undefined {
    const socket = response.socket;
    if (socket === undefined) return this.undiciInfo;
    if (socket === null) return undefined;
    let info = this.connections.get(socket);
    if (info === undefined) {
      const address = socket.remoteAddress;
      if (address === undefined) return undefined;
      info = {
        address,
        port: socket.remotePort ?? this.port,
        ...(socket.localAddress !== undefined ? { localAddress: hostPort(socket.localAddress, socket.localPort ?? 0) } : {}),
        ...(socket instanceof TLSSocket ? { tls: upstreamTlsInfo(socket) } : {}),
      };
      this.connections.set(socket, info);
    }
    return info;
  }

  /**
   * Starts a request to the cluster. `:authority` is kept as the Host header (Envoy forwards the
   * downstream authority unchanged unless the route rewrites it). `hasBody` false: the request
   * ends with its headers.
   */
  request(headers: HeaderList, hasBody: boolean): UpstreamCall {
    if (!hasBody && this.pool !== undefined) return new UndiciUpstreamCall(this.pool, headers);
    this.agent ??= new http.Agent(AGENT_OPTIONS);
    return new NodeUpstreamCall(this.agent, this.tls !== undefined, this.host, this.port, this.cluster.connectTimeoutMs, headers);
  }

  close(): void {
    this.agent?.destroy();
    void this.pool?.destroy().catch(() => undefined);
  }
}

const AGENT_OPTIONS = { keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' as const, noDelay: true };

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);
export function isConnectError(error: NodeJS.ErrnoException): boolean {
  return error.code !== undefined && CONNECT_ERRORS.has(error.code);
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Node TLS options for a cluster. With a CA, the chain is verified and — as Envoy, which checks
 * names only when the validation context lists them — the name only against `subjectAltNames`
 * (URI or DNS SANs, exact), so an Istio workload certificate (a SPIFFE URI, no DNS name) is
 * accepted by address. Without a CA: Node's default trust store and host name check.
 */
function agentTlsOptions(cluster: ClusterConfig, tls: UpstreamTlsConfig): https.AgentOptions {
  const host = cluster.url.hostname.replace(/^\[|\]$/g, '');
  const sni = tls.sni ?? (isIP(host) === 0 ? host : undefined);
  const wanted = tls.subjectAltNames;
  return {
    ...(tls.caFile !== undefined ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls.certFile !== undefined ? { cert: readFileSync(tls.certFile) } : {}),
    ...(tls.keyFile !== undefined ? { key: readFileSync(tls.keyFile) } : {}),
    ...(sni !== undefined ? { servername: sni } : {}),
    ...(tls.caFile !== undefined ? {
      checkServerIdentity: (_name: string, cert: PeerCertificate): Error | undefined => {
        if (wanted === undefined) return undefined;
        const sans = parseSubjectAltNames(cert.subjectaltname);
        return [...sans.uri, ...sans.dns].some((san) => wanted.includes(san))
          ? undefined
          : new Error(`upstream certificate SANs ${JSON.stringify(cert.subjectaltname ?? '')} match none of ${wanted.join(', ')}`);
      },
    } : {}),
  };
}

/**
 * Envoy's body for a failed connect reads "transport failure reason: delayed connect error: 111"
 * on Linux (the errno of ECONNREFUSED), see source/common/network/connection_impl.cc.
 */
export function classifyUpstreamError(error: NodeJS.ErrnoException): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  if (error.code === 'UND_ERR_CONNECT_TIMEOUT') return new UpstreamFailure('connection_timeout');
  if (isConnectError(error) && error.code !== undefined) {
    const errno = (osConstants.errno as Record<string, number | undefined>)[error.code];
    return new UpstreamFailure('connection_failure', errno === undefined ? error.code : `delayed connect error: ${errno}`);
  }
  return new UpstreamFailure('connection_termination');
}

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Socket } from 'node:net';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import type { HeaderList, UpstreamInfo } from '../host/api.js';
import type { ClusterConfig, UpstreamTlsConfig } from './config/types.js';
import { pseudo, toNodeHeaders } from './headers.js';
import { parseSubjectAltNames, upstreamTlsInfo } from './tls-info.js';

/** Why an upstream request failed before a response started, in Envoy's reset-reason terms. */
export type UpstreamFailureKind = 'connection_failure' | 'connection_timeout' | 'connection_termination';

export class UpstreamFailure extends Error {
  constructor(readonly kind: UpstreamFailureKind, readonly transportReason?: string) {
    super(`upstream ${kind.replace('_', ' ')}${transportReason ? ` (${transportReason})` : ''}`);
    this.name = 'UpstreamFailure';
  }
}

/**
 * Keep-alive connection pool per cluster (Envoy's per-cluster HTTP/1.1 connection pool); TLS
 * (Envoy's UpstreamTlsContext) for an https:// cluster.
 */
export class ClusterPool {
  private readonly agent: http.Agent;
  private readonly defaultPort: number;
  /** Envoy's upstream.* facts per connection: fixed while it lives, shared by its requests. */
  private readonly connections = new WeakMap<Socket, UpstreamInfo>();

  constructor(readonly cluster: ClusterConfig) {
    const options = { keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' as const, noDelay: true };
    const tls = cluster.url.protocol === 'https:' ? cluster.tls ?? {} : undefined;
    this.defaultPort = tls === undefined ? 80 : 443;
    this.agent = tls === undefined ? new http.Agent(options) : new https.Agent({ ...options, ...agentTlsOptions(cluster, tls) });
  }

  get hostPort(): string {
    return `${this.cluster.url.hostname}:${this.cluster.url.port || String(this.defaultPort)}`;
  }

  /** The upstream.* facts of the connection `response` arrived on. */
  upstreamInfo(response: http.IncomingMessage): UpstreamInfo | undefined {
    const socket = response.socket;
    if (!socket) return undefined;
    let info = this.connections.get(socket);
    if (info === undefined) {
      const address = socket.remoteAddress;
      if (address === undefined) return undefined;
      info = {
        address,
        port: socket.remotePort ?? this.defaultPort,
        ...(socket.localAddress !== undefined ? { localAddress: hostPort(socket.localAddress, socket.localPort ?? 0) } : {}),
        ...(socket instanceof TLSSocket ? { tls: upstreamTlsInfo(socket) } : {}),
      };
      this.connections.set(socket, info);
    }
    return info;
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
    const request = (this.defaultPort === 443 ? https : http).request({
      host: this.cluster.url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(this.cluster.url.port || this.defaultPort),
      method: pseudo(headers, ':method') ?? 'GET',
      path: pseudo(headers, ':path') ?? '/',
      headers: nodeHeaders,
      agent: this.agent,
      setHost: false,
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      let connectTimer: NodeJS.Timeout | undefined;
      /** A new TLS connection whose handshake has not completed (a reused one has). */
      let handshaking = false;
      request.on('socket', (socket) => {
        if (!socket.connecting) return;
        if (this.defaultPort === 443) {
          handshaking = true;
          socket.once('secureConnect', () => { handshaking = false; });
        }
        connectTimer = setTimeout(() => {
          request.destroy(new UpstreamFailure('connection_timeout'));
        }, this.cluster.connectTimeoutMs);
        // A TLS cluster's connect timeout covers the handshake too (Envoy: connect_timeout runs
        // until the transport socket is connected).
        socket.once(this.defaultPort === 443 ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      request.once('response', (res) => {
        clearTimeout(connectTimer);
        resolve(res);
      });
      request.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        // Envoy: a failed TLS handshake is a connection failure (UF), reason "TLS_error: …".
        const tlsFailure = handshaking && !(error instanceof UpstreamFailure) && !isConnectError(error);
        reject(tlsFailure ? new UpstreamFailure('connection_failure', `TLS_error: ${error.message}`) : classifyError(error));
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

const CONNECT_ERRORS = ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'];
function isConnectError(error: NodeJS.ErrnoException): boolean {
  return error.code !== undefined && CONNECT_ERRORS.includes(error.code);
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
function classifyError(error: NodeJS.ErrnoException): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  if (isConnectError(error) && error.code !== undefined) {
    const errno = (osConstants.errno as Record<string, number | undefined>)[error.code];
    return new UpstreamFailure('connection_failure', errno === undefined ? error.code : `delayed connect error: ${errno}`);
  }
  return new UpstreamFailure('connection_termination');
}

import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ConnectionInfo, HttpProtocol } from '../host/api.js';
import { listenOn } from './listen.js';
import type { ListenAddress, TlsListenerConfig } from './config/types.js';
import type { DownstreamRequest } from './headers.js';
import { tlsInfoOf } from './tls-info.js';

export type DownstreamResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface DownstreamExchange {
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  readonly connection: ConnectionInfo;
  readonly protocol: HttpProtocol;
  readonly scheme: 'http' | 'https';
}

export interface ListenerEvents {
  onRequest(exchange: DownstreamExchange): void;
  onConnection(kind: { readonly http2: boolean; readonly tls: boolean }): void;
  onConnectionClosed(): void;
}

export interface DataListener {
  readonly address: ListenAddress;
  /** Drain: no new connections; open ones keep being served until `close`. */
  stopAccepting(): void;
  close(): Promise<void>;
}

/** RFC 9113 §3.4: an h2c client with prior knowledge opens with this 24-octet preface. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * The downstream listener: HTTP/1.1 and h2c (prior knowledge) on one port, told apart by the
 * connection preface as Envoy's `codec_type: AUTO` does
 * (source/common/http/conn_manager_utility.cc determineNextProtocol); with `tls`, HTTP/2 or
 * HTTP/1.1 over TLS chosen by ALPN, with a client certificate required and verified.
 */
export async function startDataListener(address: ListenAddress, tls: TlsListenerConfig | undefined, events: ListenerEvents): Promise<DataListener> {
  const connections = new ConnectionRegistry();
  const h1Handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    const protocol: HttpProtocol = req.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
    events.onRequest({ req, res, connection: connections.forSocket(socket), protocol, scheme: tls ? 'https' : 'http' });
  };
  const h2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    if (req.httpVersionMajor === 1) {
      // allowHTTP1 on the TLS listener hands HTTP/1.1 requests to the same handler.
      h1Handler(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
      return;
    }
    events.onRequest({ req, res, connection: connections.forSession(req.stream.session!), protocol: 'HTTP/2', scheme: tls ? 'https' : 'http' });
  };

  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      events.onConnectionClosed();
    });
  };

  let server: net.Server;
  if (tls) {
    const secure = http2.createSecureServer({
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
      ca: readFileSync(tls.clientCaFile),
      requestCert: true,
      // Fail closed: a client without a certificate chaining to client_ca never gets a stream.
      rejectUnauthorized: true,
      allowHTTP1: true,
    }, h2Handler);
    secure.on('secureConnection', (socket: TLSSocket) => {
      socket.setNoDelay(true);
      track(socket);
      events.onConnection({ http2: socket.alpnProtocol === 'h2', tls: true });
    });
    secure.on('tlsClientError', () => undefined);
    server = secure;
  } else {
    const h1 = http.createServer({ keepAliveTimeout: 60_000 }, h1Handler);
    const h2 = http2.createServer({}, h2Handler);
    h1.on('clientError', (_error, socket) => socket.destroy());
    // noDelay: the HTTP codecs write headers and body separately; Nagle + delayed ACK would stall them.
    server = net.createServer({ noDelay: true }, (socket) => {
      track(socket);
      sniffPreface(socket, (isHttp2) => {
        events.onConnection({ http2: isHttp2, tls: false });
        if (isHttp2) {
          h2.emit('connection', socket);
        } else {
          h1.emit('connection', socket);
          // The sniffer paused the socket; the HTTP/1 parser reads in flowing mode.
          socket.resume();
        }
      });
    });
  }
  server.on('error', () => undefined);

  const bound = await listenOn(server, address);
  // server.close() may run once: a second call would wait for a 'close' event already emitted.
  let stopped: Promise<void> | undefined;
  const stopAccepting = () => (stopped ??= new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    address: bound,
    stopAccepting: () => { void stopAccepting(); },
    close: () => {
      const done = stopAccepting();
      for (const socket of sockets) socket.destroy();
      return done;
    },
  };
}

/**
 * Reads until the bytes either diverge from the HTTP/2 preface or complete it, then puts them
 * back for the chosen codec.
 */
function sniffPreface(socket: net.Socket, decide: (isHttp2: boolean) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const compared = Math.min(buffered.length, H2_PREFACE.length);
    const isPrefix = buffered.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
    if (isPrefix && buffered.length < H2_PREFACE.length) return;
    socket.off('data', onData);
    socket.off('error', onError);
    socket.pause();
    socket.unshift(buffered);
    decide(isPrefix);
  };
  const onError = () => socket.destroy();
  socket.on('data', onData);
  socket.on('error', onError);
}

/** One ConnectionInfo per downstream connection (socket for HTTP/1, session for HTTP/2). */
class ConnectionRegistry {
  private nextId = 1;
  private readonly bySocket = new WeakMap<object, ConnectionInfo>();

  forSocket(socket: net.Socket): ConnectionInfo {
    let info = this.bySocket.get(socket);
    if (!info) {
      info = this.describe(socket);
      this.bySocket.set(socket, info);
    }
    return info;
  }

  forSession(session: http2.Http2Session): ConnectionInfo {
    let info = this.bySocket.get(session);
    if (!info) {
      // session.socket is a proxy that forwards reads and method calls to the real socket.
      info = this.describe(session.socket as net.Socket);
      this.bySocket.set(session, info);
    }
    return info;
  }

  private describe(socket: net.Socket): ConnectionInfo {
    const encrypted = (socket as TLSSocket).encrypted === true;
    return {
      id: this.nextId++,
      sourceAddress: stripV4Mapped(socket.remoteAddress ?? ''),
      sourcePort: socket.remotePort ?? 0,
      destinationAddress: stripV4Mapped(socket.localAddress ?? ''),
      destinationPort: socket.localPort ?? 0,
      tls: encrypted ? tlsInfoOf(socket as TLSSocket) : undefined,
    };
  }
}

function stripV4Mapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

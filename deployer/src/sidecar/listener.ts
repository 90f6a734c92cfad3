import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ConnectionInfo, HttpProtocol } from '../host/api.js';
import { listenOn } from './listen.js';
import type { ListenAddress, TlsListenerConfig } from './config/types.js';
import type { DownstreamRequest } from './headers.js';
import { http1RejectionBytes, rejectionForParserError } from './hcm/codec-errors.js';
import type { HcmConfig, OverloadConfig } from './hcm/config.js';
import { applyHttp1Timeouts, http1Timeouts, http2Settings } from './hcm/codec-settings.js';
import { trackPrematureResets } from './hcm/premature-reset.js';
import type { HcmRejection } from './hcm/request-checks.js';
import { closeAfterCurrentResponse, drainSession } from './drain.js';
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
  /** Accepted (counted at once, so a connection closed before its protocol is known still balances). */
  onConnectionOpened(): void;
  onConnectionClosed(): void;
  /** The codec was chosen (preface or ALPN). */
  onProtocol(kind: { readonly http2: boolean; readonly tls: boolean }): void;
  /** Refused at accept by the overload manager's connection cap. */
  onOverflow(): void;
  /** An HTTP/1 request the codec refused (already answered), for the access log and stats. */
  onCodecRejection(rejection: HcmRejection, protocol: HttpProtocol, connection: ConnectionInfo, bytesReceived: number): void;
  /** An HTTP/2 stream the client reset before its request was dispatched. */
  onResetBeforeDispatch(): void;
  /** An HTTP/2 connection closed for too many premature stream resets (CVE-2023-44487). */
  onPrematureResetClose(): void;
}

export interface DataListener {
  readonly address: ListenAddress;
  /** Drain: no new connections; open ones keep being served until `close`. */
  stopAccepting(): void;
  /**
   * Live reload of the HCM settings and the connection cap: connections accepted from now on get
   * them (new codecs, as an updated Envoy listener gets new filter chains); open connections keep
   * the codec settings they started with. The cap applies to new connections at once.
   */
  reconfigure(hcm: HcmConfig, overload: OverloadConfig): void;
  /**
   * Drain (Envoy's drain sequence, conn_manager_impl.cc startDrainSequence): every HTTP/2
   * connection gets a shutdown notice, then after drain_timeout the final GOAWAY with the last
   * stream id it processed, and closes once its open streams finish; idle HTTP/1 connections are
   * closed; a busy one answers its current request with `connection: close` (or, if the response
   * already started, is closed after it).
   */
  drainConnections(): void;
  /** Resolves once every downstream connection has closed, or after `timeoutMs`. */
  whenConnectionsClosed(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface ListenerOptions {
  readonly address: ListenAddress;
  readonly tls?: TlsListenerConfig;
  readonly hcm: HcmConfig;
  readonly overload: OverloadConfig;
}

/** RFC 9113 §3.4: an h2c client with prior knowledge opens with this 24-octet preface. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * The downstream listener: HTTP/1.1 and h2c (prior knowledge) on one port, told apart by the
 * connection preface as Envoy's `codec_type: AUTO` does
 * (source/common/http/conn_manager_utility.cc determineNextProtocol); with `tls`, HTTP/2 or
 * HTTP/1.1 over TLS chosen by ALPN, with a client certificate required and verified.
 * Nothing a client sends may throw out of here: every socket, session and stream has an error
 * handler, and a stream already reset when its request is dispatched is dropped.
 */
export async function startDataListener(options: ListenerOptions, events: ListenerEvents): Promise<DataListener> {
  const { tls } = options;
  /** Settings new connections get (live reload replaces them; see `reconfigure`). */
  let hcm = options.hcm;
  const connections = new ConnectionRegistry();
  const scheme = tls ? 'https' : 'http';
  const h1Handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const protocol: HttpProtocol = req.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
    events.onRequest({ req, res, connection: connections.forSocket(req.socket), protocol, scheme });
  };
  const h2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    if (req.httpVersionMajor === 1) {
      // allowHTTP1 on the TLS listener hands HTTP/1.1 requests to the same handler.
      h1Handler(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
      return;
    }
    // Dispatched after the rest of this read is parsed: a RST_STREAM that came in the same packet
    // as the HEADERS (rapid reset, CVE-2023-44487) then finds the stream closed, and it never
    // reaches the filters or opens an upstream request.
    setImmediate(() => {
      const session = req.stream.destroyed || req.stream.closed ? undefined : req.stream.session;
      if (!session || session.destroyed) {
        events.onResetBeforeDispatch();
        return;
      }
      try {
        events.onRequest({ req, res, connection: connections.forSession(session), protocol: 'HTTP/2', scheme });
      } catch {
        res.destroy();
      }
    });
  };
  const guarded = <A extends unknown[]>(handler: (...args: A) => void) => (...args: A) => {
    try {
      handler(...args);
    } catch {
      // A handler bug must not take the listener down; the stream's close handler logs it.
    }
  };

  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  const closedWaiters: (() => void)[] = [];
  /** Sockets whose protocol is known (handed to a codec); the others have sent nothing useful yet. */
  const decided = new WeakSet<net.Socket>();
  let draining = false;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    events.onConnectionOpened();
    socket.on('error', () => undefined);
    socket.once('close', () => {
      sockets.delete(socket);
      events.onConnectionClosed();
      if (sockets.size === 0) for (const wake of closedWaiters.splice(0)) wake();
    });
  };

  const h2Options = (settings: HcmConfig): http2.ServerOptions => ({
    // Envoy advertises max_request_headers_kb as SETTINGS_MAX_HEADER_LIST_SIZE and counts
    // headers against max_headers_count (source/common/http/http2/codec_impl.cc).
    // and initial_stream_window_size as SETTINGS_INITIAL_WINDOW_SIZE.
    settings: http2Settings(settings),
    maxHeaderListPairs: Math.max(4, settings.maxHeadersCount),
    // Flood limits nghttp2 enforces with GOAWAY, as Envoy's max_outbound_control_frames etc.
    maxSessionInvalidFrames: 1000,
    maxSessionRejectedStreams: 100,
    maxOutstandingPings: 10,
    maxSettings: 32,
  });
  const onSession = (session: http2.Http2Session) => {
    session.on('error', () => undefined);
    session.on('stream', (stream: http2.ServerHttp2Stream) => { stream.on('error', () => undefined); });
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    trackPrematureResets(session, events.onPrematureResetClose);
    // http2_protocol_options.initial_connection_window_size: Envoy opens the connection window
    // with a WINDOW_UPDATE on stream 0 right after its SETTINGS (codec_impl.cc).
    if (hcm.http2InitialConnectionWindowSize > 65_535) session.setLocalWindowSize(hcm.http2InitialConnectionWindowSize);
    if (draining) drainSession(session, hcm.drainTimeoutMs);
    if (hcm.idleTimeoutMs > 0) {
      // common_http_protocol_options.idle_timeout: a connection without streams gets GOAWAY.
      session.setTimeout(hcm.idleTimeoutMs, () => {
        if (!session.destroyed) session.close();
      });
    }
  };

  const closers: (() => void)[] = [];
  const drainers: (() => void)[] = [];
  let server: net.Server;
  let reconfigureCodecs: (settings: HcmConfig) => void;
  if (tls) {
    const secure = http2.createSecureServer({
      ...h2Options(hcm),
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
      ca: readFileSync(tls.clientCaFile),
      requestCert: true,
      // Fail closed: a client without a certificate chaining to client_ca never gets a stream.
      rejectUnauthorized: true,
      allowHTTP1: true,
    }, guarded(h2Handler));
    // HTTP/1.1 over TLS gets the plaintext codec's timeouts (node's allowHTTP1 defaults are
    // 60 s for the headers and 300 s per request, with no keep-alive idle timeout).
    applyHttp1Timeouts(secure, http1Timeouts(hcm));
    secure.on('connection', track);
    const tlsHttp1 = new Set<TLSSocket>();
    drainers.push(() => { for (const socket of tlsHttp1) closeAfterCurrentResponse(socket, true); });
    secure.on('secureConnection', (socket: TLSSocket) => {
      socket.setNoDelay(true);
      // `sockets` holds the TCP socket the TLS socket wraps (node's TLSSocket._parent).
      decided.add((socket as TLSSocket & { _parent?: net.Socket })._parent ?? socket);
      if (socket.alpnProtocol !== 'h2') {
        tlsHttp1.add(socket);
        socket.once('close', () => tlsHttp1.delete(socket));
      }
      events.onProtocol({ http2: socket.alpnProtocol === 'h2', tls: true });
    });
    secure.on('session', onSession);
    secure.on('tlsClientError', () => undefined);
    // HTTP/1.1 over TLS (allowHTTP1) is parsed by node's HTTP/1 server code on this server:
    // the same header-count backstop and codec-error replies apply.
    (secure as unknown as { maxHeadersCount: number }).maxHeadersCount = hcm.maxHeadersCount + 1;
    let secureHcm = hcm;
    secure.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
      answerClientError(error, socket, secureHcm, (rejection) => {
        events.onCodecRejection(rejection, 'HTTP/1.1', connections.forSocket(socket), socket.bytesRead);
      });
    });
    // One TLS server for every connection: what it can change in place applies to new sessions
    // (SETTINGS, the header-count backstop); the HCM stage's own checks follow each request's generation.
    reconfigureCodecs = (settings) => {
      secureHcm = settings;
      secure.updateSettings(http2Settings(settings));
      applyHttp1Timeouts(secure, http1Timeouts(settings));
      (secure as unknown as { maxHeadersCount: number }).maxHeadersCount = settings.maxHeadersCount + 1;
    };
    server = secure;
  } else {
    const createCodecs = (settings: HcmConfig): PlainCodecs => {
      const h1 = http.createServer({
        ...http1Timeouts(settings),
        // Node's header-size ceiling is only a backstop: the HCM stage applies Envoy's exact
        // max_request_headers_kb (sum of names and values) and answers 431 itself.
        maxHeaderSize: settings.maxRequestHeadersKb * 1024 * 2 + 16 * 1024,
        // A missing Host is the HCM's to answer (400 missing_host_header), not node's.
        requireHostHeader: false,
      }, guarded(h1Handler));
      // Past the limit node drops headers silently; one more than the limit lets the HCM see it.
      h1.maxHeadersCount = settings.maxHeadersCount + 1;
      // This server never listens itself (the sniffer hands it sockets), so start node's periodic
      // header-timeout check the way listen() would; close() stops it.
      h1.emit('listening');
      h1.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
        answerClientError(error, socket, settings, (rejection) => {
          events.onCodecRejection(rejection, 'HTTP/1.1', connections.forSocket(socket), socket.bytesRead);
        });
      });
      const h2 = http2.createServer(h2Options(settings), guarded(h2Handler));
      h2.on('session', onSession);
      return { h1, h2, settings, sockets: new Set() };
    };
    let codecs = createCodecs(hcm);
    const retired = new Set<PlainCodecs>();
    const retireIfIdle = (old: PlainCodecs) => {
      if (old === codecs || old.sockets.size > 0) return;
      retired.delete(old);
      old.h1.close();
    };
    closers.push(() => {
      for (const old of [codecs, ...retired]) old.h1.close();
    });
    drainers.push(() => {
      for (const set of [codecs, ...retired]) {
        set.h1.closeIdleConnections();
        for (const socket of set.sockets) closeAfterCurrentResponse(socket, false);
      }
    });
    reconfigureCodecs = (settings) => {
      const old = codecs;
      codecs = createCodecs(settings);
      retired.add(old);
      retireIfIdle(old);
    };
    // noDelay: the HTTP codecs write headers and body separately; Nagle + delayed ACK would stall them.
    server = net.createServer({ noDelay: true }, (socket) => {
      track(socket);
      const set = codecs;
      sniffPreface(socket, set.settings.idleTimeoutMs, (isHttp2) => {
        decided.add(socket);
        events.onProtocol({ http2: isHttp2, tls: false });
        if (isHttp2) {
          set.h2.emit('connection', socket);
          return;
        }
        set.sockets.add(socket);
        socket.once('close', () => {
          set.sockets.delete(socket);
          if (retired.has(set)) retireIfIdle(set);
        });
        set.h1.emit('connection', socket);
        // The sniffer paused the socket; the HTTP/1 parser reads in flowing mode.
        socket.resume();
      });
    });
  }
  // Overload manager (global_downstream_max_connections): refuse at accept, keep the rest served.
  server.maxConnections = options.overload.maxActiveDownstreamConnections;
  server.on('drop', () => events.onOverflow());
  server.on('error', () => undefined);

  const bound = await listenOn(server, options.address);
  // server.close() may run once: a second call would wait for a 'close' event already emitted.
  let stopped: Promise<void> | undefined;
  const stopAccepting = () => (stopped ??= new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    address: bound,
    stopAccepting: () => { void stopAccepting(); },
    reconfigure: (settings, overload) => {
      hcm = settings;
      reconfigureCodecs(settings);
      server.maxConnections = overload.maxActiveDownstreamConnections;
    },
    drainConnections: () => {
      draining = true;
      for (const session of sessions) drainSession(session, hcm.drainTimeoutMs);
      for (const drain of drainers) drain();
      // Connections still deciding their protocol (nothing sent yet) are idle: close them.
      for (const socket of sockets) if (!decided.has(socket)) socket.destroy();
    },
    whenConnectionsClosed: (timeoutMs) => new Promise<void>((resolve) => {
      if (sockets.size === 0) return resolve();
      const timer = setTimeout(resolve, timeoutMs);
      closedWaiters.push(() => { clearTimeout(timer); resolve(); });
    }),
    close: () => {
      for (const close of closers) close();
      const done = stopAccepting();
      for (const socket of sockets) socket.destroy();
      return done;
    },
  };
}

/** The HTTP/1 codec of one HCM settings version (plain listener): live reload makes a new one. */
interface PlainCodecs {
  readonly h1: http.Server;
  readonly h2: http2.Http2Server;
  readonly settings: HcmConfig;
  /** HTTP/1 sockets this codec serves (it is closed once retired and empty). */
  readonly sockets: Set<net.Socket>;
}

/**
 * An HTTP/1 parse failure or header timeout answered as Envoy answers it (status, body,
 * `connection: close`), unless a response already started on that connection: then it is closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: net.Socket, hcm: HcmConfig, report: (rejection: HcmRejection) => void): void {
  const inFlight = (socket as { _httpMessage?: http.ServerResponse })._httpMessage;
  let rejection: HcmRejection | undefined;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    rejection = hcm.requestHeadersTimeoutMs > 0
      ? { status: 408, body: '', details: 'request_header_timeout', codec: false }
      : { status: 408, body: 'stream timeout', details: 'stream_idle_timeout', codec: false };
  } else {
    rejection = rejectionForParserError(error as { code?: string; reason?: string });
  }
  if (!rejection || inFlight?.headersSent || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  report(rejection);
  socket.end(http1RejectionBytes(rejection));
  // A client that never reads must not pin the socket: give the reply a moment, then close.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Reads until the bytes either diverge from the HTTP/2 preface or complete it, then puts them
 * back for the chosen codec. A partial preface is bounded by the connection idle timeout.
 */
function sniffPreface(socket: net.Socket, idleTimeoutMs: number, decide: (isHttp2: boolean) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  const onTimeout = () => socket.destroy();
  const onData = (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const compared = Math.min(buffered.length, H2_PREFACE.length);
    const isPrefix = buffered.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
    if (isPrefix && buffered.length < H2_PREFACE.length) return;
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(buffered);
    decide(isPrefix);
  };
  if (idleTimeoutMs > 0) {
    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', onTimeout);
  }
  socket.on('data', onData);
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

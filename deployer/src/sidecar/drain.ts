import type http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';

/** The drain of open downstream connections (listener.ts `drainConnections`). */

/** Highest HTTP/2 stream id: a GOAWAY naming it is a shutdown notice (RFC 9113 §6.8). */
const MAX_STREAM_ID = 2 ** 31 - 1;

/**
 * Envoy's HTTP/2 drain (conn_manager_impl.cc startDrainSequence / onDrainTimeout): a shutdown
 * notice first (GOAWAY NO_ERROR with the highest stream id: streams the client already sent are
 * still taken), then after drain_timeout the final GOAWAY naming the last stream processed;
 * Http2Session.close then closes the connection once its open streams finish.
 */
export function drainSession(session: http2.Http2Session, drainTimeoutMs: number): void {
  if (session.closed || session.destroyed) return;
  session.goaway(http2.constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
  const timer = setTimeout(() => { if (!session.closed && !session.destroyed) session.close(); }, drainTimeoutMs);
  timer.unref();
  session.once('close', () => clearTimeout(timer));
}

/**
 * Drain of one HTTP/1 connection (conn_manager_impl.cc: while draining, a response carries
 * `connection: close`; an idle connection is closed): a response not started yet will say
 * `connection: close` and node closes after it; one already started closes the connection when
 * it finishes. With `closeIdle`, a connection with no response in progress is ended now (the plain
 * listener asks node's parser for the idle ones instead: it also knows a request half received).
 */
export function closeAfterCurrentResponse(socket: net.Socket, closeIdle: boolean): void {
  const res = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
  if (!res) {
    if (closeIdle) socket.end();
    return;
  }
  if (!res.headersSent) {
    res.shouldKeepAlive = false;
  } else if (res.writableFinished) {
    socket.end();
  } else {
    res.once('finish', () => socket.end());
  }
}

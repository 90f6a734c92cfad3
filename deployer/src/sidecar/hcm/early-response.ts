import type http from 'node:http';
import type http2 from 'node:http2';
import type { HttpProtocol } from '../../host/api.js';
import { requestEndsWithHeaders } from '../stream-flow.js';

/** RFC 9113 §8.1: NO_ERROR asks the client to stop sending a request that was answered. */
const NGHTTP2_NO_ERROR = 0;

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Whether a response starting now is sent before the whole request arrived (e.g. a 413 for a body
 * past the buffer limit, or a filter's 403 while the client still uploads). `complete` is what the
 * stream handler already knows; node's own flags cover the rest without reading headers again.
 */
export function respondsBeforeRequestComplete(req: Request, complete: boolean): boolean {
  return !complete && !req.complete && !requestEndsWithHeaders(req as http.IncomingMessage);
}

/**
 * An early response ends the exchange as Envoy's connection manager ends it
 * (source/common/http/conn_manager_impl.cc ActiveStream::encodeHeaders: a stream answered before
 * its request is complete puts an HTTP/1 connection in drain_state_ Closing, so the response
 * carries `connection: close`, and counts downstream_rq_response_before_rq_complete; doEndStream
 * then resets an HTTP/2 stream whose request is still open). Call with the response headers about
 * to be written; it adds `connection: close` for HTTP/1.
 *
 * HTTP/1 closes the way Envoy's delayed close does (FlushWriteAndDelay): once the response is
 * flushed, the rest of the request keeps being read and discarded until it ends or
 * `delayedCloseMs` (the HCM's delayed_close_timeout) pass, then the connection closes — closing at once, with request bytes unread,
 * would make the kernel send a reset that can destroy the reply before the client reads it.
 * HTTP/2 gets RST_STREAM(NO_ERROR) after the response (RFC 9113 §8.1).
 */
export function closeAfterEarlyResponse(req: Request, res: Response, protocol: HttpProtocol, headers: Record<string, unknown>, delayedCloseMs: number): void {
  if (protocol === 'HTTP/2') {
    const stream = (res as http2.Http2ServerResponse).stream;
    res.once('finish', () => {
      if (!req.complete && !stream.destroyed) stream.close(NGHTTP2_NO_ERROR);
    });
    return;
  }
  headers.connection = 'close';
  const response = res as http.ServerResponse;
  const socket = response.socket;
  response.once('finish', () => {
    if (!socket || socket.destroyed) return;
    if (req.complete || delayedCloseMs <= 0) {
      socket.end();
      return;
    }
    const timer = setTimeout(() => socket.destroy(), delayedCloseMs);
    timer.unref();
    req.once('end', () => {
      clearTimeout(timer);
      socket.end();
    });
    // Keep reading: the stream handler's body pump may have stopped consuming.
    req.resume();
  });
}

/**
 * After writeHead with `connection: close`, node ends the socket as soon as the response is
 * flushed (ServerResponse `_last`); the delayed close above takes that over.
 */
export function deferNodeClose(res: Response, protocol: HttpProtocol): void {
  if (protocol !== 'HTTP/2') (res as unknown as { _last: boolean })._last = false;
}

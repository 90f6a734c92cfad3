/**
 * The response side of one stream (stream-handler.ts): response headers, body and trailers
 * through the filter chain's response callbacks to the client, and the replies the sidecar sends
 * itself (a filter's local reply, the router's 404/503/504, HCM refusals).
 */
import type http from 'node:http';
import type { Writable } from 'node:stream';
import type { FilterChainStream, HeaderList, LocalReply } from '../host/api.js';
import { REQUEST_PAYLOAD_TOO_LARGE, RESPONSE_PAYLOAD_TOO_LARGE } from '../host/chain-support.js';
import { closeAfterEarlyResponse, deferNodeClose, respondsBeforeRequestComplete } from './hcm/early-response.js';
import { pseudo, toNodeHeaders } from './headers.js';
import { filterLocalReplyHeaders, localReplyHeaders, type RouterReply } from './local-reply.js';
import type { StreamHandler } from './stream-handler.js';
import { writeChunk } from './stream-flow.js';
import type { UpstreamResponse } from './upstream.js';

const EMPTY = new Uint8Array(0);
const SERVER_HEADER = 'envoy';
const NO_TRAILERS: HeaderList = [];

/** Response headers, body and trailers through the chain to the client. `body` undefined: headers only. */
export async function respond(h: StreamHandler, headers: HeaderList, body: UpstreamResponse | readonly Uint8Array[] | undefined): Promise<void> {
  const { res } = h.ex;
  const stream = h.stream!;
  const out = await stream.responseHeaders(headers, body === undefined);
  if (h.terminated || res.destroyed) return;
  if (out.action === 'localReply') return sendFilterReply(h, out.reply);
  writeHead(h, Number(pseudo(out.headers, ':status') ?? 200), out.headers);
  if (body === undefined) {
    res.end();
    return;
  }
  const writer = new ResponseBodyWriter(h, stream);
  if (Array.isArray(body)) {
    for (let i = 0; i < body.length; i++) if (!(await writer.chunk(body[i]!, i === body.length - 1))) break;
  } else {
    await (body as UpstreamResponse).readBody((chunk, last) => writer.chunk(chunk, last));
  }
  if (writer.replied || writer.ended || res.destroyed) return;
  const responseTrailers = Array.isArray(body) ? NO_TRAILERS : (body as UpstreamResponse).trailers();
  if (responseTrailers.length > 0) {
    const tail = await stream.responseTrailers(responseTrailers);
    if (tail.action === 'localReply') return sendFilterReply(h, tail.reply);
    await write(h, tail.bufferedData);
    res.addTrailers(Object.fromEntries(tail.trailers));
    res.end();
  } else {
    const last = await stream.responseBody(EMPTY, true);
    if (last.action === 'localReply') return sendFilterReply(h, last.reply);
    await write(h, last.data);
    res.end();
  }
}

/** Response body chunks through the chain's body callbacks to the client. */
class ResponseBodyWriter {
  /** A filter answered with a local reply (or reset) mid-body. */
  replied = false;
  /** The last chunk ended the response. */
  ended = false;

  constructor(private readonly h: StreamHandler, private readonly stream: FilterChainStream) {}

  /**
   * `last`: the response is complete, this is its last data and no trailers follow. Envoy's
   * codec then hands the data over with end_stream (http1 codec_impl.cc onMessageComplete
   * flushes the body read in the same dispatch with end_stream=true), so there is no extra
   * empty end-of-stream callback through the chain. Answers whether to read on.
   */
  async chunk(chunk: Uint8Array, last: boolean): Promise<boolean> {
    const h = this.h;
    const res = h.ex.res;
    if (res.destroyed) return false;
    h.lastActivity = performance.now();
    const data = await this.stream.responseBody(chunk, last);
    if (data.action === 'localReply') {
      this.replied = true;
      sendFilterReply(h, data.reply);
      return false;
    }
    if (last) {
      this.ended = true;
      h.bytesSent += data.data.byteLength;
      (res as http.ServerResponse).end(data.data.byteLength > 0 ? data.data : undefined);
      return false;
    }
    await write(h, data.data);
    return true;
  }
}

/** Router-generated replies pass through the filters' response callbacks, as in Envoy. */
export async function sendRouterReply(h: StreamHandler, reply: RouterReply): Promise<void> {
  h.details = reply.details;
  h.flags.push(reply.flags);
  await respond(h, localReplyHeaders(reply.status, reply.body, []), reply.body.byteLength > 0 ? [reply.body] : undefined);
}

export function sendFilterReply(h: StreamHandler, reply: LocalReply): void {
  const { res } = h.ex;
  h.details = reply.details;
  if (reply.details === REQUEST_PAYLOAD_TOO_LARGE) h.ctx.stats.downstreamRqTooLarge++;
  else if (reply.details === RESPONSE_PAYLOAD_TOO_LARGE) h.ctx.stats.rsTooLarge++;
  // proxy_close_stream: Envoy resets the stream rather than answering (HTTP/1.1 closes the
  // connection, HTTP/2 sends RST_STREAM); the access log shows Envoy's LR (local reset) flag.
  if (reply.reset === true) h.flags.push('LR');
  if (reply.responseFlag !== undefined) h.flags.push(reply.responseFlag);
  if (reply.reset === true || res.headersSent) {
    // Once the response started, a reply can only reset the stream (filter_manager.cc
    // sendLocalReply); Envoy's codec had sent the headers already, so the client sees them first.
    h.locallyReset = true;
    if (res.headersSent && !res.destroyed) (res as http.ServerResponse).flushHeaders();
    res.destroy();
    return;
  }
  writeReply(h, reply.status, filterLocalReplyHeaders(reply), reply.body);
}

export function writeReply(h: StreamHandler, status: number, headers: HeaderList, body: Uint8Array): void {
  const { res } = h.ex;
  if (h.terminated || res.headersSent || res.destroyed) return;
  writeHead(h, status, headers);
  h.bytesSent += body.byteLength;
  (res as http.ServerResponse).end(body.byteLength > 0 ? body : undefined);
}

export function writeHead(h: StreamHandler, status: number, headers: HeaderList, force = false): void {
  if (h.terminated && !force) return;
  const { req, res, protocol } = h.ex;
  h.responseCode = status;
  h.responseHeadersSent = headers;
  const nodeHeaders = toNodeHeaders(headers);
  // Envoy's connection manager overwrites Server (server_header_transformation: OVERWRITE).
  nodeHeaders.server = SERVER_HEADER;
  // (A codec error already closes the connection: shouldKeepAlive false.)
  const early = (res as http.ServerResponse).shouldKeepAlive !== false && respondsBeforeRequestComplete(req, h.requestComplete);
  if (early) {
    h.ctx.stats.downstreamRqResponseBeforeRqComplete++;
    closeAfterEarlyResponse(req, res, protocol, nodeHeaders, h.target.hcm.delayedCloseTimeoutMs);
  }
  (res as http.ServerResponse).writeHead(status, nodeHeaders);
  if (early) deferNodeClose(res, protocol);
}

async function write(h: StreamHandler, data: Uint8Array): Promise<void> {
  if (data.byteLength === 0 || h.ex.res.destroyed) return;
  h.bytesSent += data.byteLength;
  await writeChunk(h.ex.res as unknown as Writable, data);
}

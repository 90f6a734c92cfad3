import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Dispatcher, Pool } from 'undici';
import type { HeaderList } from '../host/api.js';
import { readChunks } from './body-reader.js';
import { pseudo, responseHeaderList, responseHeaderListOfBuffers, toNodeHeaders, trailerList, trailerListOfBuffers, upstreamHeaderArray } from './headers.js';
import { writeChunk } from './stream-flow.js';
import { classifyUpstreamError, isConnectError, UpstreamFailure, type UpstreamCall, type UpstreamResponse } from './upstream.js';

const DONE = Promise.resolve();
const noop = () => undefined;

/**
 * The connection an undici request goes on. undici's dispatch handler is not told which socket
 * carries it, but its HTTP/1 client calls the handler's onConnect and then publishes
 * `undici:client:sendHeaders` ({ request, headers, socket }) synchronously in one function
 * (lib/dispatcher/client-h1.js writeH1), with no return in between for a live request. So the
 * call whose onConnect ran last is the one the next message is about: it takes the socket, which
 * gives its response the upstream.* facts of its own connection (local address included), as node's
 * client gives them on the http.request path.
 */
let writing: UndiciUpstreamCall | undefined;
let subscribed = false;

function onSendHeaders(message: unknown): void {
  const call = writing;
  if (call === undefined) return;
  writing = undefined;
  const socket = (message as { socket?: Socket } | null)?.socket;
  if (socket !== undefined && socket !== null) call.socket = socket;
}

/**
 * A request without a body on undici's Pool, driven through its dispatch handler (the lowest
 * level of undici's API: no Readable, no promise per request inside undici). The handler is also
 * the response: chunks that arrive before the reader asks are queued, and the parser is paused
 * (onData → false) until the reader has taken them, which is the backpressure node's
 * IncomingMessage gave.
 */
export class UndiciUpstreamCall implements UpstreamCall, UpstreamResponse, Dispatcher.DispatchHandler {
  readonly response: Promise<UpstreamResponse>;
  destroyed = false;
  complete = false;
  status = 0;
  headers: [string, string][] = [];
  /** The connection the request was written on (see onSendHeaders); undefined until then. */
  socket: Socket | undefined = undefined;
  private resolveResponse!: (response: UpstreamResponse) => void;
  private rejectResponse!: (error: unknown) => void;
  private started = false;
  private abortRequest: ((reason?: Error) => void) | undefined;
  private resumeParser: (() => void) | undefined;
  private rawTrailers: readonly (Buffer | string)[] | undefined;
  private queue: Buffer[] | undefined;
  private reader: ((chunk: Uint8Array, last: boolean) => Promise<boolean>) | undefined;
  private reading = false;
  private discarding = false;
  private finishRead: ((error?: unknown) => void) | undefined;
  private failure: unknown;

  constructor(pool: Pool, headers: HeaderList) {
    if (!subscribed) {
      subscribed = true;
      diagnostics.subscribe('undici:client:sendHeaders', onSendHeaders);
    }
    this.response = new Promise<UpstreamResponse>((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
    // The caller may reset before awaiting the response; the rejection is handled there.
    this.response.catch(noop);
    pool.dispatch({
      method: pseudo(headers, ':method') ?? 'GET',
      path: pseudo(headers, ':path') ?? '/',
      headers: upstreamHeaderArray(headers),
      body: null,
    }, this);
  }

  // ---- UpstreamCall --------------------------------------------------------------------

  write(): Promise<void> {
    return DONE;
  }

  end(): void {
    // The request ended with its headers.
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.abortRequest !== undefined) this.abortRequest(new UpstreamFailure('connection_termination'));
    else this.onError(new UpstreamFailure('connection_termination'));
  }

  // ---- UpstreamResponse ----------------------------------------------------------------

  readBody(onChunk: (chunk: Uint8Array, last: boolean) => Promise<boolean>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.reader = onChunk;
      this.finishRead = (error?: unknown) => {
        this.finishRead = undefined;
        this.reader = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
      this.pump();
    });
  }

  discard(): void {
    this.discarding = true;
    this.queue = undefined;
    this.resumeParser?.();
  }

  trailers(): [string, string][] {
    return this.rawTrailers === undefined ? [] : trailerListOfBuffers(this.rawTrailers);
  }

  // ---- undici DispatchHandler ------------------------------------------------------------

  onConnect(abort: (reason?: Error) => void): void {
    this.abortRequest = abort;
    // An aborted request is not written (no sendHeaders message follows).
    if (this.destroyed) abort(new UpstreamFailure('connection_termination'));
    else writing = this;
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.started = true;
    this.status = status;
    this.headers = responseHeaderListOfBuffers(status, rawHeaders);
    this.resumeParser = resume;
    this.resolveResponse(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.discarding) return true;
    (this.queue ??= []).push(chunk);
    if (this.reader !== undefined && !this.reading) this.pump();
    // Paused until the reader took what is queued.
    return this.queue === undefined || this.queue.length === 0;
  }

  /** Typed as strings by undici; its HTTP/1 client hands over the raw buffers. */
  onComplete(trailers: string[] | null): void {
    this.complete = true;
    if (trailers !== null && trailers.length > 0) this.rawTrailers = trailers;
    if (this.reader !== undefined && !this.reading) this.pump();
  }

  onError(error: Error): void {
    if (!this.started) {
      this.started = true;
      this.rejectResponse(classifyUpstreamError(error as NodeJS.ErrnoException));
      return;
    }
    // Reset after the headers: the reader sees the body end early.
    this.failure = Object.assign(new Error('upstream reset mid-body', { cause: error }), { code: 'ECONNRESET' });
    this.destroyed = true;
    if (this.reader !== undefined && !this.reading) this.pump();
  }

  /** Hands queued chunks to the reader one at a time; ends the read at completion or failure. */
  private pump(): void {
    const reader = this.reader;
    if (reader === undefined) return;
    const chunk = this.queue?.shift();
    if (chunk !== undefined) {
      this.reading = true;
      const last = this.complete && this.rawTrailers === undefined && this.queue!.length === 0;
      reader(chunk, last).then((more) => {
        this.reading = false;
        if (!more) {
          this.finishRead?.();
          return;
        }
        if (this.queue !== undefined && this.queue.length === 0) this.resumeParser?.();
        this.pump();
      }, (error: unknown) => {
        this.reading = false;
        this.finishRead?.(error);
      });
      return;
    }
    if (this.complete) this.finishRead?.();
    else if (this.failure !== undefined) this.finishRead?.(this.failure);
  }
}

/**
 * A request on node's http(s) client: one with a body, which it can end with trailers
 * (ClientRequest.addTrailers), and every request of an https:// cluster (the Agent carries the
 * cluster's TLS settings); the response is node's IncomingMessage.
 */
export class NodeUpstreamCall implements UpstreamCall {
  readonly response: Promise<UpstreamResponse>;
  private readonly request: http.ClientRequest;

  constructor(agent: http.Agent, tls: boolean, host: string, port: number, connectTimeoutMs: number, headers: HeaderList) {
    const authority = pseudo(headers, ':authority');
    const nodeHeaders = toNodeHeaders(headers);
    if (authority) nodeHeaders.host = authority;
    const request = (tls ? https : http).request({
      host, port, agent, headers: nodeHeaders, setHost: false,
      method: pseudo(headers, ':method') ?? 'GET',
      path: pseudo(headers, ':path') ?? '/',
    });
    this.request = request;
    this.response = new Promise<UpstreamResponse>((resolve, reject) => {
      let connectTimer: NodeJS.Timeout | undefined;
      /** A new TLS connection whose handshake has not completed (a reused one has). */
      let handshaking = false;
      request.on('socket', (socket) => {
        if (!socket.connecting) return;
        if (tls) {
          handshaking = true;
          socket.once('secureConnect', () => { handshaking = false; });
        }
        connectTimer = setTimeout(() => request.destroy(new UpstreamFailure('connection_timeout')), connectTimeoutMs);
        // A TLS cluster's connect timeout covers the handshake too (Envoy: connect_timeout runs
        // until the transport socket is connected).
        socket.once(tls ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      request.once('response', (res: http.IncomingMessage) => {
        clearTimeout(connectTimer);
        resolve(nodeResponse(res));
      });
      request.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        // Envoy: a failed TLS handshake is a connection failure (UF), reason "TLS_error: …".
        const tlsFailure = handshaking && !(error instanceof UpstreamFailure) && !isConnectError(error);
        reject(tlsFailure ? new UpstreamFailure('connection_failure', `TLS_error: ${error.message}`) : classifyUpstreamError(error));
      });
    });
    this.response.catch(noop);
  }

  get destroyed(): boolean {
    return this.request.destroyed;
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.request.destroyed ? DONE : writeChunk(this.request, chunk);
  }

  end(last?: Uint8Array, trailers?: HeaderList): void {
    if (trailers !== undefined && trailers.length > 0) {
      if (last !== undefined && last.byteLength > 0) this.request.write(last);
      this.request.addTrailers(Object.fromEntries(trailers));
      this.request.end();
      return;
    }
    this.request.end(last !== undefined && last.byteLength > 0 ? last : undefined);
  }

  destroy(): void {
    this.request.destroy();
  }
}

function nodeResponse(res: http.IncomingMessage): UpstreamResponse {
  return {
    status: res.statusCode ?? 502,
    headers: responseHeaderList(res.statusCode ?? 502, res.rawHeaders),
    // IncomingMessage does not tell whether a chunk is the last one.
    readBody: (onChunk) => readChunks(res, (chunk) => onChunk(chunk, false)),
    discard: () => { res.resume(); },
    get complete() { return res.complete; },
    trailers: () => trailerList(res.rawTrailers),
    socket: res.socket,
  };
}

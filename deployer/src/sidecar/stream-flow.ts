import type { Writable } from 'node:stream';
import type { ConnectionInfo, LocalReply } from '../host/api.js';
import type { DownstreamExchange } from './listener.js';
import type { UpstreamResponse } from './upstream.js';

/** Small pieces of one request's flow through the sidecar (stream-handler.ts). */

const WRITTEN = Promise.resolve();

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

export type FirstEvent =
  | { readonly kind: 'response'; readonly res: UpstreamResponse }
  | { readonly kind: 'failure'; readonly error: unknown }
  | { readonly kind: 'localReply'; readonly reply: LocalReply };

/**
 * The upstream response, its failure, or a filter's local reply during the request body,
 * whichever comes first. A per-request promise on purpose: racing against a shared
 * never-settling promise would append a reaction to it per request and keep every request's
 * state reachable for the life of the process.
 */
export function firstOf(response: Promise<UpstreamResponse>, body: Promise<LocalReply | undefined>): Promise<FirstEvent> {
  return new Promise<FirstEvent>((resolve) => {
    response.then((res) => resolve({ kind: 'response', res }), (error: unknown) => resolve({ kind: 'failure', error }));
    void body.then((reply) => { if (reply) resolve({ kind: 'localReply', reply }); });
  });
}

/** %DOWNSTREAM_LOCAL_ADDRESS% / %DOWNSTREAM_REMOTE_ADDRESS% of a connection. */
export function addresses(connection: ConnectionInfo): { downstreamLocalAddress: string; downstreamRemoteAddress: string } {
  const join = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
  return {
    downstreamLocalAddress: join(connection.destinationAddress, connection.destinationPort),
    downstreamRemoteAddress: join(connection.sourceAddress, connection.sourcePort),
  };
}

/** HTTP/1: no body without content-length or transfer-encoding (RFC 9112 §6.3); HTTP/2: END_STREAM on HEADERS. */
export function requestEndsWithHeaders(req: DownstreamExchange['req']): boolean {
  const stream = (req as { stream?: { endAfterHeaders?: boolean } }).stream;
  if (stream && typeof stream.endAfterHeaders === 'boolean') return stream.endAfterHeaders;
  const headers = req.headers;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  return length === undefined || length === '0';
}

/**
 * Writes a chunk; when the target is full, resolves once it drained or closed. Both listeners
 * go away on either event: a response body written under backpressure must not pile up one
 * 'close' listener per full write (events.once + Promise.race left them until the response closed).
 */
export function writeChunk(target: Writable, data: Uint8Array): Promise<void> {
  if (target.write(data)) return WRITTEN;
  return new Promise<void>((resolve) => {
    const done = () => {
      target.off('drain', done);
      target.off('close', done);
      resolve();
    };
    target.on('drain', done);
    target.on('close', done);
  });
}

export function isAbort(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ABORT_ERR';
}

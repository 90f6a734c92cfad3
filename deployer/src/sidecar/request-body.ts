/**
 * The request body of one stream (stream-handler.ts): read chunk by chunk from the downstream,
 * through the filter chain's request body and trailer callbacks, to the upstream request.
 */
import type { Readable } from 'node:stream';
import type { LocalReply } from '../host/api.js';
import { readChunks } from './body-reader.js';
import { trailerList } from './headers.js';
import type { StreamHandler } from './stream-handler.js';
import { deferred, isAbort } from './stream-flow.js';
import type { UpstreamCall } from './upstream.js';

const EMPTY = new Uint8Array(0);
export const NOTHING_IN_FLIGHT: Promise<unknown> = Promise.resolve();

/** Request body → chain → upstream. Resolves with a filter's local reply, or undefined once done. */
export function pumpRequestBody(h: StreamHandler, upstream: UpstreamCall): Promise<LocalReply | undefined> {
  const result = deferred<LocalReply | undefined>();
  pump(h, upstream, result.resolve).catch((error: unknown) => {
    if (!h.pumpStopped) {
      h.pumpStopped = true;
      upstream.destroy();
      if (!h.ex.req.destroyed && !isAbort(error)) h.ctx.onError(error);
    }
  });
  return result.promise;
}

async function pump(h: StreamHandler, upstream: UpstreamCall, resolve: (reply: LocalReply | undefined) => void): Promise<void> {
  const stream = h.stream!;
  await readChunks(h.ex.req as Readable, async (chunk) => {
    h.bytesReceived += chunk.byteLength;
    // Once stopped (local reply, or the upstream answered early) the rest is drained unseen.
    if (h.pumpStopped) return true;
    h.lastActivity = performance.now();
    const call = stream.requestBody(chunk, false);
    h.pumpInFlight = call;
    const out = await call;
    if (out.action === 'localReply') {
      h.pumpStopped = true;
      resolve(out.reply);
      return true;
    }
    if (out.data.byteLength > 0 && !upstream.destroyed) await upstream.write(out.data);
    return true;
  });
  h.requestComplete = true;
  if (h.pumpStopped) return;
  const trailers = trailerList(h.ex.req.rawTrailers);
  if (trailers.length > 0) {
    const call = stream.requestTrailers(trailers);
    h.pumpInFlight = call;
    const out = await call;
    if (out.action === 'localReply') return resolve(out.reply);
    upstream.end(out.bufferedData, out.trailers);
  } else {
    const call = stream.requestBody(EMPTY, true);
    h.pumpInFlight = call;
    const out = await call;
    if (out.action === 'localReply') return resolve(out.reply);
    upstream.end(out.data);
  }
  resolve(undefined);
}

/** Stops forwarding the request body and waits for the chain call in flight, if any. */
export async function stopRequestPump(h: StreamHandler): Promise<void> {
  h.pumpStopped = true;
  if (h.pumpInFlight !== NOTHING_IN_FLIGHT) await h.pumpInFlight.catch(() => undefined);
}

/** The rest of the request body is read and dropped (the stream was answered without it). */
export function drainRequest(h: StreamHandler): void {
  h.pumpStopped = true;
  if (!h.ex.req.readableEnded) h.ex.req.resume();
}

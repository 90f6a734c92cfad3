import type { ServerResponse } from 'node:http';
import type { GenerationSet } from './generation.js';
import type { DownstreamExchange } from './listener.js';
import type { StartRequest } from './stream-target.js';

/**
 * Runs one downstream request on the generation in force when it arrived. The generation is
 * picked once: a reload never changes a running stream's chain, routes or pools. The stream
 * hands it back (`generations.leave`) once the response is closed AND its processing has settled
 * (StreamHandler), so no callback can reach a plugin that a reload retired meanwhile; no closure
 * or promise per request for that. While `draining`, the connection is told to go away after
 * this request. Throws only if `start` throws (the caller answers 503); the generation is
 * released then.
 */
export function runOnCurrentGeneration(generations: GenerationSet, exchange: DownstreamExchange, draining: boolean, start: StartRequest): void {
  const generation = generations.enter();
  if (draining) closeAfterThisRequest(exchange);
  try {
    start(exchange, generation, generations);
  } catch (error) {
    generations.leave(generation);
    throw error;
  }
}

/**
 * Draining: the connection a request arrived on is told to go away once this request is done,
 * as Envoy's connection manager does when the drain decision says so (conn_manager_impl.cc
 * drainClose): HTTP/1 gets `connection: close` on the response; HTTP/2 gets GOAWAY
 * (Http2Session.close: streams already open finish, no new ones).
 */
function closeAfterThisRequest(exchange: DownstreamExchange): void {
  if (exchange.protocol === 'HTTP/2') {
    (exchange.req as { stream?: { session?: { close(): void } } }).stream?.session?.close();
  } else {
    (exchange.res as ServerResponse).setHeader('connection', 'close');
  }
}

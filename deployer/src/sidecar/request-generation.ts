import type { ServerResponse } from 'node:http';
import type { Generation, GenerationSet } from './generation.js';
import type { DownstreamExchange } from './listener.js';

/**
 * Runs one downstream request on the generation in force when it arrived. The generation is
 * picked once: a reload never changes a running stream's chain, routes or pools. It is released
 * once the response is closed AND `run` has settled, so no callback can reach a plugin that a
 * reload retired meanwhile. While `draining`, the connection is told to go away after this request.
 * Throws only if `run` throws synchronously (the caller answers 503); the generation is released then.
 */
export function runOnCurrentGeneration(generations: GenerationSet, exchange: DownstreamExchange, draining: boolean, run: (generation: Generation) => Promise<void>): void {
  const generation = generations.enter();
  if (draining) closeAfterThisRequest(exchange);
  let pending = 2;
  const leave = () => {
    if (--pending === 0) generations.leave(generation);
  };
  let started: Promise<void>;
  try {
    started = run(generation);
  } catch (error) {
    generations.leave(generation);
    throw error;
  }
  exchange.res.once('close', leave);
  void started.finally(leave);
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

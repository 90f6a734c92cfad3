import type http from 'node:http';
import { formatAccessLogLine } from './access-log.js';
import type { SidecarConfig } from './config/types.js';
import { StreamDeadlines } from './hcm/stream-deadlines.js';
import { startDataListener, type DataListener, type DownstreamExchange } from './listener.js';
import type { ProxyStats } from './stats.js';
import { addresses } from './stream-flow.js';
import { StreamHandler } from './stream-handler.js';
import type { StartRequest, StreamHandlerContext } from './stream-target.js';

export interface Downstream extends Omit<DataListener, 'reconfigure'> {
  /** Live reload: the listener-level settings of `config` (HCM codec settings, connection cap, codec-error log format). */
  reconfigure(config: SidecarConfig): void;
}

export interface DownstreamContext {
  readonly stats: ProxyStats;
  /** Access log sink; undefined: no access log (nothing is formatted). */
  readonly accessLog: ((line: string) => void) | undefined;
  readonly onError: (error: unknown) => void;
  /** Picks the target for a request (live reload: the generation in force) and starts it. */
  readonly dispatch: (exchange: DownstreamExchange, start: StartRequest) => void;
}

/**
 * The data listener wired to the HCM and the stream handler: connection stats (counted at
 * accept, so `downstream_cx_active` always balances), the overload cap, codec rejections in the
 * access log, and the per-stream timers.
 */
export async function startDownstream(initial: SidecarConfig, ctx: DownstreamContext): Promise<Downstream> {
  const { stats, onError } = ctx;
  let config = initial;
  const deadlines = new StreamDeadlines(config.hcm);
  const shared: StreamHandlerContext = { stats, accessLog: ctx.accessLog, onError, deadlines };
  // One function for every request (no closure or context object per request).
  const start: StartRequest = (exchange, target, release) => { void new StreamHandler(shared, target, exchange, release).run(); };
  const listener = await startDataListener({ address: config.listen, tls: config.tls, hcm: config.hcm, overload: config.overload }, {
    onRequest: (exchange) => {
      // Nothing a request does may take the proxy down: a failure here still gets an answer.
      try {
        ctx.dispatch(exchange, start);
      } catch (error) {
        onError(error);
        if (!exchange.res.headersSent && !exchange.res.destroyed) {
          (exchange.res as http.ServerResponse).writeHead(503, { 'content-type': 'text/plain' }).end('internal error\n');
        }
      }
    },
    onConnectionOpened: () => {
      stats.downstreamCxTotal++;
      stats.downstreamCxActive++;
    },
    onConnectionClosed: () => { stats.downstreamCxActive--; },
    onProtocol: (kind) => {
      if (kind.http2) stats.downstreamCxHttp2Total++;
      else stats.downstreamCxHttp1Total++;
      if (kind.tls) stats.downstreamCxSslTotal++;
    },
    onOverflow: () => { stats.downstreamGlobalCxOverflow++; },
    onPrematureResetClose: () => { stats.downstreamRqTooManyPrematureResets++; },
    onResetBeforeDispatch: () => {
      stats.downstreamRqTotal++;
      stats.downstreamRqHttp2Total++;
      stats.downstreamRqRxReset++;
    },
    onCodecRejection: (rejection, protocol, connection) => {
      stats.downstreamRqTotal++;
      stats.downstreamRqHttp1Total++;
      stats.recordDownstreamResponse(rejection.status);
      if (rejection.codec) stats.downstreamCxProtocolError++;
      if (rejection.details === 'request_header_timeout') stats.downstreamRqHeaderTimeout++;
      if (rejection.details === 'stream_idle_timeout') stats.downstreamRqIdleTimeout++;
      // Envoy logs a stream its codec refused without method or path (they were never decoded).
      ctx.accessLog?.(formatAccessLogLine({
        startTime: new Date(),
        requestHeaders: [],
        responseHeaders: [],
        protocol,
        responseCode: rejection.status,
        responseFlags: rejection.codec ? 'DPE' : rejection.details === 'stream_idle_timeout' ? 'SI' : '-',
        responseCodeDetails: rejection.details,
        bytesReceived: 0,
        bytesSent: Buffer.byteLength(rejection.body),
        durationMs: 0,
        upstreamHost: undefined,
        ...addresses(connection),
      }, config.accessLogFormat));
    },
  });
  stats.listenerAddress = `${listener.address.host}_${listener.address.port}`;
  return {
    address: listener.address,
    stopAccepting: () => listener.stopAccepting(),
    drainConnections: () => listener.drainConnections(),
    whenConnectionsClosed: (timeoutMs) => listener.whenConnectionsClosed(timeoutMs),
    reconfigure: (next) => {
      config = next;
      deadlines.update(next.hcm);
      listener.reconfigure(next.hcm, next.overload);
    },
    close: async () => {
      deadlines.close();
      await listener.close();
    },
  };
}

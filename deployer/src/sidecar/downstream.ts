import type http from 'node:http';
import type { FilterChain } from '../host/api.js';
import { formatAccessLogLine, type AccessLogFormat } from './access-log.js';
import type { HcmConfig } from './hcm/config.js';
import type { SidecarConfig } from './config/types.js';
import { StreamDeadlines } from './hcm/stream-deadlines.js';
import { startDataListener, type DataListener, type DownstreamExchange } from './listener.js';
import type { RouteTable } from './routing.js';
import type { ProxyStats } from './stats.js';
import { addresses } from './stream-flow.js';
import { StreamHandler } from './stream-handler.js';
import type { ClusterPool } from './upstream.js';

/**
 * What one request runs on: the chain, routes and pools of the configuration generation it arrived
 * under, and that generation's HCM settings, buffer limit and access log format (a reload changes
 * them for later requests only).
 */
export interface RequestTarget {
  readonly chain: FilterChain;
  readonly routes: RouteTable;
  readonly pools: ReadonlyMap<string, ClusterPool>;
  readonly hcm: HcmConfig;
  readonly perConnectionBufferLimitBytes: number;
  readonly accessLogFormat: AccessLogFormat;
}

export interface Downstream extends Omit<DataListener, 'reconfigure'> {
  /** Live reload: the listener-level settings of `config` (HCM codec settings, connection cap, codec-error log format). */
  reconfigure(config: SidecarConfig): void;
}

export interface DownstreamContext {
  readonly stats: ProxyStats;
  readonly accessLog: (line: string) => void;
  readonly onError: (error: unknown) => void;
  /** Picks the target for a request (live reload: the generation in force) and starts it. */
  readonly dispatch: (exchange: DownstreamExchange, start: (target: RequestTarget) => Promise<void>) => void;
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
  const shared = { stats, accessLog: ctx.accessLog, onError, deadlines };
  const listener = await startDataListener({ address: config.listen, tls: config.tls, hcm: config.hcm, overload: config.overload }, {
    onRequest: (exchange) => {
      // Nothing a request does may take the proxy down: a failure here still gets an answer.
      try {
        ctx.dispatch(exchange, (target) => new StreamHandler({
          ...shared, chain: target.chain, routes: target.routes, pools: target.pools,
          hcm: target.hcm, perConnectionBufferLimitBytes: target.perConnectionBufferLimitBytes, accessLogFormat: target.accessLogFormat,
        }, exchange).run());
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
      ctx.accessLog(formatAccessLogLine({
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

/** What a downstream request runs on and reports to: the types shared by the listener, the generations and the stream handler. */
import type { FilterChain } from '../host/api.js';
import type { AccessLogFormat } from './access-log.js';
import type { HcmConfig } from './hcm/config.js';
import type { StreamDeadlines } from './hcm/stream-deadlines.js';
import type { DownstreamExchange } from './listener.js';
import type { RouteTable } from './routing.js';
import type { ProxyStats } from './stats.js';
import type { ClusterPool } from './upstream.js';

/** What every stream of a listener shares. */
export interface StreamHandlerContext {
  readonly deadlines: StreamDeadlines;
  readonly stats: ProxyStats;
  /** undefined: no access log, and no line is formatted. */
  readonly accessLog: ((line: string) => void) | undefined;
  /** Unexpected errors (a bug, not a bad request): logged, the stream gets a 503 or a reset. */
  readonly onError: (error: unknown) => void;
}

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
  /** Envoy's per_connection_buffer_limit_bytes of the listener: the HTTP/1 stream buffer limit. */
  readonly perConnectionBufferLimitBytes: number;
  readonly accessLogFormat: AccessLogFormat;
}

/** Takes a request's target back once the stream is done with it (live reload: GenerationSet). */
export interface TargetRelease {
  leave(target: RequestTarget): void;
}

/** Starts one request on `target`; `release.leave(target)` once its response closed and its processing settled. */
export type StartRequest = (exchange: DownstreamExchange, target: RequestTarget, release: TargetRelease | undefined) => void;

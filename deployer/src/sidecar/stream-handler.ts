/**
 * One downstream request through the sidecar. The flow lives here; the request body pump
 * (request-body.ts), the response and the sidecar's own replies (response-writer.ts) and the
 * completion and access log (stream-log.ts) are functions over this handler's state.
 */
import type http from 'node:http';
import type { FilterChainStream, HeaderList, UpstreamInfo } from '../host/api.js';
import type { RouteConfig } from './config/types.js';
import { downstreamRequestHeaders, pseudo } from './headers.js';
import { decodeRequestHeaders, type HcmRejection } from './hcm/request-checks.js';
import type { StreamTimeout, TimedStream } from './hcm/stream-deadlines.js';
import type { HcmConfig } from './hcm/config.js';
import type { DownstreamExchange } from './listener.js';
import { localReplyHeaders, noRouteReply, upstreamResetReply, upstreamTimeoutReply } from './local-reply.js';
import { drainRequest, NOTHING_IN_FLIGHT, pumpRequestBody, stopRequestPump } from './request-body.js';
import { respond, sendFilterReply, sendRouterReply, writeHead, writeReply } from './response-writer.js';
import { firstOf, requestEndsWithHeaders, type FirstEvent } from './stream-flow.js';
import { logStream } from './stream-log.js';
import type { RequestTarget, StreamHandlerContext, TargetRelease } from './stream-target.js';
import { UpstreamFailure, type ClusterPool, type UpstreamCall, type UpstreamResponse } from './upstream.js';

export type { RequestTarget, StartRequest, StreamHandlerContext, TargetRelease } from './stream-target.js';

const EMPTY = new Uint8Array(0);
const HANDLER = Symbol('wasmesh.streamHandler');
const TEXT = new TextEncoder();

/** The response's 'close' listener: one function for every stream, the handler found on the response. */
function onResponseClose(this: DownstreamExchange['res']): void {
  (this as unknown as { [HANDLER]: StreamHandler })[HANDLER].finish();
}

const onRouteTimeout = (handler: StreamHandler) => handler.routeTimeout();
const responseEvent = (res: UpstreamResponse): FirstEvent => ({ kind: 'response', res });
const failureEvent = (error: unknown): FirstEvent => ({ kind: 'failure', error });

/**
 * One downstream request through the sidecar, in Envoy's order: request headers → filter chain →
 * route (re-matched when the chain changed the headers or cleared the route cache) → upstream,
 * request body streamed chunk by chunk through the chain; then the response (or the router's own
 * 404/503/504) back through the chain's response callbacks to the client; finally
 * proxy_on_done/on_log via `complete` and one access log line.
 *
 * The mutable fields are shared with request-body.ts, response-writer.ts and stream-log.ts.
 */
export class StreamHandler implements TimedStream {
  readonly startTime = new Date();
  readonly startedAt = performance.now();
  lastActivity = this.startedAt;
  requestComplete = false;
  stream: FilterChainStream | undefined;
  requestHeaders: HeaderList;
  responseHeadersSent: HeaderList = [];
  responseCode = 0;
  details = '';
  flags: string[] = [];
  bytesReceived = 0;
  bytesSent = 0;
  route: RouteConfig | undefined;
  upstreamHost: string | undefined;
  /** The upstream connection the response came on (Envoy's upstream.* attributes). */
  upstreamConnection: UpstreamInfo | undefined;
  private finished = false;
  pumpStopped = false;
  pumpInFlight: Promise<unknown> = NOTHING_IN_FLIGHT;
  /** Set once the stream was ended by the HCM (timeout): later replies are dropped. */
  terminated = false;
  private upstreamRequest: UpstreamCall | undefined;
  private routeTimer: NodeJS.Timeout | undefined;
  private routeTimedOut = false;
  /** Response closed, processing settled: the target is released at 2. */
  private settledParts = 0;
  /** The sidecar reset the stream itself after the response started (no DC/DR flag then). */
  locallyReset = false;

  get timeouts(): HcmConfig {
    return this.target.hcm;
  }

  constructor(
    readonly ctx: StreamHandlerContext,
    readonly target: RequestTarget,
    readonly ex: DownstreamExchange,
    private readonly release: TargetRelease | undefined,
  ) {
    this.requestHeaders = downstreamRequestHeaders(ex.req, ex.scheme);
    (ex.res as unknown as { [HANDLER]: StreamHandler })[HANDLER] = this;
    // 'close' comes once per response: `on` spares the once-wrapper.
    ex.res.on('close', onResponseClose);
  }

  private settled(): void {
    if (++this.settledParts === 2) this.release?.leave(this.target);
  }

  async run(): Promise<void> {
    const { stats } = this.ctx;
    stats.downstreamRqTotal++;
    stats.downstreamRqActive++;
    if (this.ex.protocol === 'HTTP/2') stats.downstreamRqHttp2Total++;
    else stats.downstreamRqHttp1Total++;
    try {
      // The HCM stage: limits, authority, path normalization — before any filter sees the request.
      const rejection = decodeRequestHeaders(this.requestHeaders as [string, string][], this.ex.req.rawHeaders, this.ex.protocol, this.target.hcm);
      if (rejection) return this.reject(rejection);
      this.ctx.deadlines.add(this);
      // The filter manager's buffer limit is the downstream stream's (conn_manager_impl.cc newStream).
      const bufferLimitBytes = this.ex.protocol === 'HTTP/2' ? this.target.hcm.http2InitialStreamWindowSize : this.target.perConnectionBufferLimitBytes;
      this.stream = this.target.chain.newStream({ connection: this.ex.connection, protocol: this.ex.protocol, startTime: this.startTime, bufferLimitBytes });
      await this.process(this.stream);
    } catch (error) {
      this.ctx.onError(error);
      if (!this.ex.res.headersSent && !this.ex.res.destroyed) {
        this.details = 'sidecar_internal_error';
        writeReply(this, 503, localReplyHeaders(503, EMPTY, []), EMPTY);
      } else {
        this.ex.res.destroy();
      }
    } finally {
      this.settled();
    }
  }

  /**
   * A request the HCM refuses is answered without creating the filter chain, as Envoy's
   * sendLocalReply does before decodeHeaders reaches the filters; codec-level refusals close an
   * HTTP/1 connection (DPE) and reset an HTTP/2 stream.
   */
  private reject(rejection: HcmRejection): void {
    const { stats } = this.ctx;
    this.details = rejection.details;
    if (rejection.codec) {
      stats.downstreamCxProtocolError++;
      this.flags.push('DPE');
    }
    if (rejection.details === 'path_normalization_failed') {
      if (rejection.status === 307) stats.downstreamRqRedirectedWithNormalizedPath++;
      else stats.downstreamRqFailedPathNormalization++;
    }
    const { res } = this.ex;
    if (rejection.h2ResetCode !== undefined) {
      (res as import('node:http2').Http2ServerResponse).stream.close(rejection.h2ResetCode);
      return;
    }
    const body = TEXT.encode(rejection.body);
    const extra: [string, string][] = rejection.location === undefined ? [] : [['location', rejection.location]];
    if (rejection.codec && this.ex.protocol !== 'HTTP/2') {
      // A codec error ends the HTTP/1 connection: node writes `connection: close` and closes.
      (res as http.ServerResponse).shouldKeepAlive = false;
      writeReply(this, rejection.status, localReplyHeaders(rejection.status, body, extra), body);
      return;
    }
    drainRequest(this);
    writeReply(this, rejection.status, localReplyHeaders(rejection.status, body, extra), body);
  }

  /** A stream timer fired (StreamDeadlines): 408 if nothing was answered yet, else a reset. */
  onTimeout(timeout: StreamTimeout): void {
    if (this.finished) return;
    this.ctx.stats[timeout.stat]++;
    this.terminated = true;
    this.pumpStopped = true;
    this.upstreamRequest?.destroy();
    this.details = timeout.details;
    if (timeout.flag) this.flags.push(timeout.flag);
    const { res } = this.ex;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const body = TEXT.encode(timeout.body);
    drainRequest(this);
    writeHead(this, timeout.status, localReplyHeaders(timeout.status, body, []), true);
    this.bytesSent += body.byteLength;
    (res as http.ServerResponse).end(body);
  }

  private async process(stream: FilterChainStream): Promise<void> {
    const { req } = this.ex;
    const endOfStream = requestEndsWithHeaders(req);
    if (endOfStream) this.requestComplete = true;
    const headers = await stream.requestHeaders(this.requestHeaders, endOfStream);
    if (headers.action === 'localReply') {
      drainRequest(this);
      sendFilterReply(this, headers.reply);
      return;
    }
    this.requestHeaders = headers.headers;
    // Envoy picks the route before the filters run, caches it (refreshCachedRoute) and re-matches
    // only when the route cache was cleared; the host reports that for every request-header
    // mutation (source/extensions/common/wasm/context.cc onHeadersModified). Nothing reads the
    // route during the request headers here, and headers the chain left untouched match as they
    // did before it, so one match after the chain gives the same route as the cached one would.
    this.route = this.target.routes.match(this.requestHeaders);
    if (!this.route) {
      this.ctx.stats.noRoute++;
      drainRequest(this);
      await sendRouterReply(this, noRouteReply());
      return;
    }
    const pool = this.target.pools.get(this.route.cluster)!;
    const clusterStats = this.ctx.stats.cluster(this.route.cluster);
    clusterStats.upstreamRqTotal++;
    clusterStats.upstreamRqActive++;
    try {
      await this.forward(pool, this.route, endOfStream);
    } finally {
      clusterStats.upstreamRqActive--;
    }
  }

  private async forward(pool: ClusterPool, route: RouteConfig, endOfStream: boolean): Promise<void> {
    this.upstreamHost = pool.hostPort;
    const upstreamStartedAt = performance.now();
    if (this.terminated) return;
    const request = pool.request(this.requestHeaders, !endOfStream);
    const response = request.response;
    this.upstreamRequest = request;
    let first: FirstEvent;
    if (endOfStream) {
      // No body: nothing but the upstream can answer, so no race to set up.
      request.end();
      this.startRouteTimer(route);
      first = await response.then(responseEvent, failureEvent);
    } else {
      const body = pumpRequestBody(this, request);
      void body.then((reply) => { if (!reply) this.startRouteTimer(route); });
      first = await firstOf(response, body);
    }
    if (this.terminated) return;

    if (first.kind === 'localReply') {
      clearTimeout(this.routeTimer);
      request.destroy();
      sendFilterReply(this, first.reply);
      return;
    }
    await stopRequestPump(this);
    if (first.kind === 'failure') {
      clearTimeout(this.routeTimer);
      drainRequest(this);
      const clusterStats = this.ctx.stats.cluster(route.cluster);
      if (this.routeTimedOut) {
        clusterStats.upstreamRqTimeout++;
        await sendRouterReply(this, upstreamTimeoutReply());
        return;
      }
      const failure = first.error instanceof UpstreamFailure ? first.error : new UpstreamFailure('connection_termination');
      if (failure.kind !== 'connection_termination') clusterStats.upstreamCxConnectFail++;
      await sendRouterReply(this, upstreamResetReply(failure.kind.replace('_', ' ') as 'connection failure', failure.transportReason));
      return;
    }

    const upstream = first.res;
    this.upstreamConnection = pool.upstreamInfo(upstream);
    const status = upstream.status;
    this.ctx.stats.recordUpstreamResponse(route.cluster, status);
    const headers = upstream.headers;
    // Envoy's router adds the upstream's time to first byte (x-envoy-upstream-service-time).
    headers.push(['x-envoy-upstream-service-time', String(Math.round(performance.now() - upstreamStartedAt))]);
    const method = pseudo(this.requestHeaders, ':method');
    const bodiless = method === 'HEAD' || status === 204 || status === 304 || pseudo(headers, 'content-length') === '0';
    this.details = 'via_upstream';
    let upstreamReset = false;
    try {
      await respond(this, headers, bodiless ? undefined : upstream);
      if (bodiless) upstream.discard();
    } catch (error) {
      if (upstream.complete) throw error;
      upstreamReset = true;
    } finally {
      clearTimeout(this.routeTimer);
    }
    if (this.terminated || this.ex.res.writableFinished) return;
    if (this.routeTimedOut) {
      this.flags.push('UT');
    } else if (upstreamReset || (!upstream.complete && !this.ex.res.destroyed)) {
      // The upstream went away after its headers: Envoy resets the downstream stream and logs
      // UC (upstream_reset_after_response_started), not a downstream disconnect.
      this.flags.push('UC');
      this.details = 'upstream_reset_after_response_started{connection_termination}';
      this.ex.res.destroy();
    }
  }

  /** Envoy's route timeout, started once the downstream request is complete. */
  private startRouteTimer(route: RouteConfig): void {
    if (route.timeoutMs > 0 && this.upstreamRequest !== undefined) this.routeTimer = setTimeout(onRouteTimeout, route.timeoutMs, this);
  }

  /** The route timeout fired: the upstream request is reset, the reply is a 504 (or UT after headers). */
  routeTimeout(): void {
    this.routeTimedOut = true;
    this.upstreamRequest?.destroy();
  }

  /** Runs once, when the downstream response finished or the stream was reset. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.settled();
    const { stats } = this.ctx;
    this.ctx.deadlines.delete(this);
    stats.downstreamRqActive--;
    const completed = this.ex.res.writableFinished;
    // Envoy resets the upstream request when the downstream stream goes away.
    if (!completed && this.upstreamRequest && !this.upstreamRequest.destroyed) this.upstreamRequest.destroy();
    if (!completed && this.flags.length === 0 && !this.locallyReset) {
      // Downstream went away before the response was complete: the connection (DC), or on
      // HTTP/2 a RST_STREAM from the client (DR, downstream remote reset).
      const session = (this.ex.res as { stream?: { session?: { destroyed: boolean } } }).stream?.session;
      const reset = this.ex.protocol === 'HTTP/2' && session !== undefined && !session.destroyed;
      this.flags.push(reset ? 'DR' : 'DC');
      if (reset) stats.downstreamRqRxReset++;
      if (!this.ex.res.headersSent) this.responseCode = 0;
    } else if (!completed && !this.ex.res.headersSent) {
      this.responseCode = 0;
    }
    if (this.responseCode > 0) stats.recordDownstreamResponse(this.responseCode);
    logStream(this, completed);
  }
}

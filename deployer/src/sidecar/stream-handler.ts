import type http from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { readChunks } from './body-reader.js';
import { addresses, deferred, firstOf, isAbort, requestEndsWithHeaders, writeChunk, type FirstEvent } from './stream-flow.js';
import type { FilterChain, FilterChainStream, HeaderList, LocalReply, UpstreamInfo } from '../host/api.js';
import type { RouteConfig } from './config/types.js';
import { formatAccessLogLine, type AccessLogFormat } from './access-log.js';
import { downstreamRequestHeaders, pseudo, responseHeaderList, toNodeHeaders, trailerList } from './headers.js';
import type { DownstreamExchange } from './listener.js';
import { filterLocalReplyHeaders, localReplyHeaders, noRouteReply, upstreamResetReply, upstreamTimeoutReply, type RouterReply } from './local-reply.js';
import type { RouteTable } from './routing.js';
import type { ProxyStats } from './stats.js';
import { UpstreamFailure, type ClusterPool } from './upstream.js';
import type { HcmConfig } from './hcm/config.js';
import { decodeRequestHeaders, type HcmRejection } from './hcm/request-checks.js';
import type { StreamDeadlines, StreamTimeout, TimedStream } from './hcm/stream-deadlines.js';
import { closeAfterEarlyResponse, deferNodeClose, respondsBeforeRequestComplete } from './hcm/early-response.js';
import { REQUEST_PAYLOAD_TOO_LARGE, RESPONSE_PAYLOAD_TOO_LARGE } from '../host/chain-support.js';

export interface StreamHandlerContext {
  readonly chain: FilterChain;
  readonly hcm: HcmConfig;
  readonly deadlines: StreamDeadlines;
  readonly accessLogFormat: AccessLogFormat;
  /** Envoy's per_connection_buffer_limit_bytes of the listener: the HTTP/1 stream buffer limit. */
  readonly perConnectionBufferLimitBytes: number;
  readonly routes: RouteTable;
  readonly pools: ReadonlyMap<string, ClusterPool>;
  readonly stats: ProxyStats;
  readonly accessLog: (line: string) => void;
  /** Unexpected errors (a bug, not a bad request): logged, the stream gets a 503 or a reset. */
  readonly onError: (error: unknown) => void;
}

const EMPTY = new Uint8Array(0);
const NOTHING_IN_FLIGHT: Promise<unknown> = Promise.resolve();
const SERVER_HEADER = 'envoy';


/**
 * One downstream request through the sidecar, in Envoy's order: request headers → filter chain →
 * route (re-matched when the chain changed the headers or cleared the route cache) → upstream,
 * request body streamed chunk by chunk through the chain; then the response (or the router's own
 * 404/503/504) back through the chain's response callbacks to the client; finally
 * proxy_on_done/on_log via `complete` and one access log line.
 */
export class StreamHandler implements TimedStream {
  private readonly startTime = new Date();
  readonly startedAt = performance.now();
  lastActivity = this.startedAt;
  requestComplete = false;
  private stream: FilterChainStream | undefined;
  private requestHeaders: HeaderList;
  private responseHeadersSent: HeaderList = [];
  private responseCode = 0;
  private details = '';
  private flags: string[] = [];
  private bytesReceived = 0;
  private bytesSent = 0;
  private route: RouteConfig | undefined;
  private upstreamHost: string | undefined;
  /** The upstream connection the response came on (Envoy's upstream.* attributes). */
  private upstreamConnection: UpstreamInfo | undefined;
  private finished = false;
  private pumpStopped = false;
  private pumpInFlight: Promise<unknown> = NOTHING_IN_FLIGHT;
  /** Set once the stream was ended by the HCM (timeout): later replies are dropped. */
  private terminated = false;
  private upstreamRequest: http.ClientRequest | undefined;
  /** The sidecar reset the stream itself after the response started (no DC/DR flag then). */
  private locallyReset = false;

  get timeouts(): HcmConfig {
    return this.ctx.hcm;
  }

  constructor(private readonly ctx: StreamHandlerContext, private readonly ex: DownstreamExchange) {
    this.requestHeaders = downstreamRequestHeaders(ex.req, ex.scheme);
    ex.res.once('close', () => this.finish());
  }

  async run(): Promise<void> {
    const { stats } = this.ctx;
    stats.downstreamRqTotal++;
    stats.downstreamRqActive++;
    if (this.ex.protocol === 'HTTP/2') stats.downstreamRqHttp2Total++;
    else stats.downstreamRqHttp1Total++;
    try {
      // The HCM stage: limits, authority, path normalization — before any filter sees the request.
      const rejection = decodeRequestHeaders(this.requestHeaders as [string, string][], this.ex.req.rawHeaders, this.ex.protocol, this.ctx.hcm);
      if (rejection) return this.reject(rejection);
      this.ctx.deadlines.add(this);
      // The filter manager's buffer limit is the downstream stream's (conn_manager_impl.cc newStream).
      const bufferLimitBytes = this.ex.protocol === 'HTTP/2' ? this.ctx.hcm.http2InitialStreamWindowSize : this.ctx.perConnectionBufferLimitBytes;
      this.stream = this.ctx.chain.newStream({ connection: this.ex.connection, protocol: this.ex.protocol, startTime: this.startTime, bufferLimitBytes });
      await this.process(this.stream);
    } catch (error) {
      this.ctx.onError(error);
      if (!this.ex.res.headersSent && !this.ex.res.destroyed) {
        this.details = 'sidecar_internal_error';
        this.writeReply(503, localReplyHeaders(503, EMPTY, []), EMPTY);
      } else {
        this.ex.res.destroy();
      }
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
    const body = new TextEncoder().encode(rejection.body);
    const extra: [string, string][] = rejection.location === undefined ? [] : [['location', rejection.location]];
    if (rejection.codec && this.ex.protocol !== 'HTTP/2') {
      // A codec error ends the HTTP/1 connection: node writes `connection: close` and closes.
      (res as http.ServerResponse).shouldKeepAlive = false;
      this.writeReply(rejection.status, localReplyHeaders(rejection.status, body, extra), body);
      return;
    }
    this.drainRequest();
    this.writeReply(rejection.status, localReplyHeaders(rejection.status, body, extra), body);
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
    const body = new TextEncoder().encode(timeout.body);
    this.drainRequest();
    this.writeHead(timeout.status, localReplyHeaders(timeout.status, body, []), true);
    this.bytesSent += body.byteLength;
    (res as http.ServerResponse).end(body);
  }

  private async process(stream: FilterChainStream): Promise<void> {
    const { req } = this.ex;
    // Envoy picks the route before the filters run and caches it (refreshCachedRoute).
    const cachedRoute = this.ctx.routes.match(this.requestHeaders);
    const endOfStream = requestEndsWithHeaders(req);
    if (endOfStream) this.requestComplete = true;
    const headers = await stream.requestHeaders(this.requestHeaders, endOfStream);
    if (headers.action === 'localReply') {
      this.drainRequest();
      this.sendFilterReply(headers.reply);
      return;
    }
    this.requestHeaders = headers.headers;
    // Envoy re-matches only when the route cache was cleared; the host reports that for every
    // request-header mutation too (source/extensions/common/wasm/context.cc onHeadersModified).
    this.route = headers.routeCacheCleared ? this.ctx.routes.match(this.requestHeaders) : cachedRoute;
    if (!this.route) {
      this.ctx.stats.noRoute++;
      this.drainRequest();
      await this.sendRouterReply(noRouteReply());
      return;
    }
    const pool = this.ctx.pools.get(this.route.cluster)!;
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
    const { request, response } = pool.request(this.requestHeaders);
    this.upstreamRequest = request;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    // Envoy's route timeout starts once the downstream request is complete.
    const startRouteTimer = () => {
      if (route.timeoutMs > 0) timer = setTimeout(() => { timedOut = true; request.destroy(); }, route.timeoutMs);
    };
    let first: FirstEvent;
    if (endOfStream) {
      // No body: nothing but the upstream can answer, so no race to set up.
      request.end();
      startRouteTimer();
      first = await response.then((res): FirstEvent => ({ kind: 'response', res }), (error: unknown): FirstEvent => ({ kind: 'failure', error }));
    } else {
      const body = this.pumpRequestBody(request);
      void body.then((reply) => { if (!reply) startRouteTimer(); });
      first = await firstOf(response, body);
    }
    if (this.terminated) return;

    if (first.kind === 'localReply') {
      clearTimeout(timer);
      request.destroy();
      this.sendFilterReply(first.reply);
      return;
    }
    await this.stopRequestPump();
    if (first.kind === 'failure') {
      clearTimeout(timer);
      this.drainRequest();
      const clusterStats = this.ctx.stats.cluster(route.cluster);
      if (timedOut) {
        clusterStats.upstreamRqTimeout++;
        await this.sendRouterReply(upstreamTimeoutReply());
        return;
      }
      const failure = first.error instanceof UpstreamFailure ? first.error : new UpstreamFailure('connection_termination');
      if (failure.kind !== 'connection_termination') clusterStats.upstreamCxConnectFail++;
      await this.sendRouterReply(upstreamResetReply(failure.kind.replace('_', ' ') as 'connection failure', failure.transportReason));
      return;
    }

    const upstream = first.res;
    this.upstreamConnection = pool.upstreamInfo(upstream);
    const status = upstream.statusCode ?? 502;
    this.ctx.stats.recordUpstreamResponse(route.cluster, status);
    const headers = responseHeaderList(status, upstream.rawHeaders);
    // Envoy's router adds the upstream's time to first byte (x-envoy-upstream-service-time).
    headers.push(['x-envoy-upstream-service-time', String(Math.round(performance.now() - upstreamStartedAt))]);
    const method = pseudo(this.requestHeaders, ':method');
    const bodiless = method === 'HEAD' || status === 204 || status === 304 || upstream.headers['content-length'] === '0';
    this.details = 'via_upstream';
    let upstreamReset = false;
    try {
      await this.respond(headers, bodiless ? undefined : upstream, () => trailerList(upstream.rawTrailers));
      if (bodiless) upstream.resume();
    } catch (error) {
      if (upstream.complete) throw error;
      upstreamReset = true;
    } finally {
      clearTimeout(timer);
    }
    if (this.terminated || this.ex.res.writableFinished) return;
    if (timedOut) {
      this.flags.push('UT');
    } else if (upstreamReset || (!upstream.complete && !this.ex.res.destroyed)) {
      // The upstream went away after its headers: Envoy resets the downstream stream and logs
      // UC (upstream_reset_after_response_started), not a downstream disconnect.
      this.flags.push('UC');
      this.details = 'upstream_reset_after_response_started{connection_termination}';
      this.ex.res.destroy();
    }
  }

  /** Request body → chain → upstream. Resolves with a filter's local reply, or undefined once done. */
  private pumpRequestBody(upstream: http.ClientRequest): Promise<LocalReply | undefined> {
    const result = deferred<LocalReply | undefined>();
    const run = async () => {
      await readChunks(this.ex.req as Readable, async (chunk) => {
        this.bytesReceived += chunk.byteLength;
        // Once stopped (local reply, or the upstream answered early) the rest is drained unseen.
        if (this.pumpStopped) return true;
        this.lastActivity = performance.now();
        const call = this.stream!.requestBody(chunk, false);
        this.pumpInFlight = call;
        const out = await call;
        if (out.action === 'localReply') {
          this.pumpStopped = true;
          result.resolve(out.reply);
          return true;
        }
        if (out.data.byteLength > 0 && !upstream.destroyed) await writeChunk(upstream, out.data);
        return true;
      });
      this.requestComplete = true;
      if (this.pumpStopped) return;
      const trailers = trailerList(this.ex.req.rawTrailers);
      if (trailers.length > 0) {
        const call = this.stream!.requestTrailers(trailers);
        this.pumpInFlight = call;
        const out = await call;
        if (out.action === 'localReply') return result.resolve(out.reply);
        if (out.bufferedData.byteLength > 0) await writeChunk(upstream, out.bufferedData);
        upstream.addTrailers(Object.fromEntries(out.trailers));
        upstream.end();
      } else {
        const call = this.stream!.requestBody(EMPTY, true);
        this.pumpInFlight = call;
        const out = await call;
        if (out.action === 'localReply') return result.resolve(out.reply);
        upstream.end(out.data.byteLength > 0 ? out.data : undefined);
      }
      result.resolve(undefined);
    };
    run().catch((error: unknown) => {
      if (!this.pumpStopped) {
        this.pumpStopped = true;
        upstream.destroy();
        if (!this.ex.req.destroyed && !isAbort(error)) this.ctx.onError(error);
      }
    });
    return result.promise;
  }

  private async stopRequestPump(): Promise<void> {
    this.pumpStopped = true;
    if (this.pumpInFlight !== NOTHING_IN_FLIGHT) await this.pumpInFlight.catch(() => undefined);
  }

  private drainRequest(): void {
    this.pumpStopped = true;
    if (!this.ex.req.readableEnded) this.ex.req.resume();
  }

  /** Router-generated replies pass through the filters' response callbacks, as in Envoy. */
  private async sendRouterReply(reply: RouterReply): Promise<void> {
    this.details = reply.details;
    this.flags.push(reply.flags);
    await this.respond(localReplyHeaders(reply.status, reply.body, []), reply.body.byteLength > 0 ? [reply.body] : undefined, () => []);
  }

  private sendFilterReply(reply: LocalReply): void {
    this.details = reply.details;
    if (reply.details === REQUEST_PAYLOAD_TOO_LARGE) this.ctx.stats.downstreamRqTooLarge++;
    else if (reply.details === RESPONSE_PAYLOAD_TOO_LARGE) this.ctx.stats.rsTooLarge++;
    // proxy_close_stream: Envoy resets the stream rather than answering (HTTP/1.1 closes the
    // connection, HTTP/2 sends RST_STREAM); the access log shows Envoy's LR (local reset) flag.
    if (reply.reset === true) this.flags.push('LR');
    if (reply.responseFlag !== undefined) this.flags.push(reply.responseFlag);
    if (reply.reset === true || this.ex.res.headersSent) {
      // Once the response started, a reply can only reset the stream (filter_manager.cc
      // sendLocalReply); Envoy's codec had sent the headers already, so the client sees them first.
      this.locallyReset = true;
      if (this.ex.res.headersSent && !this.ex.res.destroyed) (this.ex.res as http.ServerResponse).flushHeaders();
      this.ex.res.destroy();
      return;
    }
    this.writeReply(reply.status, filterLocalReplyHeaders(reply), reply.body);
  }

  private writeReply(status: number, headers: HeaderList, body: Uint8Array): void {
    if (this.terminated || this.ex.res.headersSent || this.ex.res.destroyed) return;
    this.writeHead(status, headers);
    this.bytesSent += body.byteLength;
    (this.ex.res as http.ServerResponse).end(body.byteLength > 0 ? body : undefined);
  }

  /** Response headers, body and trailers through the chain to the client. `body` undefined: headers only. */
  private async respond(headers: HeaderList, body: Readable | readonly Uint8Array[] | undefined, trailers: () => HeaderList): Promise<void> {
    const { res } = this.ex;
    const stream = this.stream!;
    const out = await stream.responseHeaders(headers, body === undefined);
    if (this.terminated || res.destroyed) return;
    if (out.action === 'localReply') return this.sendFilterReply(out.reply);
    this.writeHead(Number(pseudo(out.headers, ':status') ?? 200), out.headers);
    if (body === undefined) {
      res.end();
      return;
    }
    let replied = false;
    const onChunk = async (chunk: Uint8Array): Promise<boolean> => {
      if (res.destroyed) return false;
      this.lastActivity = performance.now();
      const data = await stream.responseBody(chunk, false);
      if (data.action === 'localReply') {
        replied = true;
        this.sendFilterReply(data.reply);
        return false;
      }
      await this.write(data.data);
      return true;
    };
    if (Array.isArray(body)) {
      for (const chunk of body) if (!(await onChunk(chunk))) break;
    } else {
      await readChunks(body as Readable, onChunk);
    }
    if (replied || res.destroyed) return;
    const responseTrailers = trailers();
    if (responseTrailers.length > 0) {
      const tail = await stream.responseTrailers(responseTrailers);
      if (tail.action === 'localReply') return this.sendFilterReply(tail.reply);
      await this.write(tail.bufferedData);
      res.addTrailers(Object.fromEntries(tail.trailers));
      res.end();
    } else {
      const last = await stream.responseBody(EMPTY, true);
      if (last.action === 'localReply') return this.sendFilterReply(last.reply);
      await this.write(last.data);
      res.end();
    }
  }

  private writeHead(status: number, headers: HeaderList, force = false): void {
    if (this.terminated && !force) return;
    this.responseCode = status;
    this.responseHeadersSent = headers;
    const nodeHeaders = toNodeHeaders(headers);
    // Envoy's connection manager overwrites Server (server_header_transformation: OVERWRITE).
    nodeHeaders.server = SERVER_HEADER;
    // (A codec error already closes the connection: shouldKeepAlive false.)
    const early = (this.ex.res as http.ServerResponse).shouldKeepAlive !== false && respondsBeforeRequestComplete(this.ex.req, this.requestComplete);
    if (early) {
      this.ctx.stats.downstreamRqResponseBeforeRqComplete++;
      closeAfterEarlyResponse(this.ex.req, this.ex.res, this.ex.protocol, nodeHeaders, this.ctx.hcm.delayedCloseTimeoutMs);
    }
    (this.ex.res as http.ServerResponse).writeHead(status, nodeHeaders);
    if (early) deferNodeClose(this.ex.res, this.ex.protocol);
  }

  private async write(data: Uint8Array): Promise<void> {
    if (data.byteLength === 0 || this.ex.res.destroyed) return;
    this.bytesSent += data.byteLength;
    await writeChunk(this.ex.res as unknown as Writable, data);
  }

  /** Runs once, when the downstream response finished or the stream was reset. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
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
    const responseFlags = this.flags.length > 0 ? [...new Set(this.flags)].join(',') : '-';
    try {
      this.stream?.complete({
        responseCode: this.responseCode,
        responseCodeDetails: this.details || (completed ? 'via_upstream' : 'downstream_remote_disconnect'),
        responseFlags,
        bytesReceived: this.bytesReceived,
        bytesSent: this.bytesSent,
        clusterName: this.route?.cluster,
        routeName: this.route?.name,
        ...(this.upstreamConnection !== undefined ? { upstream: this.upstreamConnection } : {}),
      });
    } catch (error) {
      this.ctx.onError(error);
    }
    this.ctx.accessLog(formatAccessLogLine({
      startTime: this.startTime,
      requestHeaders: this.requestHeaders,
      responseHeaders: this.responseHeadersSent,
      protocol: this.ex.protocol,
      responseCode: this.responseCode,
      responseFlags,
      responseCodeDetails: this.details || (completed ? 'via_upstream' : 'downstream_remote_disconnect'),
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      durationMs: performance.now() - this.startedAt,
      upstreamHost: this.upstreamHost,
      clusterName: this.route?.cluster,
      routeName: this.route?.name,
      ...(this.ctx.accessLogFormat === 'istio' ? addresses(this.ex.connection) : {}),
    }, this.ctx.accessLogFormat));
  }
}

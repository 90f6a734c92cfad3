import { once } from 'node:events';
import type http from 'node:http';
import type { Writable } from 'node:stream';
import type { FilterChain, FilterChainStream, HeaderList, LocalReply } from '../host/api.js';
import type { RouteConfig } from './config/types.js';
import { formatAccessLogLine } from './access-log.js';
import { downstreamRequestHeaders, pseudo, responseHeaderList, toNodeHeaders, trailerList } from './headers.js';
import type { DownstreamExchange } from './listener.js';
import { filterLocalReplyHeaders, localReplyHeaders, noRouteReply, upstreamResetReply, upstreamTimeoutReply, type RouterReply } from './local-reply.js';
import type { RouteTable } from './routing.js';
import type { ProxyStats } from './stats.js';
import { UpstreamFailure, type ClusterPool } from './upstream.js';

export interface StreamHandlerContext {
  readonly chain: FilterChain;
  readonly routes: RouteTable;
  readonly pools: ReadonlyMap<string, ClusterPool>;
  readonly stats: ProxyStats;
  readonly accessLog: (line: string) => void;
  /** Unexpected errors (a bug, not a bad request): logged, the stream gets a 503 or a reset. */
  readonly onError: (error: unknown) => void;
}

const EMPTY = new Uint8Array(0);
const SERVER_HEADER = 'envoy';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

const never = new Promise<never>(() => undefined);

/**
 * One downstream request through the sidecar, in Envoy's order: request headers → filter chain →
 * route (re-matched when the chain changed the headers or cleared the route cache) → upstream,
 * request body streamed chunk by chunk through the chain; then the response (or the router's own
 * 404/503/504) back through the chain's response callbacks to the client; finally
 * proxy_on_done/on_log via `complete` and one access log line.
 */
export class StreamHandler {
  private readonly startTime = new Date();
  private readonly startedAt = performance.now();
  private readonly stream: FilterChainStream;
  private requestHeaders: HeaderList;
  private responseHeadersSent: HeaderList = [];
  private responseCode = 0;
  private details = '';
  private flags: string[] = [];
  private bytesReceived = 0;
  private bytesSent = 0;
  private route: RouteConfig | undefined;
  private upstreamHost: string | undefined;
  private finished = false;
  private pumpStopped = false;
  private pumpInFlight: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: StreamHandlerContext, private readonly ex: DownstreamExchange) {
    this.requestHeaders = downstreamRequestHeaders(ex.req, ex.scheme);
    this.stream = ctx.chain.newStream({ connection: ex.connection, protocol: ex.protocol, startTime: this.startTime });
    ex.res.once('close', () => this.finish());
  }

  async run(): Promise<void> {
    const { stats } = this.ctx;
    stats.downstreamRqTotal++;
    stats.downstreamRqActive++;
    if (this.ex.protocol === 'HTTP/2') stats.downstreamRqHttp2Total++;
    else stats.downstreamRqHttp1Total++;
    try {
      await this.process();
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

  private async process(): Promise<void> {
    const { req } = this.ex;
    // Envoy picks the route before the filters run and caches it (refreshCachedRoute).
    const cachedRoute = this.ctx.routes.match(this.requestHeaders);
    const endOfStream = requestEndsWithHeaders(req);
    const headers = await this.stream.requestHeaders(this.requestHeaders, endOfStream);
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
    const { request, response } = pool.request(this.requestHeaders);
    const body = endOfStream ? this.endRequest(request) : this.pumpRequestBody(request);

    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    void body.then((reply) => {
      // Envoy's route timeout starts once the downstream request is complete.
      if (!reply && route.timeoutMs > 0) timer = setTimeout(() => { timedOut = true; request.destroy(); }, route.timeoutMs);
    });
    const first = await Promise.race([
      response.then((res) => ({ kind: 'response' as const, res }), (error: unknown) => ({ kind: 'failure' as const, error })),
      body.then((reply) => (reply ? { kind: 'localReply' as const, reply } : never)),
    ]);

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
    const status = upstream.statusCode ?? 502;
    this.ctx.stats.recordUpstreamResponse(route.cluster, status);
    const headers = responseHeaderList(status, upstream.rawHeaders);
    // Envoy's router adds the upstream's time to first byte (x-envoy-upstream-service-time).
    headers.push(['x-envoy-upstream-service-time', String(Math.round(performance.now() - upstreamStartedAt))]);
    const method = pseudo(this.requestHeaders, ':method');
    const bodiless = method === 'HEAD' || status === 204 || status === 304 || upstream.headers['content-length'] === '0';
    this.details = 'via_upstream';
    try {
      await this.respond(headers, bodiless ? undefined : upstream, () => trailerList(upstream.rawTrailers));
      if (bodiless) upstream.resume();
    } finally {
      clearTimeout(timer);
    }
    if (timedOut && !this.ex.res.writableFinished) this.flags.push('UT');
    if (!upstream.complete && !timedOut && !this.ex.res.writableFinished) this.flags.push('UC');
  }

  /** Request body → chain → upstream. Resolves with a filter's local reply, or undefined once done. */
  private pumpRequestBody(upstream: http.ClientRequest): Promise<LocalReply | undefined> {
    const result = deferred<LocalReply | undefined>();
    const run = async () => {
      for await (const chunk of this.ex.req as AsyncIterable<Buffer>) {
        this.bytesReceived += chunk.byteLength;
        // Once stopped (local reply, or the upstream answered early) the rest is drained unseen.
        if (this.pumpStopped) continue;
        const call = this.stream.requestBody(chunk, false);
        this.pumpInFlight = call;
        const out = await call;
        if (out.action === 'localReply') {
          this.pumpStopped = true;
          result.resolve(out.reply);
          continue;
        }
        if (out.data.byteLength > 0 && !upstream.destroyed) await writeChunk(upstream, out.data);
      }
      if (this.pumpStopped) return;
      const trailers = trailerList(this.ex.req.rawTrailers);
      if (trailers.length > 0) {
        const call = this.stream.requestTrailers(trailers);
        this.pumpInFlight = call;
        const out = await call;
        if (out.action === 'localReply') return result.resolve(out.reply);
        if (out.bufferedData.byteLength > 0) await writeChunk(upstream, out.bufferedData);
        upstream.addTrailers(Object.fromEntries(out.trailers));
        upstream.end();
      } else {
        const call = this.stream.requestBody(EMPTY, true);
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

  private async endRequest(upstream: http.ClientRequest): Promise<undefined> {
    upstream.end();
    return undefined;
  }

  private async stopRequestPump(): Promise<void> {
    this.pumpStopped = true;
    await this.pumpInFlight.catch(() => undefined);
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
    // proxy_close_stream: Envoy resets the stream rather than answering (HTTP/1.1 closes the
    // connection, HTTP/2 sends RST_STREAM); the access log shows Envoy's LR (local reset) flag.
    if (reply.reset === true) this.flags.push('LR');
    if (reply.reset === true || this.ex.res.headersSent) {
      this.ex.res.destroy();
      return;
    }
    this.writeReply(reply.status, filterLocalReplyHeaders(reply), reply.body);
  }

  private writeReply(status: number, headers: HeaderList, body: Uint8Array): void {
    this.writeHead(status, headers);
    this.bytesSent += body.byteLength;
    (this.ex.res as http.ServerResponse).end(body.byteLength > 0 ? body : undefined);
  }

  /** Response headers, body and trailers through the chain to the client. `body` undefined: headers only. */
  private async respond(headers: HeaderList, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined, trailers: () => HeaderList): Promise<void> {
    const { res } = this.ex;
    const out = await this.stream.responseHeaders(headers, body === undefined);
    if (out.action === 'localReply') return this.sendFilterReply(out.reply);
    this.writeHead(Number(pseudo(out.headers, ':status') ?? 200), out.headers);
    if (body === undefined) {
      res.end();
      return;
    }
    for await (const chunk of body) {
      if (res.destroyed) return;
      const data = await this.stream.responseBody(chunk, false);
      if (data.action === 'localReply') return this.sendFilterReply(data.reply);
      await this.write(data.data);
    }
    const responseTrailers = trailers();
    if (responseTrailers.length > 0) {
      const tail = await this.stream.responseTrailers(responseTrailers);
      if (tail.action === 'localReply') return this.sendFilterReply(tail.reply);
      await this.write(tail.bufferedData);
      res.addTrailers(Object.fromEntries(tail.trailers));
      res.end();
    } else {
      const last = await this.stream.responseBody(EMPTY, true);
      if (last.action === 'localReply') return this.sendFilterReply(last.reply);
      await this.write(last.data);
      res.end();
    }
  }

  private writeHead(status: number, headers: HeaderList): void {
    this.responseCode = status;
    this.responseHeadersSent = headers;
    const nodeHeaders = toNodeHeaders(headers);
    // Envoy's connection manager overwrites Server (server_header_transformation: OVERWRITE).
    nodeHeaders.server = SERVER_HEADER;
    (this.ex.res as http.ServerResponse).writeHead(status, nodeHeaders);
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
    stats.downstreamRqActive--;
    const completed = this.ex.res.writableFinished;
    if (!completed) {
      // Downstream went away before the response was complete (Envoy's DC flag).
      this.flags.push('DC');
      if (!this.ex.res.headersSent) this.responseCode = 0;
    }
    if (this.responseCode > 0) stats.recordDownstreamResponse(this.responseCode);
    const responseFlags = this.flags.length > 0 ? [...new Set(this.flags)].join(',') : '-';
    try {
      this.stream.complete({
        responseCode: this.responseCode,
        responseCodeDetails: this.details || (completed ? 'via_upstream' : 'downstream_remote_disconnect'),
        responseFlags,
        bytesReceived: this.bytesReceived,
        bytesSent: this.bytesSent,
        clusterName: this.route?.cluster,
        routeName: this.route?.name,
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
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      durationMs: performance.now() - this.startedAt,
      upstreamHost: this.upstreamHost,
    }));
  }
}

/** HTTP/1: no body without content-length or transfer-encoding (RFC 9112 §6.3); HTTP/2: END_STREAM on HEADERS. */
function requestEndsWithHeaders(req: DownstreamExchange['req']): boolean {
  const stream = (req as { stream?: { endAfterHeaders?: boolean } }).stream;
  if (stream && typeof stream.endAfterHeaders === 'boolean') return stream.endAfterHeaders;
  const headers = req.headers;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  return length === undefined || length === '0';
}

function writeChunk(target: Writable, data: Uint8Array): Promise<void> {
  if (target.write(data)) return Promise.resolve();
  return Promise.race([once(target, 'drain').then(() => undefined), once(target, 'close').then(() => undefined)]);
}

function isAbort(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ABORT_ERR';
}

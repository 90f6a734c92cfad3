/**
 * The api.ts FilterChain / FilterChainStream over ChainStreamCore: each call becomes a promise
 * that resolves when the chain produced the outcome (at once, or when a paused filter resumes).
 */
import type {
  DataOutcome, FilterChain, FilterChainStream, HeaderList, HeadersOutcome, StreamCompletion, StreamInfo,
  TrailersOutcome, WasmPluginHandle,
} from './api.js';
import { ChainStreamCore, type AnyOutcome } from './filter-chain.js';
import type { WasmPlugin } from './plugin.js';
import type { Clock } from './services.js';

const REQUEST = 0;
const RESPONSE = 1;
type Direction = typeof REQUEST | typeof RESPONSE;

/**
 * Promises over the core's callbacks. Most calls settle synchronously (no filter pauses): then
 * the outcome is captured by a per-direction callback and handed back as Promise.resolve(outcome),
 * instead of a `new Promise` whose executor closure and resolving functions were three more
 * allocations per call on the per-request path. A call that pauses gets a real pending promise,
 * resolved by the same callback when the chain resumes. The core keeps one waiting callback per
 * direction (filter-chain.ts `waiting`), so one pending resolver per direction is enough.
 */
class PromiseStream implements FilterChainStream {
  // Per-direction state as plain fields rather than two-element arrays: a stream object is
  // created per request, and every array is one more allocation for the GC.
  /** Outcome delivered during the current call (taken right after the call). */
  private settledRequest: AnyOutcome | undefined;
  private settledResponse: AnyOutcome | undefined;
  /** Resolver of a call that paused. */
  private pendingRequest: ((o: AnyOutcome) => void) | undefined;
  private pendingResponse: ((o: AnyOutcome) => void) | undefined;
  private requestDone: ((o: AnyOutcome) => void) | undefined;
  private responseDone: ((o: AnyOutcome) => void) | undefined;

  constructor(readonly core: ChainStreamCore) {}

  requestHeaders(headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> {
    this.core.decodeHeaders(headers, endOfStream, this.callback(REQUEST));
    return this.outcome(REQUEST) as Promise<HeadersOutcome>;
  }
  requestBody(chunk: Uint8Array, endOfStream: boolean): Promise<DataOutcome> {
    this.core.decodeData(chunk, endOfStream, this.callback(REQUEST));
    return this.outcome(REQUEST) as Promise<DataOutcome>;
  }
  requestTrailers(trailers: HeaderList): Promise<TrailersOutcome> {
    this.core.decodeTrailers(trailers, this.callback(REQUEST));
    return this.outcome(REQUEST) as Promise<TrailersOutcome>;
  }
  responseHeaders(headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> {
    this.core.encodeHeaders(headers, endOfStream, this.callback(RESPONSE));
    return this.outcome(RESPONSE) as Promise<HeadersOutcome>;
  }
  responseBody(chunk: Uint8Array, endOfStream: boolean): Promise<DataOutcome> {
    this.core.encodeData(chunk, endOfStream, this.callback(RESPONSE));
    return this.outcome(RESPONSE) as Promise<DataOutcome>;
  }
  responseTrailers(trailers: HeaderList): Promise<TrailersOutcome> {
    this.core.encodeTrailers(trailers, this.callback(RESPONSE));
    return this.outcome(RESPONSE) as Promise<TrailersOutcome>;
  }
  complete(info: StreamCompletion): void {
    this.core.complete(info);
  }

  /** The direction's delivery callback, created on first use (most streams use one direction). */
  private callback(dir: Direction): (o: AnyOutcome) => void {
    // A new call replaces a still-pending one of the same direction, as the core replaces its
    // waiting callback; the replaced promise never settles, as before this fast path.
    if (dir === REQUEST) {
      this.pendingRequest = undefined;
      return (this.requestDone ??= (o) => this.deliver(REQUEST, o));
    }
    this.pendingResponse = undefined;
    return (this.responseDone ??= (o) => this.deliver(RESPONSE, o));
  }

  private deliver(dir: Direction, outcome: AnyOutcome): void {
    const resolve = dir === REQUEST ? this.pendingRequest : this.pendingResponse;
    if (resolve === undefined) {
      if (dir === REQUEST) this.settledRequest = outcome;
      else this.settledResponse = outcome;
      return;
    }
    if (dir === REQUEST) this.pendingRequest = undefined;
    else this.pendingResponse = undefined;
    resolve(outcome);
  }

  /** After a core call: its outcome if it settled synchronously, else a promise of it. */
  private outcome(dir: Direction): Promise<AnyOutcome> {
    const now = dir === REQUEST ? this.settledRequest : this.settledResponse;
    if (now !== undefined) {
      if (dir === REQUEST) this.settledRequest = undefined;
      else this.settledResponse = undefined;
      return Promise.resolve(now);
    }
    return new Promise((resolve) => {
      if (dir === REQUEST) this.pendingRequest = resolve;
      else this.pendingResponse = resolve;
    });
  }
}

export class WasmFilterChain implements FilterChain {
  constructor(readonly plugins: readonly WasmPluginHandle[], private readonly loaded: readonly WasmPlugin[], private readonly clock: Clock) {}

  newStream(info: StreamInfo): FilterChainStream {
    return new PromiseStream(this.newCore(info));
  }

  newCore(info: StreamInfo): ChainStreamCore {
    return new ChainStreamCore(this.loaded, info, this.clock);
  }
}

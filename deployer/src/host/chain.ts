/**
 * The api.ts FilterChain / FilterChainStream over ChainStreamCore: each call becomes a promise
 * that resolves when the chain produced the outcome (at once, or when a paused filter resumes).
 */
import type {
  DataOutcome, FilterChain, FilterChainStream, HeaderList, HeadersOutcome, StreamCompletion, StreamInfo,
  TrailersOutcome, WasmPluginHandle,
} from './api.js';
import { ChainStreamCore, DELIVER_TO_RECEIVER, type AnyOutcome, type OutcomeReceiver } from './filter-chain.js';
import type { WasmPlugin } from './plugin.js';
import type { Clock } from './services.js';

const REQUEST = 0;
const RESPONSE = 1;
type Direction = typeof REQUEST | typeof RESPONSE;

/**
 * Promises over the core's callbacks. Most calls settle synchronously (no filter pauses): then
 * the outcome arrives through receive() during the call and is handed back as
 * Promise.resolve(outcome), instead of a `new Promise` whose executor closure and resolving
 * functions were three more allocations per call on the per-request path. A call that pauses gets
 * a real pending promise, resolved by receive() when the chain resumes. The stream is the core's
 * OutcomeReceiver (no callback closure per direction); the core keeps one waiting call per
 * direction (filter-chain.ts Side.waiting), so one pending resolver per direction is enough.
 */
class PromiseStream implements FilterChainStream, OutcomeReceiver {
  // Per-direction state as plain fields rather than two-element arrays: a stream object is
  // created per request, and every array is one more allocation for the GC.
  /** Outcome delivered during the current call (taken right after the call). */
  private settledRequest: AnyOutcome | undefined;
  private settledResponse: AnyOutcome | undefined;
  /** Resolver of a call that paused. */
  private pendingRequest: ((o: AnyOutcome) => void) | undefined;
  private pendingResponse: ((o: AnyOutcome) => void) | undefined;

  constructor(readonly core: ChainStreamCore) {
    core.receiver = this;
  }

  requestHeaders(headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> {
    this.pendingRequest = undefined;
    this.core.decodeHeaders(headers, endOfStream, DELIVER_TO_RECEIVER);
    return this.outcome(REQUEST) as Promise<HeadersOutcome>;
  }
  requestBody(chunk: Uint8Array, endOfStream: boolean): Promise<DataOutcome> {
    this.pendingRequest = undefined;
    this.core.decodeData(chunk, endOfStream, DELIVER_TO_RECEIVER);
    return this.outcome(REQUEST) as Promise<DataOutcome>;
  }
  requestTrailers(trailers: HeaderList): Promise<TrailersOutcome> {
    this.pendingRequest = undefined;
    this.core.decodeTrailers(trailers, DELIVER_TO_RECEIVER);
    return this.outcome(REQUEST) as Promise<TrailersOutcome>;
  }
  responseHeaders(headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> {
    this.pendingResponse = undefined;
    this.core.encodeHeaders(headers, endOfStream, DELIVER_TO_RECEIVER);
    return this.outcome(RESPONSE) as Promise<HeadersOutcome>;
  }
  responseBody(chunk: Uint8Array, endOfStream: boolean): Promise<DataOutcome> {
    this.pendingResponse = undefined;
    this.core.encodeData(chunk, endOfStream, DELIVER_TO_RECEIVER);
    return this.outcome(RESPONSE) as Promise<DataOutcome>;
  }
  responseTrailers(trailers: HeaderList): Promise<TrailersOutcome> {
    this.pendingResponse = undefined;
    this.core.encodeTrailers(trailers, DELIVER_TO_RECEIVER);
    return this.outcome(RESPONSE) as Promise<TrailersOutcome>;
  }
  complete(info: StreamCompletion): void {
    this.core.complete(info);
  }

  /**
   * OutcomeReceiver. A new call replaces a still-pending one of the same direction (the methods
   * above drop its resolver first), as the core replaces its waiting call; the replaced promise
   * never settles.
   */
  receive(dir: Direction, outcome: AnyOutcome): void {
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

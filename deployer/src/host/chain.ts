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

class PromiseStream implements FilterChainStream {
  constructor(readonly core: ChainStreamCore) {}

  requestHeaders(headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> {
    return new Promise((resolve) => this.core.decodeHeaders(headers, endOfStream, resolve as (o: AnyOutcome) => void));
  }
  requestBody(chunk: Uint8Array, endOfStream: boolean): Promise<DataOutcome> {
    return new Promise((resolve) => this.core.decodeData(chunk, endOfStream, resolve as (o: AnyOutcome) => void));
  }
  requestTrailers(trailers: HeaderList): Promise<TrailersOutcome> {
    return new Promise((resolve) => this.core.decodeTrailers(trailers, resolve as (o: AnyOutcome) => void));
  }
  responseHeaders(headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> {
    return new Promise((resolve) => this.core.encodeHeaders(headers, endOfStream, resolve as (o: AnyOutcome) => void));
  }
  responseBody(chunk: Uint8Array, endOfStream: boolean): Promise<DataOutcome> {
    return new Promise((resolve) => this.core.encodeData(chunk, endOfStream, resolve as (o: AnyOutcome) => void));
  }
  responseTrailers(trailers: HeaderList): Promise<TrailersOutcome> {
    return new Promise((resolve) => this.core.encodeTrailers(trailers, resolve as (o: AnyOutcome) => void));
  }
  complete(info: StreamCompletion): void {
    this.core.complete(info);
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

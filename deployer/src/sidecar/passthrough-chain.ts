import type { DataOutcome, FilterChain, FilterChainStream, HeaderList, HeadersOutcome, TrailersOutcome } from '../host/api.js';

const EMPTY = new Uint8Array(0);

/**
 * The stream of a chain without filters: stateless, so one object serves every request (no
 * per-request closures; profiling showed their allocation on the pass-through path).
 */
const PASSTHROUGH_STREAM: FilterChainStream = Object.freeze({
  requestHeaders: (headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> =>
    Promise.resolve({ action: 'continue', headers, endOfStream, routeCacheCleared: false }),
  requestBody: (data: Uint8Array, endOfStream: boolean): Promise<DataOutcome> => Promise.resolve({ action: 'continue', data, endOfStream }),
  requestTrailers: (trailers: HeaderList): Promise<TrailersOutcome> => Promise.resolve({ action: 'continue', trailers, bufferedData: EMPTY }),
  responseHeaders: (headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> =>
    Promise.resolve({ action: 'continue', headers, endOfStream, routeCacheCleared: false }),
  responseBody: (data: Uint8Array, endOfStream: boolean): Promise<DataOutcome> => Promise.resolve({ action: 'continue', data, endOfStream }),
  responseTrailers: (trailers: HeaderList): Promise<TrailersOutcome> => Promise.resolve({ action: 'continue', trailers, bufferedData: EMPTY }),
  complete: () => undefined,
});

/** The chain of a sidecar without filters: every callback continues unchanged, no wasm loaded. */
export class PassthroughChain implements FilterChain {
  readonly plugins = [];

  newStream(): FilterChainStream {
    return PASSTHROUGH_STREAM;
  }
}

import type { DataOutcome, FilterChain, FilterChainStream, HeaderList, HeadersOutcome, TrailersOutcome } from '../host/api.js';

const EMPTY = new Uint8Array(0);

/** The chain of a sidecar without filters: every callback continues unchanged, no wasm loaded. */
export class PassthroughChain implements FilterChain {
  readonly plugins = [];

  newStream(): FilterChainStream {
    return {
      requestHeaders: (headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> =>
        Promise.resolve({ action: 'continue', headers, endOfStream, routeCacheCleared: false }),
      requestBody: (data: Uint8Array, endOfStream: boolean): Promise<DataOutcome> => Promise.resolve({ action: 'continue', data, endOfStream }),
      requestTrailers: (trailers: HeaderList): Promise<TrailersOutcome> => Promise.resolve({ action: 'continue', trailers, bufferedData: EMPTY }),
      responseHeaders: (headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> =>
        Promise.resolve({ action: 'continue', headers, endOfStream, routeCacheCleared: false }),
      responseBody: (data: Uint8Array, endOfStream: boolean): Promise<DataOutcome> => Promise.resolve({ action: 'continue', data, endOfStream }),
      responseTrailers: (trailers: HeaderList): Promise<TrailersOutcome> => Promise.resolve({ action: 'continue', trailers, bufferedData: EMPTY }),
      complete: () => undefined,
    };
  }
}

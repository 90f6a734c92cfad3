import type { FilterChain, FilterChainStream, HeaderList, HeadersOutcome, DataOutcome, TrailersOutcome, LocalReply } from '../../host/api.js';
import type { WasmFilterConfig } from '../config/types.js';

/**
 * Envoy's answer for an ECDS filter whose configuration has not arrived when the listener stops
 * warming (initial_fetch_timeout passed with no default_config): `MissingConfigFilter`
 * (envoyproxy/envoy source/common/http/filter_chain_helper.h) sets the response flag
 * NoFilterConfigFound (`NFCF`) and sends a local reply 500 with an empty body and empty details,
 * stopping the stream. No request gets past a filter it has no configuration for.
 *
 * In a sidecar configuration the filter is a WasmFilterConfig whose `wasmFile` is this marker;
 * the generation builder (sidecar/generation.ts) then serves MissingConfigChain. The whole chain
 * answers 500 — what Envoy does when the first ECDS filter is the missing one; the local sidecar
 * only leaves the missing-config state once every filter of its chain has arrived.
 */
export const MISSING_CONFIG_WASM_FILE = 'envoy.missing_config';

export function missingConfigFilter(name: string): WasmFilterConfig {
  return { name, rootId: '', vmId: '', wasmFile: MISSING_CONFIG_WASM_FILE, configuration: '', vmConfiguration: '', failOpen: false };
}

export function isMissingConfig(filter: WasmFilterConfig): boolean {
  return filter.wasmFile === MISSING_CONFIG_WASM_FILE;
}

const EMPTY = new Uint8Array(0);
const REPLY: LocalReply = Object.freeze({ status: 500, details: '', body: EMPTY, headers: [], responseFlag: 'NFCF' });
const REPLY_OUTCOME = Object.freeze({ action: 'localReply', reply: REPLY } as const);

const MISSING_CONFIG_STREAM: FilterChainStream = Object.freeze({
  requestHeaders: (): Promise<HeadersOutcome> => Promise.resolve(REPLY_OUTCOME),
  requestBody: (): Promise<DataOutcome> => Promise.resolve(REPLY_OUTCOME),
  requestTrailers: (): Promise<TrailersOutcome> => Promise.resolve(REPLY_OUTCOME),
  // A local reply's headers pass the encoder path unchanged: MissingConfigFilter is decoder-only.
  responseHeaders: (headers: HeaderList, endOfStream: boolean): Promise<HeadersOutcome> => Promise.resolve({ action: 'continue', headers, endOfStream, routeCacheCleared: false }),
  responseBody: (data: Uint8Array, endOfStream: boolean): Promise<DataOutcome> => Promise.resolve({ action: 'continue', data, endOfStream }),
  responseTrailers: (trailers: HeaderList): Promise<TrailersOutcome> => Promise.resolve({ action: 'continue', trailers, bufferedData: EMPTY }),
  complete: () => undefined,
});

export class MissingConfigChain implements FilterChain {
  readonly plugins = [];

  newStream(): FilterChainStream {
    return MISSING_CONFIG_STREAM;
  }
}

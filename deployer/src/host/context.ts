/**
 * What a stream context exposes to the ABI functions. The filter chain implements one
 * StreamBinding per (stream, filter); root contexts have none.
 */
import type { HeaderList, LocalReply, StreamInfo, StreamCompletion } from './api.js';
import type { MutablePair } from './abi/pairs.js';

/** A body buffer with Envoy's get/set semantics (see abi/buffers.ts). */
export interface BodyBuffer {
  bytes: Uint8Array;
}

/** Filter state of one stream: `wasm.<path>` keys written by proxy_set_property. */
export interface FilterStateEntry {
  value: Uint8Array;
  readOnly: boolean;
}
export type FilterState = Map<string, FilterStateEntry>;

export interface StreamFacts {
  readonly info: StreamInfo;
  readonly requestHeaders: HeaderList | undefined;
  readonly responseHeaders: HeaderList | undefined;
  readonly responseTrailers: HeaderList | undefined;
  readonly requestBodyBytes: number;
  readonly responseBodyBytes: number;
  /** Local reply details when a filter ended the stream. */
  readonly localReply: LocalReply | undefined;
  readonly completion: StreamCompletion | undefined;
  readonly completedAtNanos: bigint | undefined;
}

export interface StreamBinding {
  /** Header map of the given type for reading; null when not available in the current callback (→ BadArgument). */
  headerMap(type: number): readonly (readonly [string, string])[] | null;
  /**
   * The same map serialized (abi/pairs.ts format), not serialized again by later reads until the
   * map changes; null when not available. A view valid until the next serialization: copy it
   * at once, never modify it.
   */
  serializedHeaderMap(type: number): Uint8Array | null;
  /** The same map for writing (copied on first write); null when not available or read-only. */
  mutableHeaderMap(type: number): MutablePair[] | null;
  /** Whether the map may be modified now (not in the access-log phase). */
  headersMutable(type: number): boolean;
  headersModified(type: number): void;
  /** Request (0) / response (1) body buffer for the current callback; null when not available. */
  body(type: number): BodyBuffer | null;
  sendLocalResponse(reply: LocalReply): void;
  continueStream(streamType: number): number;
  closeStream(streamType: number): number;
  clearRouteCache(): void;
  readonly facts: StreamFacts;
  readonly filterState: FilterState;
  readonly accessLogPhase: boolean;
}

/**
 * One filter's view of one stream (a StreamBinding): which header maps and body buffers its
 * context may touch right now, and the stream effects it may request. Envoy exposes a map to
 * the filter only during the callback that delivered it (or while that callback's pause
 * lasts): envoy:context.cc decodeHeaders/encodeHeaders clear request_headers_/response_headers_
 * on Continue, so other callbacks get BadArgument. In proxy_on_log (access-log phase) request
 * and response headers and response trailers are readable, not writable.
 */
import type { HeaderList, LocalReply } from './api.js';
import { HeaderMapType, StreamType, WasmResult } from './abi/constants.js';
import type { MutablePair } from './abi/pairs.js';
import type { BodyBuffer, FilterState, StreamBinding, StreamFacts } from './context.js';
import type { PluginVm } from './plugin-vm.js';
import type { WasmPlugin } from './plugin.js';

export interface SlotHost {
  readonly facts: StreamFacts;
  readonly filterState: FilterState;
  readonly accessLog: boolean;
  map(type: number): HeaderList | null;
  mutableMap(type: number): MutablePair[] | null;
  serializedMap(type: number): Uint8Array | null;
  requestHeadersModified(): void;
  requestLocalReply(slot: StreamSlot, reply: LocalReply): void;
  requestContinue(slot: StreamSlot, direction: 0 | 1): void;
  requestReset(slot: StreamSlot): void;
}

export class StreamSlot implements StreamBinding {
  readonly vm: PluginVm;
  contextId: number | undefined;
  /** The VM failed while serving this stream. */
  dead = false;
  /** The failure policy was applied for this stream already. */
  failureHandled = false;
  /** Bit per HeaderMapType this filter may access now. */
  open = 0;
  readonly bodies: [BodyBuffer | null, BodyBuffer | null] = [null, null];
  /** Data held by this filter after StopIterationAndBuffer/Watermark, per direction. */
  readonly buffered: [Uint8Array | null, Uint8Array | null] = [null, null];
  /** Buffered data released by proxy_continue_stream, forwarded with the next chunk. */
  readonly released: [Uint8Array | null, Uint8Array | null] = [null, null];

  constructor(private readonly host: SlotHost, readonly plugin: WasmPlugin, readonly index: number) {
    this.vm = plugin.pick();
  }

  get facts(): StreamFacts {
    return this.host.facts;
  }

  get filterState(): FilterState {
    return this.host.filterState;
  }

  get accessLogPhase(): boolean {
    return this.host.accessLog;
  }

  headerMap(type: number): HeaderList | null {
    if (this.host.accessLog) return type === HeaderMapType.RequestTrailers ? null : this.host.map(type);
    return (this.open & (1 << type)) !== 0 ? this.host.map(type) : null;
  }

  serializedHeaderMap(type: number): Uint8Array | null {
    if (this.host.accessLog) return type === HeaderMapType.RequestTrailers ? null : this.host.serializedMap(type);
    return (this.open & (1 << type)) !== 0 ? this.host.serializedMap(type) : null;
  }

  mutableHeaderMap(type: number): MutablePair[] | null {
    if (this.host.accessLog || (this.open & (1 << type)) === 0) return null;
    return this.host.mutableMap(type);
  }

  headersMutable(): boolean {
    return !this.host.accessLog;
  }

  headersModified(type: number): void {
    // envoy:context.cc onHeadersModified → the route cache is cleared for request headers.
    if (type === HeaderMapType.RequestHeaders) this.host.requestHeadersModified();
  }

  body(type: number): BodyBuffer | null {
    return this.bodies[type === 0 ? 0 : 1];
  }

  sendLocalResponse(reply: LocalReply): void {
    this.host.requestLocalReply(this, reply);
  }

  continueStream(streamType: number): number {
    if (streamType === StreamType.Upstream) return WasmResult.Unimplemented;
    if (streamType === StreamType.Downstream) return WasmResult.Ok;
    this.host.requestContinue(this, streamType === StreamType.Request ? 0 : 1);
    return WasmResult.Ok;
  }

  closeStream(streamType: number): number {
    if (streamType === StreamType.Request || streamType === StreamType.Response) this.host.requestReset(this);
    return WasmResult.Ok;
  }

  clearRouteCache(): void {
    this.host.requestHeadersModified();
  }
}

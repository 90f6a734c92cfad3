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
import type { ContextRecord, PluginVm } from './plugin-vm.js';
import type { WasmPlugin } from './plugin.js';

type Pair = [Uint8Array | null, Uint8Array | null];
/** What a slot that never buffered answers: no data held in either direction. */
const NOTHING_HELD: Readonly<Pair> = Object.freeze([null, null]) as Readonly<Pair>;

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

/**
 * Also the stream context's record in its VM's context table (ContextRecord: id, root, binding),
 * so a stream costs no separate record object per filter.
 */
export class StreamSlot implements StreamBinding, ContextRecord {
  readonly vm: PluginVm;
  /** The stream context id in `vm` (ContextRecord.id); 0 once the context was deleted or never created. */
  id = 0;
  readonly rootContextId: number;
  readonly stream: StreamBinding = this;
  /** The VM failed while serving this stream. */
  dead = false;
  /** The failure policy was applied for this stream already. */
  failureHandled = false;
  /** Bit per HeaderMapType this filter may access now. */
  open = 0;
  /** The body buffer of the body callback running now, per direction (null outside it). */
  requestBody: BodyBuffer | null = null;
  responseBody: BodyBuffer | null = null;
  /**
   * Data held by this filter after StopIterationAndBuffer/Watermark, and buffered data released
   * by proxy_continue_stream (forwarded with the next chunk), per direction. Allocated when a
   * filter first holds data: most streams never do.
   */
  private held: { readonly buffered: Pair; readonly released: Pair } | undefined;

  constructor(private readonly host: SlotHost, readonly plugin: WasmPlugin, readonly index: number) {
    this.vm = plugin.pick();
    this.rootContextId = this.vm.rootContextId;
  }

  /** Data held per direction (read-only view; write with setBuffered). */
  get buffered(): Readonly<Pair> {
    return this.held === undefined ? NOTHING_HELD : this.held.buffered;
  }

  get released(): Readonly<Pair> {
    return this.held === undefined ? NOTHING_HELD : this.held.released;
  }

  setBuffered(dir: 0 | 1, data: Uint8Array | null): void {
    if (data === null && this.held === undefined) return;
    (this.held ??= { buffered: [null, null], released: [null, null] }).buffered[dir] = data;
  }

  setReleased(dir: 0 | 1, data: Uint8Array | null): void {
    if (data === null && this.held === undefined) return;
    (this.held ??= { buffered: [null, null], released: [null, null] }).released[dir] = data;
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
    return type === 0 ? this.requestBody : this.responseBody;
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

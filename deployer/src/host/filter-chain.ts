/**
 * Envoy's HTTP filter manager over an ordered chain of wasm filters. Request callbacks run in
 * chain order, response callbacks in reverse order (Envoy encoder filters). A Stop* status
 * pauses the direction until the filter calls proxy_continue_stream (from any later callback,
 * an http call response or a timer). Body: StopIterationAndBuffer/Watermark keep the data at
 * the filter and hand the accumulated buffer to it on the next body callback (Envoy's
 * buffering_request_body_), up to the stream's buffer limit (StreamInfo.bufferLimitBytes: past it
 * Buffer ends the stream with 413 / 500, Watermark waits for the filter); NoBuffer drops it. A local reply sent on the request path runs
 * through the response callbacks of every filter (Envoy sends local replies through the
 * encoder chain) and ends the stream. A trapped VM fails the stream with a 503
 * `wasm_fail_stream` local reply (gRPC UNAVAILABLE), or passes when the plugin is fail-open
 * (envoy:context.cc failStream).
 *
 * Headers StopIteration pauses everything, body included: cpp-host context.cc
 * convertVmCallResultToFilterHeadersStatus turns it into StopAllIterationAndWatermark unless
 * allow_on_headers_stop_iteration is set (proxy-wasm-cpp-host issue #143), which matches the
 * sequential api.ts contract. Contract simplifications: a local reply sent on the
 * response path replaces the response without another pass through the filters; buffered
 * data released by continue_stream before end of stream is forwarded with the next chunk.
 */
import type { DataOutcome, HeaderList, HeadersOutcome, LocalReply, StreamCompletion, StreamInfo, TrailersOutcome } from './api.js';
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus, HeaderMapType } from './abi/constants.js';
import { SerializedPairsCache, type MutablePair } from './abi/pairs.js';
import type { BodyBuffer, FilterState, StreamFacts } from './context.js';
import type { StreamCallbacks } from './plugin-vm.js';
import type { WasmPlugin } from './plugin.js';
import type { Export } from './vm.js';
import { systemClock, type Clock } from './services.js';
import { subMillisNanos } from './abi/wall-clock.js';
import { StreamSlot, type SlotHost } from './stream-slot.js';
import {
  CLOSE_STREAM_DETAILS, concat, FAIL_STREAM_DETAILS, GRPC_UNAVAILABLE, localReplyHeaders, REQUEST_PAYLOAD_TOO_LARGE, RESPONSE_PAYLOAD_TOO_LARGE, toMutable,
} from './chain-support.js';

const REQ = 0;
const RESP = 1;
type Dir = 0 | 1;
const EMPTY = new Uint8Array(0);
const FAILED = -1;
const TEXT = new TextEncoder();
const TOO_LARGE: readonly [LocalReply, LocalReply] = [
  { status: 413, details: REQUEST_PAYLOAD_TOO_LARGE, body: TEXT.encode('Payload Too Large'), headers: [] },
  { status: 500, details: RESPONSE_PAYLOAD_TOO_LARGE, body: TEXT.encode('Internal Server Error'), headers: [] },
];
/**
 * Header maps serialized for proxy_get_header_map_pairs (one buffer for every stream of the
 * process: the serialization is copied into module memory at once). Keyed by the map's content
 * (abi/pairs.ts SerializedPairsCache), so a later read — the next filter of the chain, or the
 * next stream with the same headers — reuses it only while the pairs are the same strings.
 */
const serializedMaps = new SerializedPairsCache();
const headersCallback = (c: StreamCallbacks, dir: Dir): Export | undefined => (dir === REQ ? c.requestHeaders : c.responseHeaders);
const bodyCallback = (c: StreamCallbacks, dir: Dir): Export | undefined => (dir === REQ ? c.requestBody : c.responseBody);
const trailersCallback = (c: StreamCallbacks, dir: Dir): Export | undefined => (dir === REQ ? c.requestTrailers : c.responseTrailers);
const HEADERS_BIT = [1 << HeaderMapType.RequestHeaders, 1 << HeaderMapType.ResponseHeaders] as const;
const TRAILERS_BIT = [1 << HeaderMapType.RequestTrailers, 1 << HeaderMapType.ResponseTrailers] as const;

export type AnyOutcome = HeadersOutcome | DataOutcome | TrailersOutcome;

/**
 * Where an embedder that drives many streams takes outcomes (chain.ts PromiseStream): one object
 * per stream instead of a callback closure per direction. Entry points given DELIVER_TO_RECEIVER
 * as their `done` hand the outcome to the stream's receiver.
 */
export interface OutcomeReceiver {
  receive(dir: 0 | 1, outcome: AnyOutcome): void;
}
/** The `done` argument meaning "deliver to the core's receiver" (never called itself). */
export const DELIVER_TO_RECEIVER: (o: AnyOutcome) => void = () => undefined;
/** 'watermark': a StopIterationAndWatermark buffer went past the limit; the direction waits (flow control). */
type Phase = 'headers' | 'data' | 'watermark' | 'trailers';
interface Pause { readonly phase: Phase; readonly pos: number }
interface HeldData { readonly chunk: Uint8Array; readonly endOfStream: boolean; readonly done: (o: AnyOutcome) => void }

/**
 * One direction of a stream (decoder: request, encoder: response). Plain fields in one object
 * per direction rather than a two-element array per field: a stream is created per request, and
 * each array was two more allocations for the GC.
 */
class Side {
  paused: Pause | undefined = undefined;
  /** The embedder's callback waiting for this direction's outcome. */
  waiting: ((o: AnyOutcome) => void) | undefined = undefined;
  eos = false;
  /** Data flushed ahead of the trailers. */
  trailerData: Uint8Array = EMPTY;
  /** Body that arrived while the headers were paused (emulator only), delivered on resume. */
  held: HeldData | undefined = undefined;
  continueRequested: StreamSlot | undefined = undefined;
  /** The body buffer handed to the filters' body callbacks, reused for each call. */
  body: BodyBuffer | undefined = undefined;
}

function setSlotBody(slot: StreamSlot, dir: Dir, body: BodyBuffer | null): void {
  if (dir === REQ) slot.requestBody = body;
  else slot.responseBody = body;
}


/**
 * A filter whose context still takes callbacks. Module-level rather than a closure in
 * complete(): complete() runs once per stream, and a closure per call is an allocation (and,
 * under esbuild's keepNames, a defineProperty) on the per-request path.
 */
function isLive(slot: StreamSlot): boolean {
  return slot.id !== 0 && !slot.dead && !slot.vm.failed;
}

/**
 * The synchronous core of one stream. Each entry point takes a callback invoked with the
 * outcome, synchronously when no filter pauses, later when the pause ends. The emulator uses
 * the core directly; FilterChainStream wraps it in promises.
 */
export class ChainStreamCore implements SlotHost, StreamFacts {
  readonly slots: StreamSlot[];
  /** Filter state (proxy_set_property & co), created by the first filter that uses it. */
  private state: FilterState | undefined;
  accessLog = false;
  /** The stream's maps: the embedder's lists until a filter first writes (copy on write). */
  requestHeaders: HeaderList | undefined;
  responseHeaders: HeaderList | undefined;
  requestTrailers: HeaderList | undefined;
  responseTrailers: HeaderList | undefined;
  /** Bit per HeaderMapType: the stream's own (mutable) copy of that map. */
  private owned = 0;
  requestBodyBytes = 0;
  responseBodyBytes = 0;
  localReply: LocalReply | undefined;
  completion: StreamCompletion | undefined;
  routeCacheCleared = false;
  /** The stream ended (local reply or reset); later calls answer this reply. */
  ended: LocalReply | undefined;

  private readonly request = new Side();
  private readonly response = new Side();
  private inCallback = false;
  private sendingLocalReply = false;
  private pendingLocalReply: LocalReply | undefined;
  private pendingReset = false;
  private listener: (() => void) | undefined;
  /** Receives outcomes of calls made with DELIVER_TO_RECEIVER. */
  receiver: OutcomeReceiver | undefined;
  /** Registered on a VM while this stream pauses on it (allocated only when a filter pauses). */
  private get failureListener(): () => void {
    return (this.listener ??= () => this.onAsyncFailure());
  }

  constructor(plugins: readonly WasmPlugin[], readonly info: StreamInfo, private readonly clock: Clock) {
    this.slots = new Array(plugins.length);
    for (let i = 0; i < plugins.length; i++) {
      const slot = new StreamSlot(this, plugins[i]!, i);
      this.slots[i] = slot;
      if (slot.vm.failed || !slot.vm.openStreamContext(slot)) slot.dead = true;
    }
  }

  private side(dir: Dir): Side {
    return dir === REQ ? this.request : this.response;
  }

  get facts(): StreamFacts {
    return this;
  }

  /**
   * The stream's filter state. Allocated on first use: most streams never touch it, and a Map
   * per stream was a measurable part of the per-request garbage.
   */
  get filterState(): FilterState {
    return (this.state ??= new Map());
  }

  // ---- SlotHost -------------------------------------------------------------------------

  /**
   * request.duration's end: fixed when the stream completes, as Envoy's StreamInfo
   * onRequestComplete() stores final_time_ and requestComplete() reads it
   * (source/common/stream_info/stream_info_impl.h); unknown before. On the system clock only the
   * wall-clock millisecond is taken at completion, and the nanoseconds are built when a filter
   * reads them (most streams never do): building the bigint costs several bigint allocations and a
   * division on every stream. The sub-millisecond digits are the monotonic clock's, as
   * services.ts systemClock.nowNanos() adds them; they are fixed by the first read.
   */
  get completedAtNanos(): bigint | undefined {
    if (this.completedAt === undefined && this.completedAtMillis !== 0) {
      this.completedAt = BigInt(this.completedAtMillis) * 1_000_000n + BigInt(subMillisNanos());
    }
    return this.completedAt;
  }

  private completedAt: bigint | undefined = undefined;
  /** Wall-clock ms at completion on the system clock; 0: not completed (or another clock). */
  private completedAtMillis = 0;

  map(type: number): HeaderList | null {
    switch (type) {
      case HeaderMapType.RequestHeaders: return this.requestHeaders ?? null;
      case HeaderMapType.RequestTrailers: return this.requestTrailers ?? null;
      case HeaderMapType.ResponseHeaders: return this.responseHeaders ?? null;
      case HeaderMapType.ResponseTrailers: return this.responseTrailers ?? null;
      default: return null;
    }
  }

  serializedMap(type: number): Uint8Array | null {
    const current = this.map(type);
    return current === null ? null : serializedMaps.serialize(current);
  }

  mutableMap(type: number): MutablePair[] | null {
    const current = this.map(type);
    if (current === null) return null;
    if ((this.owned & (1 << type)) !== 0) return current as MutablePair[];
    const copy = toMutable(current);
    this.owned |= 1 << type;
    switch (type) {
      case HeaderMapType.RequestHeaders: this.requestHeaders = copy; break;
      case HeaderMapType.RequestTrailers: this.requestTrailers = copy; break;
      case HeaderMapType.ResponseHeaders: this.responseHeaders = copy; break;
      default: this.responseTrailers = copy;
    }
    return copy;
  }

  requestHeadersModified(): void {
    this.routeCacheCleared = true;
  }

  requestLocalReply(slot: StreamSlot, reply: LocalReply): void {
    if (this.sendingLocalReply || this.ended !== undefined || this.pendingLocalReply !== undefined) return;
    this.pendingLocalReply = reply;
    // envoy:context.cc sendLocalResponse defers to after the VM call.
    slot.vm.vm.afterVmCall(() => this.settleOutsideCallback());
  }

  requestContinue(slot: StreamSlot, dir: Dir): void {
    slot.vm.vm.afterVmCall(() => {
      if (this.inCallback) {
        this.side(dir).continueRequested = slot;
        return;
      }
      this.resume(slot, dir);
    });
  }

  requestReset(slot: StreamSlot): void {
    if (this.ended !== undefined) return;
    this.pendingReset = true;
    slot.vm.vm.afterVmCall(() => this.settleOutsideCallback());
  }

  // ---- entry points ---------------------------------------------------------------------

  decodeHeaders(headers: HeaderList, endOfStream: boolean, done: (o: AnyOutcome) => void): void {
    if (this.answerIfEnded(REQ, done)) return;
    this.requestHeaders = headers;
    this.owned &= ~(1 << HeaderMapType.RequestHeaders);
    this.request.eos = endOfStream;
    this.request.waiting = done;
    this.runHeaders(REQ, 0);
  }

  encodeHeaders(headers: HeaderList, endOfStream: boolean, done: (o: AnyOutcome) => void): void {
    if (this.answerIfEnded(RESP, done)) return;
    this.responseHeaders = headers;
    this.owned &= ~(1 << HeaderMapType.ResponseHeaders);
    this.response.eos = endOfStream;
    this.response.waiting = done;
    this.runHeaders(RESP, 0);
  }

  decodeData(chunk: Uint8Array, endOfStream: boolean, done: (o: AnyOutcome) => void): void {
    this.data(REQ, chunk, endOfStream, done);
  }

  encodeData(chunk: Uint8Array, endOfStream: boolean, done: (o: AnyOutcome) => void): void {
    this.data(RESP, chunk, endOfStream, done);
  }

  decodeTrailers(trailers: HeaderList, done: (o: AnyOutcome) => void): void {
    if (this.answerIfEnded(REQ, done)) return;
    this.requestTrailers = trailers;
    this.owned &= ~(1 << HeaderMapType.RequestTrailers);
    this.request.eos = true;
    this.request.waiting = done;
    this.runTrailers(REQ, 0);
  }

  encodeTrailers(trailers: HeaderList, done: (o: AnyOutcome) => void): void {
    if (this.answerIfEnded(RESP, done)) return;
    this.responseTrailers = trailers;
    this.owned &= ~(1 << HeaderMapType.ResponseTrailers);
    this.response.eos = true;
    this.response.waiting = done;
    this.runTrailers(RESP, 0);
  }

  /**
   * Stream end: proxy_on_log, then proxy_on_done and proxy_on_delete, in every filter. Envoy
   * logs before destroying the filters (source/common/http/conn_manager_impl.cc
   * doDeferredStreamDestroy: filter_manager_.log() then destroyFilters(), whose
   * Context::onDestroy runs onDone + onDelete). Drops the stream's filter state.
   */
  complete(info: StreamCompletion): void {
    this.completion = info;
    if (this.clock === systemClock) {
      this.completedAtMillis = Date.now();
    } else {
      this.completedAt = this.clock.nowNanos();
    }
    this.accessLog = true;
    this.request.waiting = this.response.waiting = undefined;
    const slots = this.slots;
    const listener = this.listener;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (listener !== undefined) slot.vm.failureListeners.delete(listener);
      if (isLive(slot)) slot.vm.callStream(slot.vm.callbacks.log, slot.id);
    }
    this.accessLog = false;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (isLive(slot)) slot.vm.callStream(slot.vm.callbacks.done, slot.id);
      if (isLive(slot)) slot.vm.callStream(slot.vm.callbacks.delete, slot.id);
      slot.vm.closeStreamContext(slot);
    }
    this.state = undefined;
  }

  /** Whether a direction waits for a filter (emulator: getCurrentHttpStreamAction). */
  isPaused(dir: Dir): boolean {
    return this.side(dir).paused !== undefined;
  }

  // ---- iteration ------------------------------------------------------------------------

  private at(dir: Dir, pos: number): StreamSlot {
    return this.slots[dir === REQ ? pos : this.slots.length - 1 - pos]!;
  }

  private answerIfEnded(dir: Dir, done: (o: AnyOutcome) => void): boolean {
    if (this.ended === undefined) return false;
    const outcome: AnyOutcome = { action: 'localReply', reply: this.ended };
    if (done === DELIVER_TO_RECEIVER) this.receiver?.receive(dir, outcome);
    else done(outcome);
    return true;
  }

  private invoke(slot: StreamSlot, fn: Export | undefined, a: number, b?: number): number {
    if (slot.dead || slot.id === 0) return FAILED;
    this.inCallback = true;
    const result = slot.vm.callStream(fn, slot.id, a, b);
    this.inCallback = false;
    if (slot.vm.failed) {
      slot.dead = true;
      return FAILED;
    }
    return result ?? 0;
  }

  /**
   * After a callback: applies a failure, reset or local reply. Returns true when the stream
   * ended (the caller stops iterating); a fail-open failure answers false with status FAILED.
   */
  private interrupted(dir: Dir, slot: StreamSlot, status: number): boolean {
    if (status === FAILED && !slot.failureHandled) {
      slot.failureHandled = true;
      if (!slot.plugin.spec.failOpen) {
        this.pendingLocalReply = undefined;
        this.endWithLocalReply(dir, { status: 503, details: FAIL_STREAM_DETAILS, body: EMPTY, headers: [], grpcStatus: GRPC_UNAVAILABLE });
        return true;
      }
    }
    if (this.pendingReset) {
      this.endWithReset(dir);
      return true;
    }
    if (this.pendingLocalReply !== undefined) {
      const reply = this.pendingLocalReply;
      this.pendingLocalReply = undefined;
      this.endWithLocalReply(dir, reply);
      return true;
    }
    return false;
  }

  private takeContinue(dir: Dir, slot: StreamSlot): boolean {
    const side = this.side(dir);
    if (side.continueRequested !== slot) return false;
    side.continueRequested = undefined;
    return true;
  }

  private pause(dir: Dir, phase: Phase, pos: number, slot: StreamSlot): void {
    this.side(dir).paused = { phase, pos };
    slot.vm.failureListeners.add(this.failureListener);
  }

  private runHeaders(dir: Dir, from: number): void {
    const n = this.slots.length;
    const side = this.side(dir);
    for (let pos = from; pos < n; pos++) {
      const slot = this.at(dir, pos);
      if (slot.dead && slot.failureHandled) continue;
      slot.open |= HEADERS_BIT[dir];
      const count = (dir === REQ ? this.requestHeaders! : this.responseHeaders!).length;
      const status = this.invoke(slot, headersCallback(slot.vm.callbacks, dir), count, side.eos ? 1 : 0);
      if (this.interrupted(dir, slot, status)) return;
      // cpp-host context.cc convertVmCallResultToFilterHeadersStatus: out-of-range values pause
      // (StopAllIterationAndWatermark); 2 maps to Envoy's Continue (envoy context.cc default case).
      const proceed = status === FAILED || status === FilterHeadersStatus.Continue || status === FilterHeadersStatus.ContinueAndEndStream
        || this.takeContinue(dir, slot);
      if (!proceed) {
        this.pause(dir, 'headers', pos, slot);
        return;
      }
      slot.open &= ~HEADERS_BIT[dir];
    }
    const headers = dir === REQ ? this.requestHeaders! : this.responseHeaders!;
    this.settle(dir, { action: 'continue', headers, endOfStream: side.eos, routeCacheCleared: dir === REQ && this.routeCacheCleared });
    const held = side.held;
    if (held !== undefined) {
      side.held = undefined;
      side.eos = held.endOfStream;
      side.waiting = held.done;
      this.runData(dir, 0, held.chunk, held.endOfStream);
    }
  }

  private data(dir: Dir, chunk: Uint8Array, endOfStream: boolean, done: (o: AnyOutcome) => void): void {
    if (this.answerIfEnded(dir, done)) return;
    if (dir === REQ) this.requestBodyBytes += chunk.length;
    else this.responseBodyBytes += chunk.length;
    const side = this.side(dir);
    if (side.paused?.phase === 'headers') {
      // Headers paused (StopAllIteration*): Envoy buffers the body without calling filters and
      // delivers it once the headers continue. Only direct core users (the emulator) get here;
      // api.ts callers wait for the headers outcome first.
      const held = side.held;
      side.held = { chunk: concat(held?.chunk ?? null, chunk), endOfStream, done };
      return;
    }
    side.eos = endOfStream;
    side.waiting = done;
    this.runData(dir, 0, chunk, endOfStream);
  }

  private runData(dir: Dir, from: number, data: Uint8Array, endOfStream: boolean): void {
    const n = this.slots.length;
    const side = this.side(dir);
    // One buffer object per direction, handed to each filter in turn (abi/buffers.ts reads and
    // replaces `bytes` during the call only).
    const body = (side.body ??= { bytes: EMPTY });
    for (let pos = from; pos < n; pos++) {
      const slot = this.at(dir, pos);
      if (slot.dead && slot.failureHandled) continue;
      const held = slot.buffered[dir];
      slot.setBuffered(dir, null);
      body.bytes = concat(held, data);
      setSlotBody(slot, dir, body);
      const status = this.invoke(slot, bodyCallback(slot.vm.callbacks, dir), body.bytes.length, endOfStream ? 1 : 0);
      setSlotBody(slot, dir, null);
      data = body.bytes;
      body.bytes = EMPTY;
      if (this.interrupted(dir, slot, status)) return;
      const released = slot.released[dir];
      slot.setReleased(dir, null);
      if (status === FAILED || status === FilterDataStatus.Continue || this.takeContinue(dir, slot)) {
        data = concat(released, data);
        continue;
      }
      // Out-of-range values count as StopIterationNoBuffer (cpp-host convertVmCallResultToFilterDataStatus).
      if (status >= FilterDataStatus.StopIterationNoBuffer) {
        slot.setBuffered(dir, released);
      } else {
        const buffered = concat(released, data);
        slot.setBuffered(dir, buffered);
        if (this.overBufferLimit(dir, pos, slot, status, buffered.length, endOfStream)) return;
      }
      if (endOfStream) {
        this.pause(dir, 'data', pos, slot);
        return;
      }
      this.settle(dir, { action: 'continue', data: EMPTY, endOfStream: false });
      return;
    }
    this.settle(dir, { action: 'continue', data, endOfStream });
  }

  /**
   * Envoy's stream buffer watermark (filter_manager.cc createBuffer: high watermark at
   * buffer_limit_, crossed when the buffer holds more than the limit). StopIterationAndBuffer:
   * the stream ends with 413 (request) or 500 / a reset (response). StopIterationAndWatermark:
   * flow control instead — the direction's call stays pending (the embedder stops reading) until
   * the filter continues. Answers true when the caller must stop iterating.
   */
  private overBufferLimit(dir: Dir, pos: number, slot: StreamSlot, status: number, length: number, endOfStream: boolean): boolean {
    const limit = this.info.bufferLimitBytes ?? 0;
    if (limit <= 0 || length <= limit) return false;
    if (status === FilterDataStatus.StopIterationAndWatermark) {
      if (endOfStream) return false;
      this.pause(dir, 'watermark', pos, slot);
      return true;
    }
    slot.setBuffered(dir, null);
    this.endWithLocalReply(dir, TOO_LARGE[dir]);
    return true;
  }

  private runTrailers(dir: Dir, from: number): void {
    const n = this.slots.length;
    const side = this.side(dir);
    for (let pos = from; pos < n; pos++) {
      const slot = this.at(dir, pos);
      // Data a filter still holds joins the data flushed ahead of the trailers.
      side.trailerData = concat(concat(side.trailerData.length === 0 ? null : side.trailerData, slot.released[dir] ?? EMPTY), slot.buffered[dir] ?? EMPTY);
      slot.setReleased(dir, null);
      slot.setBuffered(dir, null);
      if (slot.dead && slot.failureHandled) continue;
      slot.open |= TRAILERS_BIT[dir];
      const status = this.invoke(slot, trailersCallback(slot.vm.callbacks, dir), (dir === REQ ? this.requestTrailers! : this.responseTrailers!).length);
      if (this.interrupted(dir, slot, status)) return;
      if (status !== FAILED && status >= FilterTrailersStatus.StopIteration && !this.takeContinue(dir, slot)) {
        this.pause(dir, 'trailers', pos, slot);
        return;
      }
      slot.open &= ~TRAILERS_BIT[dir];
    }
    const bufferedData = side.trailerData;
    side.trailerData = EMPTY;
    const trailers = dir === REQ ? this.requestTrailers! : this.responseTrailers!;
    this.settle(dir, { action: 'continue', trailers, bufferedData });
  }

  private settle(dir: Dir, outcome: AnyOutcome): void {
    const side = this.side(dir);
    const done = side.waiting;
    side.waiting = undefined;
    if (done === DELIVER_TO_RECEIVER) this.receiver?.receive(dir, outcome);
    else done?.(outcome);
  }

  /** proxy_continue_stream: resumes a pause of this filter; releases data it buffered. */
  private resume(slot: StreamSlot, dir: Dir): void {
    if (this.ended !== undefined || this.accessLog) return;
    const side = this.side(dir);
    const pause = side.paused;
    if (pause !== undefined && this.at(dir, pause.pos) === slot) {
      side.paused = undefined;
      slot.vm.failureListeners.delete(this.failureListener);
      if (pause.phase === 'headers') {
        slot.open &= ~HEADERS_BIT[dir];
        this.runHeaders(dir, pause.pos + 1);
      } else if (pause.phase === 'data' || pause.phase === 'watermark') {
        const data = slot.buffered[dir] ?? EMPTY;
        slot.setBuffered(dir, null);
        this.runData(dir, pause.pos + 1, data, pause.phase === 'data');
      } else {
        slot.open &= ~TRAILERS_BIT[dir];
        this.runTrailers(dir, pause.pos + 1);
      }
      return;
    }
    const buffered = slot.buffered[dir];
    if (buffered !== null) {
      slot.setReleased(dir, concat(slot.released[dir], buffered));
      slot.setBuffered(dir, null);
    }
  }

  /** A local reply or reset requested outside a stream callback (http call response, timer). */
  private settleOutsideCallback(): void {
    if (this.inCallback || this.ended !== undefined || this.accessLog) return;
    const dir: Dir = this.response.waiting !== undefined || this.responseHeaders !== undefined ? RESP : REQ;
    if (this.pendingReset) {
      this.endWithReset(dir);
    } else if (this.pendingLocalReply !== undefined) {
      const reply = this.pendingLocalReply;
      this.pendingLocalReply = undefined;
      this.endWithLocalReply(dir, reply);
    }
  }

  /** A VM this stream waits on failed outside a stream callback (e.g. in an http call response). */
  private onAsyncFailure(): void {
    for (const dir of [REQ, RESP] as const) {
      const side = this.side(dir);
      const pause = side.paused;
      if (pause === undefined) continue;
      const slot = this.at(dir, pause.pos);
      if (!slot.vm.failed) continue;
      slot.dead = true;
      side.paused = undefined;
      slot.vm.failureListeners.delete(this.failureListener);
      if (this.interrupted(dir, slot, FAILED)) return;
      // fail-open: carry on as if the filter continued.
      if (pause.phase === 'headers') this.runHeaders(dir, pause.pos + 1);
      else if (pause.phase === 'data' || pause.phase === 'watermark') this.runData(dir, pause.pos + 1, slot.buffered[dir] ?? EMPTY, pause.phase === 'data');
      else this.runTrailers(dir, pause.pos + 1);
    }
  }

  private endWithReset(dir: Dir): void {
    this.pendingReset = false;
    const reply: LocalReply = { status: 0, details: CLOSE_STREAM_DETAILS, body: EMPTY, headers: [], reset: true };
    this.finishEnded(dir, reply);
  }

  private endWithLocalReply(dir: Dir, reply: LocalReply): void {
    const final = dir === REQ ? this.encodeLocalReply(reply) : reply;
    this.finishEnded(dir, final);
  }

  private finishEnded(dir: Dir, reply: LocalReply): void {
    this.ended = reply;
    this.localReply = reply;
    this.request.paused = this.response.paused = undefined;
    if (this.listener !== undefined) for (const slot of this.slots) slot.vm.failureListeners.delete(this.listener);
    const outcome: AnyOutcome = { action: 'localReply', reply };
    const other: Dir = dir === REQ ? RESP : REQ;
    this.settle(dir, outcome);
    this.settle(other, outcome);
    for (const [d, side] of [[REQ, this.request], [RESP, this.response]] as const) {
      const held = side.held;
      side.held = undefined;
      if (held === undefined) continue;
      if (held.done === DELIVER_TO_RECEIVER) this.receiver?.receive(d, outcome);
      else held.done(outcome);
    }
  }

  /** Runs a request-path local reply through every filter's response callbacks (Envoy encoder chain). */
  private encodeLocalReply(reply: LocalReply): LocalReply {
    const headers = localReplyHeaders(reply);
    this.responseHeaders = headers;
    this.owned |= 1 << HeaderMapType.ResponseHeaders;
    this.sendingLocalReply = true;
    let body = reply.body;
    try {
      for (let pos = 0; pos < this.slots.length; pos++) {
        const slot = this.at(RESP, pos);
        if (slot.dead) continue;
        slot.open |= HEADERS_BIT[RESP];
        this.invoke(slot, slot.vm.callbacks.responseHeaders, headers.length, body.length === 0 ? 1 : 0);
        slot.open &= ~HEADERS_BIT[RESP];
        if (body.length > 0 && !slot.dead) {
          const buffer = { bytes: body };
          slot.responseBody = buffer;
          this.invoke(slot, slot.vm.callbacks.responseBody, body.length, 1);
          slot.responseBody = null;
          body = buffer.bytes;
        }
      }
    } finally {
      this.sendingLocalReply = false;
      this.pendingLocalReply = undefined;
      this.pendingReset = false;
    }
    const status = Number(headers.find(([k]) => k === ':status')?.[1] ?? reply.status);
    return { ...reply, status, body, headers: headers.filter(([k]) => k !== ':status') };
  }
}

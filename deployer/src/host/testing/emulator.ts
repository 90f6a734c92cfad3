/**
 * HostEmulator: a test API in the spirit of proxy-wasm-go-sdk's `proxytest`, named after the
 * ABI, over the real host (same ABI implementation, same filter chain). Differences from the
 * real host: the clock is controllable (`advanceTimeMs`), timers fire on `tick()`, http calls
 * are answered by the test (`respondToHttpCall` / `failHttpCall`), logs are collected.
 *
 * ```ts
 * const emu = await HostEmulator.load({ wasm: builtFilter('rbac'), configuration: JSON.stringify(cfg) });
 * expect(emu.startPlugin()).toBe(true) // already started by load unless { start: false }
 * const id = emu.initializeHttpContext();
 * expect(emu.callOnRequestHeaders(id, [[':method', 'GET'], [':path', '/'], [':authority', 'a']], true)).toBe('EndWithLocalResponse');
 * expect(emu.getSentLocalResponse(id)?.status).toBe(403);
 * emu.completeHttpContext(id);
 * ```
 */
import { readFileSync } from 'node:fs';
import type { DnsAnswer } from '../abi/dns.js';
import type { HeaderList, ListenerDirection, LocalReply, LogEntry, LogLevel, MetricSample, NodeInfo, StreamInfo } from '../api.js';
import { createProxyWasmHost, type WasmProxyHost } from '../host.js';
import type { AnyOutcome, ChainStreamCore } from '../filter-chain.js';
import type { WasmFilterChain } from '../chain.js';
import type { WasmPlugin } from '../plugin.js';
import type { ForeignFunction } from '../services.js';
import { ManualClock, ManualTimers } from './manual-time.js';
import { ScriptedClusters, type RecordedHttpCall } from './scripted-clusters.js';
import { StreamTemplate } from './stream-template.js';
import { LOG_LEVEL_ORDER } from '../services.js';

export type HttpStreamAction = 'Continue' | 'Pause' | 'EndWithLocalResponse';

export interface EmulatorOptions {
  /** The built module: bytes or a file path. */
  readonly wasm: Uint8Array | string;
  readonly configuration?: string;
  readonly vmConfiguration?: string;
  readonly rootId?: string;
  readonly name?: string;
  readonly vmId?: string;
  readonly failOpen?: boolean;
  readonly workers?: number;
  readonly node?: NodeInfo;
  readonly listenerDirection?: ListenerDirection;
  /** Lowest level collected; default trace (everything). */
  readonly logLevel?: LogLevel;
  /** Known cluster names for http calls; default: every name is a cluster. */
  readonly clusters?: readonly string[];
  /** Start time of the manual clock (ms since epoch). */
  readonly startTimeMs?: number;
  /** Start the VM and plugin in load() (default true); otherwise call startPlugin(). */
  readonly start?: boolean;
}

/** What completeHttpContext reports besides the response code (api.ts StreamCompletion). */
export interface CompletionOverrides {
  readonly responseFlags?: string;
  readonly responseCodeDetails?: string;
  readonly clusterName?: string;
  readonly routeName?: string;
}

export interface HttpContextOptions {
  readonly streamInfo?: Partial<StreamInfo>;
}

interface HttpContextState {
  readonly core: ChainStreamCore;
  action: HttpStreamAction;
  lastRequestBody: Uint8Array;
  lastResponseBody: Uint8Array;
  completed: boolean;
}

const encoder = new TextEncoder();

export class HostEmulator {
  readonly clock: ManualClock;
  readonly clusters: ScriptedClusters;
  readonly host: WasmProxyHost;
  private readonly logs: LogEntry[] = [];
  private plugin: WasmPlugin | undefined;
  private chain: WasmFilterChain | undefined;
  private startError: string | undefined;
  private readonly contexts = new Map<number, HttpContextState>();
  private nextId = 1;
  private readonly template = new StreamTemplate();
  private readonly dnsAnswers = new Map<string, readonly DnsAnswer[]>();

  private constructor(private readonly options: EmulatorOptions, private readonly wasm: Uint8Array) {
    this.clock = new ManualClock(options.startTimeMs);
    this.clusters = new ScriptedClusters(options.clusters === undefined ? undefined : new Set(options.clusters));
    this.host = createProxyWasmHost({
      clusters: this.clusters,
      clock: this.clock,
      timers: new ManualTimers(),
      logLevel: options.logLevel ?? 'trace',
      onLog: (entry) => this.logs.push(entry),
      resolveDns: (name) => {
        const answers = this.dnsAnswers.get(name);
        return answers === undefined ? Promise.reject(new Error(`${name}: no scripted answer`)) : Promise.resolve(answers);
      },
      ...(options.node ? { node: options.node } : {}),
      ...(options.listenerDirection ? { listenerDirection: options.listenerDirection } : {}),
    });
  }

  static async load(options: EmulatorOptions): Promise<HostEmulator> {
    const wasm = typeof options.wasm === 'string' ? new Uint8Array(readFileSync(options.wasm)) : options.wasm;
    const emulator = new HostEmulator(options, wasm);
    if (options.start !== false) {
      await emulator.startPlugin();
      if (emulator.startError !== undefined) throw new Error(emulator.startError);
    }
    return emulator;
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** Envoy starts the VM and configures the plugin together; same as startPlugin(). */
  startVM(): Promise<boolean> {
    return this.startPlugin();
  }

  /** _initialize, proxy_on_vm_start and proxy_on_configure; false (see getStartError) when refused. */
  async startPlugin(): Promise<boolean> {
    if (this.plugin !== undefined) return true;
    try {
      this.plugin = await this.host.loadPlugin({
        name: this.options.name ?? (this.options.rootId || 'plugin'),
        rootId: this.options.rootId ?? '',
        ...(this.options.vmId !== undefined ? { vmId: this.options.vmId } : {}),
        wasm: this.wasm,
        configuration: this.options.configuration ?? '',
        ...(this.options.vmConfiguration !== undefined ? { vmConfiguration: this.options.vmConfiguration } : {}),
        failOpen: this.options.failOpen ?? false,
        workers: this.options.workers ?? 1,
      });
      this.chain = this.host.newFilterChain([this.plugin]);
      return true;
    } catch (error) {
      this.startError = error instanceof Error ? error.message : String(error);
      return false;
    }
  }

  getStartError(): string | undefined {
    return this.startError;
  }

  /** proxy_on_configure with a new configuration; rejects (keeping the old one) when refused. */
  reconfigure(configuration: string): Promise<void> {
    return this.requirePlugin().reconfigure(configuration);
  }

  private requirePlugin(): WasmPlugin {
    if (this.plugin === undefined) throw new Error(`the plugin is not started${this.startError ? `: ${this.startError}` : ''}; call startPlugin() first`);
    return this.plugin;
  }

  // ---- properties of new streams --------------------------------------------------------

  /** Sets a property for streams created afterwards (StreamTemplate.setProperty lists the paths). */
  setProperty(path: string, value: string | Uint8Array): void {
    this.template.setProperty(path, value);
  }

  // ---- http streams ---------------------------------------------------------------------

  /** Creates a stream context (proxy_on_context_create) and returns its id. */
  initializeHttpContext(options?: HttpContextOptions): number {
    const chain = this.chain ?? (this.requirePlugin(), this.chain!);
    const core = chain.newCore(this.template.streamInfo(options?.streamInfo, new Date(this.clock.nowMs)));
    for (const [key, value] of this.template.filterState) core.filterState.set(key, { value, readOnly: false });
    const id = this.nextId++;
    this.contexts.set(id, { core, action: 'Continue', lastRequestBody: new Uint8Array(0), lastResponseBody: new Uint8Array(0), completed: false });
    return id;
  }

  private state(id: number): HttpContextState {
    const state = this.contexts.get(id);
    if (state === undefined) throw new Error(`unknown http context ${id}; expected an id from initializeHttpContext()`);
    return state;
  }

  private drive(id: number, run: (core: ChainStreamCore, done: (o: AnyOutcome) => void) => void, onData?: (state: HttpContextState, data: Uint8Array) => void): HttpStreamAction {
    const state = this.state(id);
    let settled = false;
    // The outcome may arrive later (proxy_continue_stream from a tick or an http call response).
    run(state.core, (outcome) => {
      settled = true;
      if (outcome.action === 'continue' && 'data' in outcome) onData?.(state, outcome.data);
      state.action = this.actionOf(state, outcome);
    });
    if (!settled) state.action = state.core.ended !== undefined ? 'EndWithLocalResponse' : 'Pause';
    return state.action;
  }

  private actionOf(state: HttpContextState, outcome: AnyOutcome): HttpStreamAction {
    if (state.core.ended !== undefined) return 'EndWithLocalResponse';
    if ('data' in outcome && state.core.slots.some((s) => s.buffered[0] !== null || s.buffered[1] !== null)) return 'Pause';
    return 'Continue';
  }

  callOnRequestHeaders(id: number, headers: HeaderList, endOfStream = false): HttpStreamAction {
    return this.drive(id, (core, done) => core.decodeHeaders(headers, endOfStream, done));
  }
  callOnRequestBody(id: number, body: Uint8Array | string, endOfStream = false): HttpStreamAction {
    const bytes = typeof body === 'string' ? encoder.encode(body) : body;
    return this.drive(id, (core, done) => core.decodeData(bytes, endOfStream, done), (s, d) => { s.lastRequestBody = d; });
  }
  callOnRequestTrailers(id: number, trailers: HeaderList): HttpStreamAction {
    return this.drive(id, (core, done) => core.decodeTrailers(trailers, done));
  }
  callOnResponseHeaders(id: number, headers: HeaderList, endOfStream = false): HttpStreamAction {
    return this.drive(id, (core, done) => core.encodeHeaders(headers, endOfStream, done));
  }
  callOnResponseBody(id: number, body: Uint8Array | string, endOfStream = false): HttpStreamAction {
    const bytes = typeof body === 'string' ? encoder.encode(body) : body;
    return this.drive(id, (core, done) => core.encodeData(bytes, endOfStream, done), (s, d) => { s.lastResponseBody = d; });
  }
  callOnResponseTrailers(id: number, trailers: HeaderList): HttpStreamAction {
    return this.drive(id, (core, done) => core.encodeTrailers(trailers, done));
  }

  /**
   * proxy_on_log, proxy_on_done, proxy_on_delete (Envoy's order). `completion` sets what the
   * proxy would report for the stream (response flags such as `UF,URX`, details, cluster).
   */
  completeHttpContext(id: number, responseCode?: number, completion?: CompletionOverrides): void {
    const state = this.state(id);
    if (state.completed) return;
    state.completed = true;
    const core = state.core;
    const status = Number(core.responseHeaders?.find(([k]) => k === ':status')?.[1] ?? core.ended?.status ?? 0);
    core.complete({
      responseCode: responseCode ?? status,
      responseCodeDetails: completion?.responseCodeDetails ?? core.ended?.details ?? (status > 0 ? 'via_upstream' : ''),
      responseFlags: completion?.responseFlags ?? '-',
      ...(completion?.clusterName !== undefined ? { clusterName: completion.clusterName } : {}),
      ...(completion?.routeName !== undefined ? { routeName: completion.routeName } : {}),
      bytesReceived: core.requestBodyBytes,
      bytesSent: core.responseBodyBytes,
    });
  }

  getCurrentHttpStreamAction(id: number): HttpStreamAction {
    const state = this.state(id);
    if (state.core.ended !== undefined) return 'EndWithLocalResponse';
    if (state.core.isPaused(0) || state.core.isPaused(1)) return 'Pause';
    return state.action;
  }

  getCurrentRequestHeaders(id: number): [string, string][] {
    return (this.state(id).core.requestHeaders ?? []).map(([k, v]) => [k, v]);
  }
  getCurrentResponseHeaders(id: number): [string, string][] {
    return (this.state(id).core.responseHeaders ?? []).map(([k, v]) => [k, v]);
  }
  getCurrentRequestTrailers(id: number): [string, string][] {
    return (this.state(id).core.requestTrailers ?? []).map(([k, v]) => [k, v]);
  }
  getCurrentResponseTrailers(id: number): [string, string][] {
    return (this.state(id).core.responseTrailers ?? []).map(([k, v]) => [k, v]);
  }
  /** The request body as forwarded by the last body call, or as buffered by a pausing filter. */
  getCurrentRequestBody(id: number): Uint8Array {
    const state = this.state(id);
    return state.core.slots.find((s) => s.buffered[0] !== null)?.buffered[0] ?? state.lastRequestBody;
  }
  getCurrentResponseBody(id: number): Uint8Array {
    const state = this.state(id);
    return state.core.slots.find((s) => s.buffered[1] !== null)?.buffered[1] ?? state.lastResponseBody;
  }
  getSentLocalResponse(id: number): LocalReply | undefined {
    return this.state(id).core.ended;
  }
  /** Filter state of a stream (`wasm.<path>` entries written by proxy_set_property). */
  getFilterState(id: number, key: string): Uint8Array | undefined {
    return this.state(id).core.filterState.get(key)?.value;
  }

  // ---- http calls -----------------------------------------------------------------------

  /** Every proxy_http_call made so far (the call "attributes": cluster, headers, body, timeout). */
  getHttpCalls(): readonly RecordedHttpCall[] {
    return this.clusters.calls;
  }
  getCalloutAttributesFromContext(): readonly RecordedHttpCall[] {
    return this.getHttpCalls();
  }

  private vmWithCall(token: number) {
    const vm = this.requirePlugin().instances.find((v) => v.httpCalls.has(token));
    if (vm === undefined) throw new Error(`no pending http call with token ${token}; pending: ${this.requirePlugin().instances.flatMap((v) => [...v.httpCalls.keys()]).join(', ') || 'none'}`);
    return vm;
  }

  /** Delivers proxy_on_http_call_response with these headers/body/trailers. */
  respondToHttpCall(token: number, headers: HeaderList, body: Uint8Array | string = new Uint8Array(0), trailers: HeaderList = []): void {
    this.vmWithCall(token).deliverHttpCallResponse(token, { headers, body: typeof body === 'string' ? encoder.encode(body) : body, trailers });
  }

  /** Delivers a failed call (reset/timeout): proxy_on_http_call_response with 0 headers. */
  failHttpCall(token: number): void {
    this.vmWithCall(token).deliverHttpCallResponse(token, undefined);
  }

  // ---- timers and time ------------------------------------------------------------------

  /** proxy_on_tick on every VM whose root context set a tick period. */
  /** Answers envoy_resolve_dns lookups of `name` (a name without answers fails: size 0). */
  setDnsAnswers(name: string, answers: readonly DnsAnswer[]): void {
    this.dnsAnswers.set(name, answers);
  }

  /** Lets pending envoy_resolve_dns answers reach the module. */
  async flushDns(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  tick(): void {
    for (const vm of this.requirePlugin().instances) if (vm.tickPeriodMs > 0) vm.tick();
  }
  getTickPeriod(): number {
    return this.requirePlugin().instances[0]?.tickPeriodMs ?? 0;
  }
  advanceTimeMs(ms: number): void {
    this.clock.advanceMs(ms);
  }
  setTimeMs(ms: number): void {
    this.clock.setTimeMs(ms);
  }

  // ---- metrics, logs, shared state ------------------------------------------------------

  private metric(name: string, type: MetricSample['type']): MetricSample | undefined {
    return this.host.metrics().find((m) => m.name === name && m.type === type);
  }
  getCounterMetric(name: string): number | undefined {
    return this.metric(name, 'counter')?.value;
  }
  getGaugeMetric(name: string): number | undefined {
    return this.metric(name, 'gauge')?.value;
  }
  getHistogramMetric(name: string): MetricSample | undefined {
    return this.metric(name, 'histogram');
  }

  /** Messages logged at exactly `level` (all levels when omitted), oldest first. */
  getLogs(level?: LogLevel): string[] {
    return this.logs.filter((e) => level === undefined || e.level === level).map((e) => e.message);
  }
  getLogEntries(minLevel: LogLevel = 'trace'): LogEntry[] {
    return this.logs.filter((e) => LOG_LEVEL_ORDER[e.level] >= LOG_LEVEL_ORDER[minLevel]);
  }

  getSharedData(key: string): { value: Uint8Array; cas: number } | undefined {
    return this.host.services.sharedData.get(this.options.vmId ?? '', key);
  }
  setSharedData(key: string, value: Uint8Array | string, cas = 0): number {
    return this.host.services.sharedData.set(this.options.vmId ?? '', key, typeof value === 'string' ? encoder.encode(value) : value, cas);
  }
  /** Pending items of a shared queue of this plugin's vm_id. */
  getQueueData(name: string): readonly Uint8Array[] {
    return this.host.services.queues.peek(this.options.vmId ?? '', name);
  }

  setForeignFunction(name: string, fn: ForeignFunction): void {
    this.host.services.foreignFunctions.set(name, fn);
  }
  /** Calls a host foreign function as a filter would (no stream effects). */
  callForeignFunction(name: string, args: Uint8Array): readonly [number, Uint8Array] {
    const fn = this.host.services.foreignFunctions.get(name);
    if (fn === undefined) return [1, new Uint8Array(0)];
    return fn(args, { declareProperty: () => 0 });
  }

  isVmFailed(): boolean {
    return this.plugin?.instances.some((vm) => vm.failed) ?? false;
  }
  /** Reloads after a VM failure (Envoy FAIL_RELOAD), counted in `wasm.<plugin>.vm_reloads`. */
  getVmReloadCount(): number {
    return this.plugin?.reloadCount ?? 0;
  }
  getVmMemoryPages(): number[] {
    return this.plugin?.instances.map((vm) => vm.vm.pages) ?? [];
  }

  close(): Promise<void> {
    return this.host.close();
  }
}

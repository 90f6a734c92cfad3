/**
 * One VM of a plugin (Envoy: one Wasm per worker thread) and the contexts living in it:
 * the root context (proxy_on_context_create(root, 0), proxy_on_vm_start, proxy_on_configure)
 * and stream contexts. Host functions act on the current context, or on the effective
 * context set with proxy_set_effective_context for the rest of the call
 * (cpp-host src/exports.cc contextOrEffectiveContext).
 */
import type { HttpCallResponse, PluginSpec } from './api.js';
import type { AbiVersion } from './abi/envoy-abi.js';
import type { ModuleImport } from './abi/wasm-binary.js';
import { VmMetrics } from './abi/metrics.js';
import type { QueueOwner } from './abi/shared-queue.js';
import type { StreamBinding } from './context.js';
import type { HostServices, TimerHandle } from './services.js';
import { WasmVm, type Export, type ImportObject } from './vm.js';
import { buildImports } from './abi/imports.js';
import { ContextTable } from './context-table.js';

export interface ContextRecord {
  readonly id: number;
  /** 0 for a root context. */
  readonly rootContextId: number;
  readonly stream: StreamBinding | undefined;
}

export interface PendingHttpCall {
  readonly rootContextId: number;
  cancelled: boolean;
}

/**
 * The module's stream callbacks, looked up once per VM: the per-request path calls them by
 * reference instead of by name. Undefined when the module does not export one; the call is then
 * skipped and answers Continue, as cpp-host skips a callback the module lacks (context.cc:
 * `if (!wasm_->on_request_headers_abi_02_) return Continue`).
 */
export interface StreamCallbacks {
  readonly contextCreate: Export | undefined;
  readonly requestHeaders: Export | undefined;
  readonly requestBody: Export | undefined;
  readonly requestTrailers: Export | undefined;
  readonly responseHeaders: Export | undefined;
  readonly responseBody: Export | undefined;
  readonly responseTrailers: Export | undefined;
  readonly log: Export | undefined;
  readonly done: Export | undefined;
  readonly delete: Export | undefined;
}

const encoder = new TextEncoder();

export class PluginVm implements QueueOwner {
  readonly vm: WasmVm;
  readonly metrics: VmMetrics;
  readonly rootContextId: number;
  /** Live contexts by id (not a Map: see context-table.ts). */
  readonly contexts = new ContextTable<ContextRecord>();
  private readonly exportCache = new Map<string, Export | undefined>();
  readonly callbacks: StreamCallbacks;
  private nextContextId = 1;
  currentContextId = 0;
  effectiveContextId = 0;
  /** Plugin configuration visible through the PluginConfiguration buffer (during on_configure). */
  pluginConfiguration: Uint8Array | null = null;
  readonly vmConfiguration: Uint8Array;
  /** Set while proxy_on_http_call_response runs (HttpCallResponse* maps and buffer). */
  httpCallResponse: HttpCallResponse | null = null;
  /** CallData buffer (foreign function callbacks). */
  callData: Uint8Array | null = null;
  /** Properties declared read-only with the declare_property foreign function (root context state). */
  readonly declaredReadOnly = new Set<string>();
  readonly declaredProperties = new Set<string>();
  readonly httpCalls = new Map<number, PendingHttpCall>();
  nextHttpCallToken = 1;
  /** get_status answer of the root context (envoy:context.cc onHttpCallFailure sets BrokenConnection/"reset"). */
  status: { code: number; message: string } = { code: 0, message: '' };
  tickTimer: TimerHandle | undefined;
  /** Period set by proxy_set_tick_period_milliseconds (0: none). */
  tickPeriodMs = 0;
  /** Root contexts whose proxy_on_done answered false: proxy_done completes them. */
  readonly pendingDone = new Set<number>();
  /** Streams paused on this VM, told when it fails outside a stream callback. */
  readonly failureListeners = new Set<() => void>();
  /** Shut down: late queue/timer deliveries are dropped. */
  private closed = false;
  /** Last warn/error/critical log line: added to refusal errors so they say why. */
  lastProblem: string | undefined;
  /** Last configuration proxy_on_configure accepted. */
  lastGoodConfiguration: Uint8Array | undefined;

  constructor(
    readonly spec: PluginSpec,
    readonly services: HostServices,
    module: WebAssembly.Module,
    readonly abiVersion: AbiVersion,
    engineImports: readonly ModuleImport[] = [],
  ) {
    this.metrics = new VmMetrics(services.stats);
    this.vmConfiguration = encoder.encode(spec.vmConfiguration ?? '');
    const imports: ImportObject = buildImports(this);
    // Imported memories and tables are created by the engine, one per VM (cpp-host v8.cc link).
    for (const entry of engineImports) {
      const limits = entry.limits ?? { initial: 0 };
      const created = entry.kind === 'memory'
        ? new WebAssembly.Memory({ initial: limits.initial, ...(limits.maximum !== undefined ? { maximum: limits.maximum } : {}), ...(limits.shared ? { shared: true } : {}) } as WebAssembly.MemoryDescriptor)
        : new WebAssembly.Table({ element: entry.element === 'externref' ? 'externref' : 'anyfunc', initial: limits.initial, ...(limits.maximum !== undefined ? { maximum: limits.maximum } : {}) } as WebAssembly.TableDescriptor);
      imports[entry.module] = { ...imports[entry.module], [entry.name]: created };
    }
    this.vm = new WasmVm(module, imports, abiVersion);
    const vm = this.vm;
    this.callbacks = {
      contextCreate: vm.exported('proxy_on_context_create'),
      requestHeaders: vm.exported('proxy_on_request_headers'),
      requestBody: vm.exported('proxy_on_request_body'),
      requestTrailers: vm.exported('proxy_on_request_trailers'),
      responseHeaders: vm.exported('proxy_on_response_headers'),
      responseBody: vm.exported('proxy_on_response_body'),
      responseTrailers: vm.exported('proxy_on_response_trailers'),
      log: vm.exported('proxy_on_log'),
      done: vm.exported('proxy_on_done'),
      delete: vm.exported('proxy_on_delete'),
    };
    this.rootContextId = this.nextContextId++;
    this.contexts.set({ id: this.rootContextId, rootContextId: 0, stream: undefined });
  }

  get vmId(): string {
    return this.spec.vmId ?? '';
  }

  get failed(): boolean {
    return this.vm.failed;
  }

  /** The context host functions act on now. */
  context(): ContextRecord | undefined {
    return this.contexts.get(this.effectiveContextId !== 0 ? this.effectiveContextId : this.currentContextId);
  }

  rootOf(record: ContextRecord): number {
    return record.rootContextId === 0 ? record.id : record.rootContextId;
  }

  /** Calls a module export "in" a context, saving/restoring the current and effective context. */
  callIn(contextId: number, name: string, a?: number, b?: number, c?: number, d?: number, e?: number): number | undefined {
    let fn = this.exportCache.get(name);
    if (fn === undefined && !this.exportCache.has(name)) {
      fn = this.vm.exported(name);
      this.exportCache.set(name, fn);
    }
    const savedCurrent = this.currentContextId;
    const savedEffective = this.effectiveContextId;
    this.currentContextId = contextId;
    this.effectiveContextId = 0;
    const result = this.vm.invoke(fn, a, b, c, d, e);
    this.currentContextId = savedCurrent;
    this.effectiveContextId = savedEffective;
    return result;
  }

  /** _initialize/_start, root context creation and proxy_on_vm_start. Returns an error text or undefined. */
  start(configuration: Uint8Array | null = null): string | undefined {
    if (!this.vm.start()) return `start function trapped: ${this.vm.failureReason?.message}`;
    // cpp-host context.cc ContextBase::onStart: the root's on_context_create sees the plugin
    // (temp_plugin_: its configuration); on_vm_start does not.
    this.pluginConfiguration = configuration;
    try {
      this.callIn(this.rootContextId, 'proxy_on_context_create', this.rootContextId, 0);
    } finally {
      this.pluginConfiguration = null;
    }
    if (this.vm.failed) return `proxy_on_context_create trapped: ${this.vm.failureReason?.message}`;
    const ok = this.callIn(this.rootContextId, 'proxy_on_vm_start', this.rootContextId, this.vmConfiguration.length);
    if (this.vm.failed) return `proxy_on_vm_start trapped: ${this.vm.failureReason?.message}`;
    // A module without proxy_on_vm_start is started (cpp-host ContextBase::onStart).
    if (ok === 0) return 'proxy_on_vm_start returned false';
    return undefined;
  }

  /** proxy_on_configure with the given plugin configuration; a false return refuses it. */
  configure(configuration: Uint8Array): string | undefined {
    this.pluginConfiguration = configuration;
    this.lastProblem = undefined;
    try {
      const ok = this.callIn(this.rootContextId, 'proxy_on_configure', this.rootContextId, configuration.length);
      if (this.vm.failed) return `proxy_on_configure trapped: ${this.vm.failureReason?.message}`;
      if (ok === 0) return `proxy_on_configure returned false (configuration refused)${this.lastProblem !== undefined ? `: ${this.lastProblem}` : ''}`;
      this.lastGoodConfiguration = configuration;
      return undefined;
    } finally {
      this.pluginConfiguration = null;
    }
  }

  /**
   * A stream callback of a stream context (a StreamCallbacks entry), with the context current
   * for the call. Undefined when the module lacks the callback or the VM failed.
   */
  callStream(fn: Export | undefined, contextId: number, a?: number, b?: number): number | undefined {
    if (fn === undefined) return undefined;
    const savedCurrent = this.currentContextId;
    const savedEffective = this.effectiveContextId;
    this.currentContextId = contextId;
    this.effectiveContextId = 0;
    const result = this.vm.invoke(fn, contextId, a, b);
    this.currentContextId = savedCurrent;
    this.effectiveContextId = savedEffective;
    return result;
  }

  /**
   * Creates a stream context for `record` (a filter-chain stream slot, its own context record):
   * gives it the next id, registers it and runs proxy_on_context_create. False when the VM failed
   * (the record then has no context: id 0).
   */
  openStreamContext(record: { id: number; readonly rootContextId: number; readonly stream: StreamBinding | undefined }): boolean {
    const id = this.nextContextId++;
    record.id = id;
    this.contexts.set(record);
    this.callStream(this.callbacks.contextCreate, id, this.rootContextId);
    if (!this.vm.failed) return true;
    this.contexts.delete(id);
    record.id = 0;
    return false;
  }

  /** Removes a stream context from the table once proxy_on_delete ran (or the VM failed). */
  closeStreamContext(record: { id: number }): void {
    if (record.id === 0) return;
    this.contexts.delete(record.id);
    record.id = 0;
  }

  queueReady(rootContextId: number, token: number): void {
    if (this.closed || this.vm.failed || !this.contexts.has(rootContextId)) return;
    this.callIn(rootContextId, 'proxy_on_queue_ready', rootContextId, token);
    this.notifyIfFailed();
  }

  /** After a call outside any stream callback: paused streams apply the failure policy. */
  notifyIfFailed(): void {
    if (!this.vm.failed) return;
    for (const listener of [...this.failureListeners]) listener();
    this.failureListeners.clear();
  }

  /** Delivers an http call response (or failure: undefined) to the root context that made it. */
  deliverHttpCallResponse(token: number, response: HttpCallResponse | undefined): void {
    const call = this.httpCalls.get(token);
    if (call === undefined || call.cancelled) return;
    this.httpCalls.delete(token);
    if (this.vm.failed || !this.contexts.has(call.rootContextId)) return;
    if (response === undefined) {
      this.status = { code: 11, message: 'reset' };
      this.callIn(call.rootContextId, 'proxy_on_http_call_response', call.rootContextId, token, 0, 0, 0);
      this.status = { code: 0, message: '' };
      this.notifyIfFailed();
      return;
    }
    this.httpCallResponse = response;
    try {
      this.callIn(call.rootContextId, 'proxy_on_http_call_response', call.rootContextId, token,
        response.headers.length, response.body.length, response.trailers.length);
    } finally {
      this.httpCallResponse = null;
    }
    this.notifyIfFailed();
  }

  private dnsToken = 0;

  /** envoy wasm.h nextDnsToken: 1, 2, …, never 0. */
  nextDnsToken(): number {
    do this.dnsToken = (this.dnsToken + 1) >>> 0; while (this.dnsToken === 0);
    return this.dnsToken;
  }

  /** envoy context.cc onResolveDns: envoy_on_resolve_dns(root, token, size) with the answer in CallData (size 0: failed). */
  deliverDnsAnswer(rootContextId: number, token: number, answer: Uint8Array | undefined): void {
    if (this.closed || this.vm.failed || !this.contexts.has(rootContextId)) return;
    this.callData = answer ?? new Uint8Array(0);
    try {
      this.callIn(rootContextId, 'envoy_on_resolve_dns', rootContextId, token, answer?.length ?? 0);
    } finally {
      this.callData = null;
    }
    this.notifyIfFailed();
  }

  tick(): void {
    if (this.closed || this.vm.failed) return;
    this.callIn(this.rootContextId, 'proxy_on_tick', this.rootContextId);
    this.notifyIfFailed();
  }

  /** Stops timers and pending calls; runs proxy_on_done on the root context (VM shutdown). */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.tickTimer?.cancel();
    this.tickTimer = undefined;
    for (const call of this.httpCalls.values()) call.cancelled = true;
    this.httpCalls.clear();
    if (!this.vm.failed && this.contexts.has(this.rootContextId)) {
      const done = this.callIn(this.rootContextId, 'proxy_on_done', this.rootContextId);
      if (done === 0) this.pendingDone.add(this.rootContextId);
    }
  }
}

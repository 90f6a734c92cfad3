/**
 * One instance of a proxy-wasm module. Instantiation, start functions, memory helpers and
 * guarded calls: every call into the module is wrapped so a trap (`WebAssembly.RuntimeError`)
 * or an exception thrown by a host function never escapes; the VM is marked failed instead,
 * as cpp-host marks the WasmBase failed (cpp-host src/wasm.cc, src/v8/v8.cc).
 */
import type { AbiVersion } from './abi/envoy-abi.js';

export type ImportFunction = (...args: never[]) => number | bigint | void;
export type ImportModule = Record<string, ImportFunction>;
/** What the engine links: functions, plus the memories and tables a module imports (cpp-host v8.cc link creates those). */
export type ImportObject = Record<string, Record<string, ImportFunction | WebAssembly.Memory | WebAssembly.Table>>;

export class WasmLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmLoadError';
  }
}

/** Thrown by wasi proc_exit and used to unwind the module; it fails the VM like a trap. */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`module called proc_exit(${code})`);
  }
}

/** Values up to this many bytes are copied into module memory by a loop rather than TypedArray#set. */
const SMALL_COPY_MAX = 16;

export type Export = (...args: (number | bigint)[]) => number | bigint | undefined;

export class WasmVm {
  readonly abiVersion: AbiVersion;
  private readonly instance: WebAssembly.Instance;
  private readonly memory: WebAssembly.Memory;
  private u8: Uint8Array;
  private view: DataView;
  /** The same memory as a Buffer, for native string writes and range compares (no view per call). */
  private buf: Buffer;
  /** The same memory as 32-bit words from offset 0 (aligned compares: abi/address-table.ts KnownBytes). */
  private words: Int32Array;
  private readonly allocator: Export;
  private readonly exportsByName: Record<string, Export | undefined>;
  private failure: Error | undefined;
  /** Nesting depth of calls into the module (host functions may re-enter). */
  private depth = 0;
  private readonly afterCall: Array<() => void> = [];

  constructor(module: WebAssembly.Module, imports: ImportObject, abiVersion: AbiVersion) {
    this.abiVersion = abiVersion;
    this.instance = new WebAssembly.Instance(module, imports as WebAssembly.Imports);
    const exports = this.instance.exports as Record<string, unknown>;
    // cpp-host v8.cc: the module's exported memory, whatever its name, else the one it imported.
    const memory = exports['memory'] instanceof WebAssembly.Memory ? exports['memory']
      : Object.values(exports).find((e) => e instanceof WebAssembly.Memory)
      ?? Object.values(imports).flatMap((m) => Object.values(m)).find((e) => e instanceof WebAssembly.Memory);
    if (!(memory instanceof WebAssembly.Memory)) throw new WasmLoadError('module has no linear memory to share with the host (export a memory)');
    this.memory = memory;
    this.u8 = new Uint8Array(memory.buffer);
    this.view = new DataView(memory.buffer);
    this.buf = Buffer.from(memory.buffer);
    this.words = new Int32Array(memory.buffer);
    this.exportsByName = exports as Record<string, Export | undefined>;
    // cpp-host src/wasm.cc getFunctions: `malloc`, else `proxy_on_memory_allocate`; neither is fatal.
    const allocator = this.exportsByName['malloc'] ?? this.exportsByName['proxy_on_memory_allocate'];
    if (typeof allocator !== 'function') throw new WasmLoadError('module exports neither malloc nor proxy_on_memory_allocate (cpp-host: "Wasm module is missing malloc function")');
    this.allocator = allocator;
  }

  /** WASI reactor `_initialize` (+ `main`), else WASI command `_start`, as cpp-host WasmBase::startVm. */
  start(): boolean {
    if (this.has('_initialize')) {
      if (!this.callVoid('_initialize')) return false;
      if (this.has('main')) return this.callVoid('main', 0, 0);
      if (this.has('__main_void')) return this.callVoid('__main_void');
      return true;
    }
    if (this.has('_start')) return this.callVoid('_start');
    return true;
  }

  has(name: string): boolean {
    return typeof this.exportsByName[name] === 'function';
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  get failureReason(): Error | undefined {
    return this.failure;
  }

  fail(reason: Error): void {
    if (this.failure === undefined) this.failure = reason;
  }

  /** Wasm memory pages (64 KiB each). */
  get pages(): number {
    return this.memory.buffer.byteLength / 65536;
  }

  /**
   * Calls an export; a trap or host exception fails the VM and yields undefined. A missing
   * export yields undefined too. Fixed arity (no rest arrays): this is the per-request path.
   */
  call(name: string, a?: number, b?: number, c?: number, d?: number, e?: number): number | undefined {
    return this.invoke(this.exportsByName[name], a, b, c, d, e);
  }

  /** An export for repeated calls through invoke() (undefined when the module lacks it). */
  exported(name: string): Export | undefined {
    const fn = this.exportsByName[name];
    return typeof fn === 'function' ? fn : undefined;
  }

  invoke(fn: Export | undefined, a?: number, b?: number, c?: number, d?: number, e?: number): number | undefined {
    if (fn === undefined || this.failure !== undefined) return undefined;
    this.depth++;
    let result: number | bigint | undefined;
    try {
      result = fn(a ?? 0, b ?? 0, c ?? 0, d ?? 0, e ?? 0);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      result = undefined;
    }
    this.depth--;
    if (this.depth === 0 && this.afterCall.length > 0) this.runAfterCall();
    if (this.failure !== undefined) return undefined;
    return typeof result === 'bigint' ? Number(result) : (result ?? 0);
  }

  callVoid(name: string, a?: number, b?: number): boolean {
    this.call(name, a, b);
    return this.failure === undefined;
  }

  /** Defers an action until the outermost module call returns (Envoy's addAfterVmCallAction). */
  afterVmCall(action: () => void): void {
    if (this.depth === 0) action();
    else this.afterCall.push(action);
  }

  private runAfterCall(): void {
    while (this.afterCall.length > 0) {
      const action = this.afterCall.shift()!;
      try {
        action();
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  private refresh(): void {
    // Growing a (non-shared) memory, from JS or from the module, detaches the old ArrayBuffer
    // (WebAssembly JS API, "refresh the memory buffer"): its views then read length 0. Checking
    // that first skips the memory.buffer getter, which is not free, on every ABI call.
    if (this.u8.length === 0 && this.u8.buffer !== this.memory.buffer) {
      this.u8 = new Uint8Array(this.memory.buffer);
      this.view = new DataView(this.memory.buffer);
      this.buf = Buffer.from(this.memory.buffer);
      this.words = new Int32Array(this.memory.buffer);
    }
  }

  inBounds(ptr: number, size: number): boolean {
    this.refresh();
    return ptr >= 0 && size >= 0 && ptr + size <= this.u8.length;
  }

  /** A view (not a copy) of module memory; undefined when out of bounds. Copy before the next call. */
  bytes(ptr: number, size: number): Uint8Array | undefined {
    this.refresh();
    ptr >>>= 0;
    size >>>= 0;
    if (ptr + size > this.u8.length) return undefined;
    return this.u8.subarray(ptr, ptr + size);
  }

  copyBytes(ptr: number, size: number): Uint8Array | undefined {
    const view = this.bytes(ptr, size);
    return view === undefined ? undefined : view.slice();
  }

  setU32(ptr: number, value: number): boolean {
    this.refresh();
    ptr >>>= 0;
    if (ptr + 4 > this.u8.length) return false;
    this.view.setUint32(ptr, value >>> 0, true);
    return true;
  }

  getU32(ptr: number): number {
    this.refresh();
    return this.view.getUint32(ptr >>> 0, true);
  }

  setU64(ptr: number, value: bigint): boolean {
    this.refresh();
    ptr >>>= 0;
    if (ptr + 8 > this.u8.length) return false;
    this.view.setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  setBytes(ptr: number, data: Uint8Array): boolean {
    this.refresh();
    ptr >>>= 0;
    if (ptr + data.length > this.u8.length) return false;
    this.u8.set(data, ptr);
    return true;
  }

  /** Stores (ptr, size) as two u32 at the given addresses, both checked first; false on a fault. */
  setPointerSize(ptrPtr: number, sizePtr: number, ptr: number, size: number): boolean {
    this.refresh();
    ptrPtr >>>= 0;
    sizePtr >>>= 0;
    const end = this.u8.length;
    if (ptrPtr + 4 > end || sizePtr + 4 > end) return false;
    this.view.setUint32(ptrPtr, ptr >>> 0, true);
    this.view.setUint32(sizePtr, size >>> 0, true);
    return true;
  }

  /**
   * The whole module memory as bytes, current after any growth. For writers that fill memory
   * the host just allocated (see abi/copy-out.ts); re-read after every call into the module.
   */
  memoryBytes(): Uint8Array {
    this.refresh();
    return this.u8;
  }

  /** memoryBytes() as a DataView (word reads and writes at any offset). Same lifetime rules. */
  memoryView(): DataView {
    this.refresh();
    return this.view;
  }

  /** memoryBytes() as a Buffer (Buffer#write/compare at an offset: no view per call). Same lifetime rules. */
  memoryBuffer(): Buffer {
    this.refresh();
    return this.buf;
  }

  /** memoryBytes() as 32-bit words from offset 0 (aligned compares). Same lifetime rules. */
  memoryWords(): Int32Array {
    this.refresh();
    return this.words;
  }

  /** Allocates in the module (malloc / proxy_on_memory_allocate); 0 on failure. */
  allocate(size: number): number {
    const ptr = this.allocator(size);
    return typeof ptr === 'bigint' ? Number(ptr) : (ptr ?? 0);
  }

  /**
   * Writes `data` into freshly allocated module memory and (ptr, size) at the given pointers,
   * as cpp-host WasmBase::copyToPointerSize: an empty value writes ptr 0, size 0 without allocating.
   */
  copyToPointerSize(data: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    const n = data.length;
    if (n === 0) return this.setPointerSize(ptrPtr, sizePtr, 0, 0);
    const ptr = this.reserve(n, ptrPtr, sizePtr);
    if (ptr === 0) return false;
    const u8 = this.u8;
    // TypedArray#set is a builtin call with argument checks: for the 1–16 byte values most
    // properties are (booleans, short strings), a byte loop is several times cheaper.
    if (n <= SMALL_COPY_MAX) for (let i = 0; i < n; i++) u8[ptr + i] = data[i]!;
    else u8.set(data, ptr);
    return true;
  }

  /**
   * 8 bytes little-endian (Envoy's serialization of integer properties) into freshly allocated
   * module memory, with (ptr, 8) stored at the given pointers. `lo`/`hi` are the two u32 halves.
   */
  copyU64ToPointerSize(lo: number, hi: number, ptrPtr: number, sizePtr: number): boolean {
    const ptr = this.reserve(8, ptrPtr, sizePtr);
    if (ptr === 0) return false;
    this.view.setUint32(ptr, lo >>> 0, true);
    this.view.setUint32(ptr + 4, hi >>> 0, true);
    return true;
  }

  /**
   * Allocates `size` (> 0) bytes in the module and stores (ptr, size) at the given pointers,
   * as cpp-host WasmBase::copyToPointerSize does before copying: the new block's address, or
   * 0 when allocation failed or any of the three ranges is out of bounds (nothing written).
   * One memory refresh after the allocation (which may grow memory) serves every check, and
   * the block is then filled through memoryBytes()/memoryBuffer() with no further call into
   * the module.
   */
  reserve(size: number, ptrPtr: number, sizePtr: number): number {
    const ptr = this.allocate(size) >>> 0;
    this.refresh();
    ptrPtr >>>= 0;
    sizePtr >>>= 0;
    const end = this.u8.length;
    if (ptr === 0 || ptr + size > end || ptrPtr + 4 > end || sizePtr + 4 > end) return 0;
    this.view.setUint32(ptrPtr, ptr, true);
    this.view.setUint32(sizePtr, size >>> 0, true);
    return ptr;
  }
}

/**
 * What Envoy links into a proxy-wasm module and which module functions it calls, per ABI
 * version — the ONE table behind both the loader (plugin.ts, abi/imports.ts) and
 * `deployer inspect` (inspect/inspect.ts), so they cannot disagree. Envoy embeds
 * proxy-wasm-cpp-host; everything here is keyed as cpp-host keys it:
 *   src/bytecode_util.cc `getAbiVersion`: the FIRST function export named
 *     proxy_abi_version_0_1_0 / _0_2_0 / _0_2_1 (export-section order) decides; none → the module
 *     is refused ("Missing or unknown Proxy-Wasm ABI version", src/wasm.cc `WasmBase::load`).
 *   src/wasm.cc `registerCallbacks`: FOR_ALL_HOST_FUNCTIONS for everyone, then 0.1.0 alone gets
 *     get_configuration / continue_request / continue_response / clear_route_cache, 0.2.0 gets
 *     continue_stream / close_stream, 0.2.1 those two plus get_log_level; env.pthread_equal and
 *     env.emscripten_notify_memory_growth; FOR_ALL_WASI_FUNCTIONS under wasi_unstable and
 *     wasi_snapshot_preview1.
 *   src/wasm.cc `getFunctions`: FOR_ALL_MODULE_FUNCTIONS (include/proxy-wasm/wasm.h), then
 *     on_request_headers / on_response_headers with 2 parameters for 0.1.0 (`_abi_01`) and 3
 *     (end_of_stream) for 0.2.x (`_abi_02`); on_foreign_function only for 0.2.x.
 *   Envoy source/extensions/common/wasm/wasm.cc `Wasm::registerCallbacks`: env.envoy_resolve_dns
 *     for every version (and `Wasm::getFunctions`: envoy_on_resolve_dns, envoy_on_stats_update).
 *   include/proxy-wasm/exports.h: the host function signatures (Word = i32 on wasm32,
 *     int64_t/uint64_t = i64; src/v8/v8.cc `convertArgToValKind`).
 *   src/v8/v8.cc `V8::link` / `getModuleFunctionImpl`: a missing import, an import of another
 *     type, a global import or a looked-up export of another type refuses the module.
 */
import { formatFuncType, readModuleShape, sameFuncType, WasmBinaryError, type FuncType, type ModuleExport, type ModuleImport, type ValType } from './wasm-binary.js';

export type AbiVersion = '0_1_0' | '0_2_0' | '0_2_1';
export const ABI_VERSIONS: readonly AbiVersion[] = ['0_1_0', '0_2_0', '0_2_1'];
export const abiMarker = (abi: AbiVersion): string => `proxy_abi_version_${abi}`;
/** `0.2.1` */
export const abiLabel = (abi: AbiVersion): string => abi.replace(/_/g, '.');

/**
 * Which Envoy releases load a module of each ABI version. cpp-host has linked all three since
 * e73c498 / d1e7040 (Aug 2020, "Support multiple versions of the Proxy-Wasm ABI", "Move
 * get_log_level to ABI version 0.2.1"); Envoy 1.17.0 (Jan 2021) is the first release with
 * envoy.filters.http.wasm upstream, and no release since dropped a version (cpp-host main
 * still registers the 0.1.0 set).
 */
export const ENVOY_RELEASES: Readonly<Record<AbiVersion, string>> = {
  '0_1_0': 'Envoy ≥ 1.17.0 (every upstream release with envoy.filters.http.wasm; Istio ≥ 1.9)',
  '0_2_0': 'Envoy ≥ 1.17.0 (every upstream release with envoy.filters.http.wasm; Istio ≥ 1.9)',
  '0_2_1': 'Envoy ≥ 1.17.0 (every upstream release with envoy.filters.http.wasm; Istio ≥ 1.9)',
};

const i32 = (n: number): ValType[] => Array.from({ length: n }, () => 'i32' as const);
/** cpp-host `Word f(Word × n)`: n i32 → i32. */
const word = (n: number): FuncType => ({ params: i32(n), results: ['i32'] });
/** cpp-host `void f(Word × n)`. */
const voidOf = (n: number): FuncType => ({ params: i32(n), results: [] });
const typed = (params: readonly ValType[], results: readonly ValType[] = ['i32']): FuncType => ({ params, results });

/** FOR_ALL_HOST_FUNCTIONS with their exports.h signatures (without the `proxy_` prefix). */
const HOST_FUNCTIONS: Readonly<Record<string, FuncType>> = {
  log: word(3), get_status: word(3), set_property: word(4), get_property: word(4), send_local_response: word(8),
  get_shared_data: word(5), set_shared_data: word(5), register_shared_queue: word(3), resolve_shared_queue: word(5),
  dequeue_shared_queue: word(3), enqueue_shared_queue: word(3), get_header_map_value: word(5),
  add_header_map_value: word(5), replace_header_map_value: word(5), remove_header_map_value: word(3),
  get_header_map_pairs: word(3), set_header_map_pairs: word(3), get_header_map_size: word(2),
  get_buffer_status: word(3), get_buffer_bytes: word(5), set_buffer_bytes: word(5), http_call: word(10),
  grpc_call: word(12), grpc_stream: word(9), grpc_close: word(1), grpc_cancel: word(1), grpc_send: word(4),
  set_tick_period_milliseconds: word(1), get_current_time_nanoseconds: word(1), define_metric: word(4),
  increment_metric: typed(['i32', 'i64']), record_metric: typed(['i32', 'i64']), get_metric: word(2),
  set_effective_context: word(1), done: word(0), call_foreign_function: word(6),
};

/** FOR_ALL_HOST_FUNCTIONS_ABI_SPECIFIC, and which version registers which (wasm.cc registerCallbacks). */
const ABI_SPECIFIC_SIGNATURES: Readonly<Record<string, FuncType>> = {
  get_configuration: word(2), continue_request: word(0), continue_response: word(0), clear_route_cache: word(0),
  continue_stream: word(1), close_stream: word(1), get_log_level: word(1),
};
const ABI_SPECIFIC: Readonly<Record<AbiVersion, readonly string[]>> = {
  '0_1_0': ['get_configuration', 'continue_request', 'continue_response', 'clear_route_cache'],
  '0_2_0': ['continue_stream', 'close_stream'],
  '0_2_1': ['continue_stream', 'close_stream', 'get_log_level'],
};

const EMSCRIPTEN_FUNCTIONS: Readonly<Record<string, FuncType>> = {
  pthread_equal: word(2), emscripten_notify_memory_growth: voidOf(1),
};

/** Envoy's own env imports, every ABI version (source/extensions/common/wasm/wasm.cc Wasm::registerCallbacks). */
const ENVOY_FUNCTIONS: Readonly<Record<string, FuncType>> = {
  envoy_resolve_dns: word(3),
};

export const WASI_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable'] as const;

/** FOR_ALL_WASI_FUNCTIONS with the exports.h `wasi_unstable_*` signatures. */
export const WASI_FUNCTIONS: Readonly<Record<string, FuncType>> = {
  fd_write: word(4), fd_read: word(4), fd_seek: typed(['i32', 'i64', 'i32', 'i32']), fd_close: word(1),
  fd_fdstat_get: word(2), fd_fdstat_set_flags: word(2), fd_fdstat_set_rights: typed(['i32', 'i64', 'i64']),
  environ_get: word(2), environ_sizes_get: word(2), args_get: word(2), args_sizes_get: word(2),
  clock_time_get: typed(['i32', 'i64', 'i32']), clock_res_get: word(2), fd_advise: typed(['i32', 'i64', 'i64', 'i32']),
  fd_allocate: typed(['i32', 'i64', 'i64']), fd_datasync: word(1), fd_filestat_set_size: typed(['i32', 'i64']),
  fd_filestat_set_times: typed(['i32', 'i64', 'i64', 'i32']), fd_pread: typed(['i32', 'i32', 'i32', 'i64', 'i32']),
  fd_pwrite: typed(['i32', 'i32', 'i32', 'i64', 'i32']), fd_readdir: typed(['i32', 'i32', 'i32', 'i64', 'i32']),
  fd_renumber: word(2), fd_sync: word(1), fd_tell: word(2), path_create_directory: word(3),
  path_filestat_set_times: typed(['i32', 'i32', 'i32', 'i32', 'i64', 'i64', 'i32']), path_link: word(6),
  path_readlink: word(6), path_remove_directory: word(3), path_rename: word(6), path_symlink: word(4),
  path_unlink_file: word(3), sock_accept: word(3), sock_recv: word(6), sock_send: word(5), sock_shutdown: word(2),
  random_get: word(2), sched_yield: word(0), poll_oneoff: word(4), proc_exit: voidOf(1),
  path_open: typed(['i32', 'i32', 'i32', 'i32', 'i32', 'i64', 'i64', 'i32', 'i32']), fd_prestat_get: word(2),
  fd_prestat_dir_name: word(3), path_filestat_get: word(5), fd_filestat_get: word(2),
};

/** `env` functions Envoy links for a module of this ABI version (undefined: the common set). */
export function envImports(abi: AbiVersion | undefined): ReadonlyMap<string, FuncType> {
  const env = new Map<string, FuncType>();
  for (const [name, type] of Object.entries(HOST_FUNCTIONS)) env.set(`proxy_${name}`, type);
  for (const name of abi === undefined ? [] : ABI_SPECIFIC[abi]) env.set(`proxy_${name}`, ABI_SPECIFIC_SIGNATURES[name]!);
  for (const [name, type] of Object.entries(EMSCRIPTEN_FUNCTIONS)) env.set(name, type);
  for (const [name, type] of Object.entries(ENVOY_FUNCTIONS)) env.set(name, type);
  return env;
}

/** The type Envoy links for `module.name`, or undefined when it links nothing there. */
export function linkedImport(abi: AbiVersion | undefined, module: string, name: string): FuncType | undefined {
  if (module === 'env') return envImports(abi).get(name);
  if ((WASI_MODULES as readonly string[]).includes(module)) return WASI_FUNCTIONS[name];
  return undefined;
}

/** ABI versions whose modules get this env import (to explain a refusal). */
export function abiVersionsProviding(envFunction: string): readonly AbiVersion[] {
  return ABI_VERSIONS.filter((abi) => ABI_SPECIFIC[abi].some((name) => `proxy_${name}` === envFunction));
}

/** FOR_ALL_MODULE_FUNCTIONS (include/proxy-wasm/wasm.h: WasmCallWord<n> / WasmCallVoid<n>). */
const MODULE_FUNCTIONS: Readonly<Record<string, FuncType>> = {
  validate_configuration: word(2), on_vm_start: word(2), on_configure: word(2), on_tick: voidOf(1),
  on_context_create: voidOf(2), on_new_connection: word(1), on_downstream_data: word(3), on_upstream_data: word(3),
  on_downstream_connection_close: voidOf(2), on_upstream_connection_close: voidOf(2), on_request_body: word(3),
  on_request_trailers: word(2), on_request_metadata: word(2), on_response_body: word(3), on_response_trailers: word(2),
  on_response_metadata: word(2), on_http_call_response: voidOf(5), on_grpc_receive: voidOf(3), on_grpc_close: voidOf(3),
  on_grpc_receive_initial_metadata: voidOf(3), on_grpc_receive_trailing_metadata: voidOf(3), on_queue_ready: voidOf(2),
  on_done: word(1), on_log: voidOf(1), on_delete: voidOf(1),
};

/** proxy_on_* callbacks Envoy looks up for this ABI version, with the type it requires. */
export function moduleCallbacks(abi: AbiVersion | undefined): ReadonlyMap<string, FuncType> {
  const callbacks = new Map<string, FuncType>();
  for (const [name, type] of Object.entries(MODULE_FUNCTIONS)) callbacks.set(`proxy_${name}`, type);
  if (abi === '0_1_0') {
    // `_abi_01`: (context_id, headers) — no end_of_stream.
    callbacks.set('proxy_on_request_headers', word(2));
    callbacks.set('proxy_on_response_headers', word(2));
  } else if (abi !== undefined) {
    callbacks.set('proxy_on_request_headers', word(3));
    callbacks.set('proxy_on_response_headers', word(3));
    callbacks.set('proxy_on_foreign_function', voidOf(3));
  }
  return callbacks;
}

/** Arity of a headers callback for this version (0.1.0 has no end_of_stream argument). */
export const headersCallbackArity = (abi: AbiVersion): 2 | 3 => (abi === '0_1_0' ? 2 : 3);

/**
 * Envoy's own module functions (source/extensions/common/wasm/wasm.cc `Wasm::getFunctions`, every
 * ABI version): envoy_on_resolve_dns answers env.envoy_resolve_dns (abi/dns.ts);
 * envoy_on_stats_update is type-checked but never called (this host has no stats sink).
 */
const ENVOY_MODULE_FUNCTIONS: Readonly<Record<string, FuncType>> = {
  envoy_on_resolve_dns: voidOf(3), envoy_on_stats_update: voidOf(2),
};

/**
 * Start and allocator exports (wasm.cc getFunctions): `_initialize` then `main`/`__main_void`,
 * else `_start`; `malloc`, else `proxy_on_memory_allocate`.
 */
function runtimeFunctions(exported: ReadonlySet<string>): ReadonlyMap<string, FuncType> {
  const functions = new Map<string, FuncType>();
  if (exported.has('_initialize')) {
    functions.set('_initialize', voidOf(0));
    functions.set('main', word(2));
    functions.set('__main_void', word(0));
  } else {
    functions.set('_start', voidOf(0));
  }
  functions.set(exported.has('malloc') ? 'malloc' : 'proxy_on_memory_allocate', word(1));
  for (const [name, type] of Object.entries(ENVOY_MODULE_FUNCTIONS)) functions.set(name, type);
  return functions;
}

/** The first proxy_abi_version_* function export, in export order (bytecode_util.cc getAbiVersion). */
export function detectAbi(exports: readonly ModuleExport[]): AbiVersion | undefined {
  for (const entry of exports) {
    if (entry.kind !== 'function') continue;
    const abi = ABI_VERSIONS.find((v) => abiMarker(v) === entry.name);
    if (abi !== undefined) return abi;
  }
  return undefined;
}

export interface EnvoyModuleVerdict {
  readonly abiVersion?: AbiVersion;
  readonly imports: readonly ModuleImport[];
  readonly exports: readonly ModuleExport[];
  /** proxy_on_* exports Envoy will call. */
  readonly callbacks: readonly string[];
  /** Why Envoy refuses the module; empty when it loads. */
  readonly problems: readonly string[];
  /** Loads, but looks wrong. */
  readonly warnings: readonly string[];
}

/**
 * Envoy's verdict on a module, from its bytes: the loader refuses with these problems and
 * `deployer inspect` prints them, so the two always agree.
 */
export function checkEnvoyModule(bytes: Uint8Array): EnvoyModuleVerdict {
  let shape;
  try {
    shape = readModuleShape(bytes);
  } catch (error) {
    const detail = error instanceof WasmBinaryError ? error.message : String(error);
    return { imports: [], exports: [], callbacks: [], problems: [`Failed to parse corrupted Wasm module: ${detail}`], warnings: [] };
  }
  const { imports, exports } = shape;
  const problems: string[] = [];
  const warnings: string[] = [];
  const abi = detectAbi(exports);
  if (abi === undefined) {
    const unknown = exports.filter((e) => e.name.startsWith('proxy_abi_version_')).map((e) => e.name);
    problems.push(`Missing or unknown Proxy-Wasm ABI version: the module exports ${unknown.length > 0 ? unknown.join(', ') : 'no ABI marker'}; Envoy knows ${ABI_VERSIONS.map(abiMarker).join(', ')}`);
  }
  for (const entry of imports) {
    const problem = importProblem(abi, entry);
    if (problem !== undefined) problems.push(problem);
  }
  const functions = new Map(exports.filter((e) => e.kind === 'function').map((e) => [e.name, e.type]));
  if (!functions.has('malloc') && !functions.has('proxy_on_memory_allocate')) {
    problems.push('Wasm module is missing malloc function: export malloc or proxy_on_memory_allocate');
  }
  if (!exports.some((e) => e.kind === 'memory') && !imports.some((e) => e.kind === 'memory')) {
    problems.push('module has no linear memory to share with the host (export a memory)');
  }
  const callbacks = moduleCallbacks(abi);
  const lookedUp = new Map([...runtimeFunctions(new Set(functions.keys())), ...callbacks]);
  for (const [name, want] of lookedUp) {
    const have = functions.get(name);
    if (have !== undefined && !sameFuncType(have, want)) {
      problems.push(`Bad function signature for: ${name}, want: ${formatFuncType(want)}, but the module exports: ${formatFuncType(have)}${abi === undefined ? '' : ` (ABI ${abiLabel(abi)})`}`);
    }
  }
  const called = [...functions.keys()].filter((name) => callbacks.has(name));
  if (!functions.has('proxy_on_context_create')) {
    warnings.push('no proxy_on_context_create export: Envoy loads it, but creates no root or stream contexts in the module');
  }
  for (const name of functions.keys()) {
    if (name.startsWith('proxy_on_') && name !== 'proxy_on_memory_allocate' && !callbacks.has(name)) {
      warnings.push(`export ${name} is not a callback Envoy calls${abi ? ` under ABI ${abiLabel(abi)}` : ''}; it will never run`);
    }
  }
  return { ...(abi ? { abiVersion: abi } : {}), imports, exports, callbacks: called, problems, warnings };
}

function importProblem(abi: AbiVersion | undefined, entry: ModuleImport): string | undefined {
  const label = `${entry.module}.${entry.name}`;
  // cpp-host v8.cc link: the engine creates imported memories and tables itself.
  if (entry.kind === 'memory' || entry.kind === 'table') return undefined;
  if (entry.kind !== 'function') return `module imports ${label} (a ${entry.kind}), which Envoy does not provide (only functions, memories and tables are linked)`;
  const want = linkedImport(abi, entry.module, entry.name);
  if (want === undefined) return `module imports ${label}, which Envoy does not provide${explainImport(abi, entry.module, entry.name)}`;
  if (entry.type !== undefined && !sameFuncType(entry.type, want)) {
    return `import type mismatch: ${label}, want: ${formatFuncType(entry.type)}, but host exports: ${formatFuncType(want)}`;
  }
  return undefined;
}

function explainImport(abi: AbiVersion | undefined, module: string, name: string): string {
  if (module === 'env') {
    const providers = abiVersionsProviding(name);
    if (providers.length > 0) {
      return ` to ABI ${abi ? abiLabel(abi) : 'unknown'} modules (only to ABI ${providers.map(abiLabel).join(', ')})`;
    }
    if (name === 'abort' || name === 'trace' || name === 'seed') {
      return ' (AssemblyScript runtime import: build with --use abort=abort_proc_exit and avoid trace/Math.random)';
    }
    return ' (env imports must be proxy-wasm host functions proxy_*)';
  }
  if ((WASI_MODULES as readonly string[]).includes(module)) return ' (not a WASI function Envoy implements)';
  return ` (module "${module}" is unknown to Envoy; only env, wasi_snapshot_preview1 and wasi_unstable are linked)`;
}

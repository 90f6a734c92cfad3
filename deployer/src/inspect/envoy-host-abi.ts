// What Envoy links into a Wasm module. Envoy embeds proxy-wasm-cpp-host and registers no imports of its
// own (Envoy-specific extensions are reached through proxy_call_foreign_function), so the lists below
// come from proxy-wasm-cpp-host:
//   include/proxy-wasm/exports.h  FOR_ALL_HOST_FUNCTIONS, FOR_ALL_HOST_FUNCTIONS_ABI_SPECIFIC, FOR_ALL_WASI_FUNCTIONS
//   src/wasm.cc                   WasmBase::registerCallbacks (ABI-specific registration, env.pthread_equal,
//                                 env.emscripten_notify_memory_growth) and WasmBase::getFunctions (callbacks)
//   include/proxy-wasm/wasm.h     FOR_ALL_MODULE_FUNCTIONS
//   src/bytecode_util.cc          BytecodeUtil::getAbiVersion (first proxy_abi_version_* function export wins)

export const ABI_VERSION_EXPORTS = ['proxy_abi_version_0_1_0', 'proxy_abi_version_0_2_0', 'proxy_abi_version_0_2_1'] as const;
export type AbiVersionExport = (typeof ABI_VERSION_EXPORTS)[number];

const HOST_FUNCTIONS = [
  'log', 'get_status', 'set_property', 'get_property', 'send_local_response', 'get_shared_data', 'set_shared_data',
  'register_shared_queue', 'resolve_shared_queue', 'dequeue_shared_queue', 'enqueue_shared_queue',
  'get_header_map_value', 'add_header_map_value', 'replace_header_map_value', 'remove_header_map_value',
  'get_header_map_pairs', 'set_header_map_pairs', 'get_header_map_size', 'get_buffer_status', 'get_buffer_bytes',
  'set_buffer_bytes', 'http_call', 'grpc_call', 'grpc_stream', 'grpc_close', 'grpc_cancel', 'grpc_send',
  'set_tick_period_milliseconds', 'get_current_time_nanoseconds', 'define_metric', 'increment_metric',
  'record_metric', 'get_metric', 'set_effective_context', 'done', 'call_foreign_function',
] as const;

/** Registered only for the matching ABI version (wasm.cc registerCallbacks). */
const ABI_SPECIFIC_HOST_FUNCTIONS: Readonly<Record<AbiVersionExport, readonly string[]>> = {
  proxy_abi_version_0_1_0: ['get_configuration', 'continue_request', 'continue_response', 'clear_route_cache'],
  proxy_abi_version_0_2_0: ['continue_stream', 'close_stream'],
  proxy_abi_version_0_2_1: ['continue_stream', 'close_stream', 'get_log_level'],
};

const EMSCRIPTEN_ENV_FUNCTIONS = ['pthread_equal', 'emscripten_notify_memory_growth'] as const;

export const WASI_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable'] as const;

export const WASI_FUNCTIONS: ReadonlySet<string> = new Set([
  'fd_write', 'fd_read', 'fd_seek', 'fd_close', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_fdstat_set_rights',
  'environ_get', 'environ_sizes_get', 'args_get', 'args_sizes_get', 'clock_time_get', 'clock_res_get', 'fd_advise',
  'fd_allocate', 'fd_datasync', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread', 'fd_pwrite',
  'fd_readdir', 'fd_renumber', 'fd_sync', 'fd_tell', 'path_create_directory', 'path_filestat_set_times',
  'path_link', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink', 'path_unlink_file',
  'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown', 'random_get', 'sched_yield', 'poll_oneoff',
  'proc_exit', 'path_open', 'fd_prestat_get', 'fd_prestat_dir_name', 'path_filestat_get', 'fd_filestat_get',
]);

/** `env` function imports the host links for a given ABI version. */
export function envFunctionsFor(abi: AbiVersionExport | undefined): ReadonlySet<string> {
  const specific = abi ? ABI_SPECIFIC_HOST_FUNCTIONS[abi] : [];
  return new Set([...HOST_FUNCTIONS.map((name) => `proxy_${name}`), ...specific.map((name) => `proxy_${name}`), ...EMSCRIPTEN_ENV_FUNCTIONS]);
}

/** Which ABI versions would provide a given env import (to explain an ABI mismatch). */
export function abiVersionsProviding(envFunction: string): readonly AbiVersionExport[] {
  return ABI_VERSION_EXPORTS.filter((abi) => ABI_SPECIFIC_HOST_FUNCTIONS[abi].some((name) => `proxy_${name}` === envFunction));
}

const MODULE_FUNCTIONS = [
  'validate_configuration', 'on_vm_start', 'on_configure', 'on_tick', 'on_context_create', 'on_new_connection',
  'on_downstream_data', 'on_upstream_data', 'on_downstream_connection_close', 'on_upstream_connection_close',
  'on_request_body', 'on_request_trailers', 'on_request_metadata', 'on_response_body', 'on_response_trailers',
  'on_response_metadata', 'on_http_call_response', 'on_grpc_receive', 'on_grpc_close',
  'on_grpc_receive_initial_metadata', 'on_grpc_receive_trailing_metadata', 'on_queue_ready', 'on_done', 'on_log',
  'on_delete',
] as const;

/** proxy_on_* exports the host looks up for a given ABI version (wasm.cc getFunctions). */
export function callbacksFor(abi: AbiVersionExport | undefined): ReadonlySet<string> {
  const names: string[] = [...MODULE_FUNCTIONS, 'on_request_headers', 'on_response_headers'];
  if (abi !== 'proxy_abi_version_0_1_0') names.push('on_foreign_function');
  return new Set(names.map((name) => `proxy_${name}`));
}

/** Allocation entry points, in the order the host tries them. */
export const ALLOCATOR_EXPORTS = ['malloc', 'proxy_on_memory_allocate'] as const;

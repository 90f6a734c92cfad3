/**
 * The import object of one VM: the env.proxy_* functions Envoy registers for the module's ABI
 * version (cpp-host src/wasm.cc registerCallbacks: 0.2.0 adds continue_stream/close_stream,
 * 0.2.1 also get_log_level) plus WASI under wasi_unstable and wasi_snapshot_preview1, and the
 * two emscripten helpers cpp-host provides. Anything else is refused at load (vm.ts checkImports).
 */
import type { PluginVm } from '../plugin-vm.js';
import type { ImportModule, ImportObject } from '../vm.js';
import { bufferImports } from './buffers.js';
import { foreignImports } from './foreign.js';
import { headerImports } from './headers.js';
import { httpCallImports } from './http-call.js';
import { loggingImports } from './logging.js';
import { propertyImports } from './properties.js';
import { metricImports, sharedImports } from './shared.js';
import { streamImports } from './stream.js';
import { timerImports } from './timers.js';
import { wasiImports } from './wasi.js';

export function buildImports(h: PluginVm): ImportObject {
  const env: ImportModule = {
    ...loggingImports(h),
    ...timerImports(h),
    ...headerImports(h),
    ...bufferImports(h),
    ...propertyImports(h),
    ...httpCallImports(h),
    ...sharedImports(h),
    ...metricImports(h),
    ...streamImports(h),
    ...foreignImports(h),
    pthread_equal: (a: number, b: number) => (a === b ? 1 : 0),
    emscripten_notify_memory_growth: () => undefined,
  };
  if (h.abiVersion === '0_2_0') delete env['proxy_get_log_level'];
  const wasi = wasiImports(h);
  return { env, wasi_snapshot_preview1: wasi, wasi_unstable: wasi };
}

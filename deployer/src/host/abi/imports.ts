/**
 * The import object of one VM: exactly the functions the table in envoy-abi.ts says Envoy links
 * for the module's ABI version (cpp-host src/wasm.cc registerCallbacks) — the env.proxy_* set
 * of that version, the two emscripten helpers, and WASI under wasi_unstable and
 * wasi_snapshot_preview1. Implementations live one file per group; a table entry without one
 * is a host bug and fails loudly. Modules importing anything else were refused before this
 * runs (plugin.ts envoyAbiVersion).
 */
import type { PluginVm } from '../plugin-vm.js';
import type { ImportFunction, ImportModule, ImportObject } from '../vm.js';
import { bufferImports } from './buffers.js';
import { envImports, WASI_FUNCTIONS, WASI_MODULES, type AbiVersion } from './envoy-abi.js';
import { dnsImports } from './dns.js';
import { foreignImports } from './foreign.js';
import { headerImports } from './headers.js';
import { httpCallImports } from './http-call.js';
import { loggingImports } from './logging.js';
import { propertyImports } from './properties.js';
import { metricImports, sharedImports } from './shared.js';
import { streamImports } from './stream.js';
import { timerImports } from './timers.js';
import { wasiImports } from './wasi.js';

/** Every env function this host implements, for any ABI version (the table picks). */
export function envImplementations(h: PluginVm): ImportModule {
  return {
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
    ...dnsImports(h),
    pthread_equal: (a: number, b: number) => (a === b ? 1 : 0),
    emscripten_notify_memory_growth: () => undefined,
  };
}

function pick(implementations: ImportModule, names: Iterable<string>, group: string, abi: AbiVersion): ImportModule {
  const picked: ImportModule = {};
  for (const name of names) {
    const fn: ImportFunction | undefined = implementations[name];
    if (fn === undefined) throw new Error(`host bug: ${group}.${name} is in Envoy's import table for ABI ${abi} but not implemented`);
    picked[name] = fn;
  }
  return picked;
}

export function buildImports(h: PluginVm): ImportObject {
  const env = pick(envImplementations(h), envImports(h.abiVersion).keys(), 'env', h.abiVersion);
  const wasi = pick(wasiImports(h), Object.keys(WASI_FUNCTIONS), 'wasi', h.abiVersion);
  const imports: ImportObject = { env };
  for (const module of WASI_MODULES) imports[module] = wasi;
  return imports;
}

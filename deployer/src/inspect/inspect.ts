import { createHash } from 'node:crypto';
import {
  ABI_VERSION_EXPORTS,
  ALLOCATOR_EXPORTS,
  type AbiVersionExport,
  WASI_FUNCTIONS,
  WASI_MODULES,
  abiVersionsProviding,
  callbacksFor,
  envFunctionsFor,
} from './envoy-host-abi.js';

export interface InspectOptions {
  /** Largest module accepted, in bytes (default DEFAULT_MAX_MODULE_BYTES). */
  readonly maxBytes?: number;
}

export interface InspectReport {
  readonly ok: boolean;
  readonly size: number;
  readonly sha256: string;
  readonly abiVersion?: string;
  readonly exports: readonly string[];
  /** `module.name` of every import. */
  readonly imports: readonly string[];
  /** proxy_on_* exports the host will call. */
  readonly callbacks: readonly string[];
  /** Reasons the proxy would refuse (or never run) the module; empty when ok. */
  readonly problems: readonly string[];
  /** Things that load fine but look wrong (e.g. a proxy_on_* export the host never calls). */
  readonly warnings: readonly string[];
}

/**
 * 64 MiB: far above any real proxy-wasm filter (ours are tens of KiB) while keeping a mistaken
 * upload (a debug build with DWARF, a wrong file) from being shipped into every sidecar's memory.
 */
export const DEFAULT_MAX_MODULE_BYTES = 64 * 1024 * 1024;

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const WASM_VERSION_1 = [0x01, 0x00, 0x00, 0x00];

/** Validate a module the way Envoy's proxy-wasm-cpp-host would load and link it (see envoy-host-abi.ts). */
export function inspectModule(bytes: Uint8Array, options: InspectOptions = {}): InspectReport {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MODULE_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
    throw new RangeError(`maxBytes must be a positive integer number of bytes, got ${String(options.maxBytes)}`);
  }
  const base = { size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
  const problems: string[] = [];
  const warnings: string[] = [];

  if (bytes.byteLength > maxBytes) {
    problems.push(`module is ${bytes.byteLength} bytes, over the ${maxBytes}-byte limit`);
  }
  const headerProblem = checkHeader(bytes);
  if (headerProblem) {
    return { ...base, ok: false, exports: [], imports: [], callbacks: [], problems: [...problems, headerProblem], warnings };
  }

  let module: WebAssembly.Module;
  try {
    // Compile a copy: the engine wants an ArrayBuffer-backed view, callers may hand us any Uint8Array.
    module = new WebAssembly.Module(new Uint8Array(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ...base, ok: false, exports: [], imports: [], callbacks: [], problems: [...problems, `module does not compile: ${reason}`], warnings };
  }

  const exportList = WebAssembly.Module.exports(module);
  const importList = WebAssembly.Module.imports(module);
  const functionExports = exportList.filter((entry) => entry.kind === 'function').map((entry) => entry.name);
  const abiVersion = functionExports.find((name): name is AbiVersionExport => (ABI_VERSION_EXPORTS as readonly string[]).includes(name));

  if (!abiVersion) {
    problems.push(`missing ABI version export: expected one of ${ABI_VERSION_EXPORTS.join(', ')} (host fails with "Missing or unknown Proxy-Wasm ABI version")`);
  }
  if (!ALLOCATOR_EXPORTS.some((name) => functionExports.includes(name))) {
    problems.push('missing allocator export: expected a function named malloc or proxy_on_memory_allocate');
  }
  const exportsMemory = exportList.some((entry) => entry.kind === 'memory');
  const importsMemory = importList.some((entry) => entry.kind === 'memory');
  if (!exportsMemory && !importsMemory) {
    problems.push('module has no linear memory to share with the host (export a memory)');
  }
  problems.push(...checkImports(importList, abiVersion));

  const knownCallbacks = callbacksFor(abiVersion);
  const callbacks = functionExports.filter((name) => knownCallbacks.has(name));
  if (!callbacks.includes('proxy_on_context_create')) {
    problems.push('missing proxy_on_context_create export: the host could never create the root or stream contexts');
  }
  for (const name of functionExports) {
    if (name.startsWith('proxy_on_') && name !== 'proxy_on_memory_allocate' && !knownCallbacks.has(name)) {
      warnings.push(`export ${name} is not a callback the host calls${abiVersion ? ` under ${abiVersion}` : ''}; it will never run`);
    }
  }

  return {
    ...base,
    ok: problems.length === 0,
    ...(abiVersion ? { abiVersion } : {}),
    exports: exportList.map((entry) => entry.name),
    imports: importList.map((entry) => `${entry.module}.${entry.name}`),
    callbacks,
    problems,
    warnings,
  };
}

function checkHeader(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength < 8) return `not a Wasm module: ${bytes.byteLength} bytes is shorter than the 8-byte header`;
  if (!WASM_MAGIC.every((value, index) => bytes[index] === value)) {
    return `not a Wasm module: magic is ${hex(bytes.subarray(0, 4))}, expected 00 61 73 6d ("\\0asm")`;
  }
  if (!WASM_VERSION_1.every((value, index) => bytes[4 + index] === value)) {
    return `unsupported Wasm binary version ${hex(bytes.subarray(4, 8))}, expected 01 00 00 00`;
  }
  return undefined;
}

function checkImports(imports: readonly WebAssembly.ModuleImportDescriptor[], abi: AbiVersionExport | undefined): string[] {
  const envFunctions = envFunctionsFor(abi);
  const problems: string[] = [];
  for (const entry of imports) {
    const label = `${entry.module}.${entry.name}`;
    if (entry.kind === 'memory') continue; // the engine creates an imported memory itself (cpp-host v8.cc link)
    if (entry.kind !== 'function') {
      problems.push(`import ${label} is a ${entry.kind}; the host provides only functions (and memory)`);
      continue;
    }
    if (entry.module === 'env' && envFunctions.has(entry.name)) continue;
    if ((WASI_MODULES as readonly string[]).includes(entry.module) && WASI_FUNCTIONS.has(entry.name)) continue;
    problems.push(`import ${label} is not provided by Envoy${explainImport(entry.module, entry.name, abi)}`);
  }
  return problems;
}

function explainImport(module: string, name: string, abi: AbiVersionExport | undefined): string {
  if (module === 'env') {
    const providers = abiVersionsProviding(name);
    if (providers.length > 0) return ` under ${abi ?? 'an unknown ABI'} (only under ${providers.join(', ')})`;
    if (name === 'abort' || name === 'trace' || name === 'seed') {
      return ' (AssemblyScript runtime import: build with --use abort=abort_proc_exit and avoid trace/Math.random)';
    }
    return ' (env imports must be proxy-wasm host functions proxy_*)';
  }
  if ((WASI_MODULES as readonly string[]).includes(module)) return ' (not a WASI function the host implements)';
  return ` (module "${module}" is unknown to the host; only env and wasi_snapshot_preview1 are linked)`;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (value) => value.toString(16).padStart(2, '0')).join(' ');
}

import { createHash } from 'node:crypto';
import { abiLabel, abiMarker, checkEnvoyModule, ENVOY_RELEASES } from '../host/abi/envoy-abi.js';

export interface InspectOptions {
  /** Largest module accepted, in bytes (default DEFAULT_MAX_MODULE_BYTES). */
  readonly maxBytes?: number;
}

export interface InspectReport {
  readonly ok: boolean;
  readonly size: number;
  readonly sha256: string;
  /** The marker export, e.g. `proxy_abi_version_0_1_0` (what the OCI image config lists). */
  readonly abiVersion?: string;
  /** The detected ABI version, e.g. `0.1.0`. */
  readonly abi?: string;
  /** Which Envoy releases load the module; absent when none does. */
  readonly envoy?: string;
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

/** Validate a module the way Envoy's proxy-wasm-cpp-host would load and link it (host/abi/envoy-abi.ts: the loader's table). */
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

  try {
    // Compile a copy: the engine wants an ArrayBuffer-backed view, callers may hand us any Uint8Array.
    new WebAssembly.Module(new Uint8Array(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ...base, ok: false, exports: [], imports: [], callbacks: [], problems: [...problems, `module does not compile: ${reason}`], warnings };
  }

  // The loader's own verdict (host/abi/envoy-abi.ts): inspect and `deployer run` cannot disagree.
  const verdict = checkEnvoyModule(bytes);
  problems.push(...verdict.problems);
  warnings.push(...verdict.warnings);
  const abi = verdict.abiVersion;
  const ok = problems.length === 0;
  return {
    ...base,
    ok,
    ...(abi ? { abiVersion: abiMarker(abi), abi: abiLabel(abi) } : {}),
    ...(abi && ok ? { envoy: ENVOY_RELEASES[abi] } : {}),
    exports: verdict.exports.map((entry) => entry.name),
    imports: verdict.imports.map((entry) => `${entry.module}.${entry.name}`),
    callbacks: verdict.callbacks,
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

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (value) => value.toString(16).padStart(2, '0')).join(' ');
}

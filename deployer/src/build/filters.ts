import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * release: optimized, wasm SIMD enabled (V8 — Envoy's default runtime — runs SIMD by default
 * since 9.1; the RSA Montgomery kernels need it to stay within 3× of OpenSSL).
 * portable: optimized without SIMD, for Envoy builds on runtimes without it (e.g. WAMR interpreter).
 * debug: SIMD, function names and a .wat beside the module.
 */
export type BuildProfile = 'release' | 'portable' | 'debug';

export interface BuildFiltersOptions {
  /** Repository root holding `filters/` and `asconfig.json`. */
  readonly root: string;
  /** Filter names to build; all folders under filters/ with assembly/index.ts when empty. */
  readonly filters?: readonly string[];
  readonly profile?: BuildProfile;
  /** Output folder; default `<root>/build/filters`. */
  readonly outDir?: string;
  readonly onFilterBuilt?: (filter: BuiltFilter) => void;
  /** Called before each compile (`deployer build` progress): 1-based position of `total`. */
  readonly onFilterStart?: (name: string, position: number, total: number) => void;
}

export interface BuiltFilter {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** The proxy_abi_version_* export, e.g. `0_2_1`. */
  readonly abiVersion: string;
}

export class FilterBuildError extends Error {
  constructor(readonly filter: string, readonly diagnostics: string) {
    super(`could not compile filter ${filter}:\n${diagnostics.trim()}`);
    this.name = 'FilterBuildError';
  }
}

const ENTRY = path.join('assembly', 'index.ts');

/** Names of the folders under filters/ that hold a filter (an assembly/index.ts entry). */
export function discoverFilters(root: string): string[] {
  const dir = path.join(root, 'filters');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, ENTRY)))
    .map((entry) => entry.name)
    .sort();
}

/** Output file of a filter: `<name>.wasm` (release), `<name>.portable.wasm`, `<name>.debug.wasm`. */
export function filterOutputPath(outDir: string, name: string, profile: BuildProfile): string {
  return path.join(outDir, profile === 'release' ? `${name}.wasm` : `${name}.${profile}.wasm`);
}

/**
 * Compiles filters with the AssemblyScript compiler API (in-process: no child process per
 * filter), using the top-level asconfig.json so `deployer build` and `npm run build` agree.
 */
export async function buildFilters(options: BuildFiltersOptions): Promise<BuiltFilter[]> {
  const profile = options.profile ?? 'release';
  const outDir = options.outDir ?? path.join(options.root, 'build', 'filters');
  const available = discoverFilters(options.root);
  const wanted = options.filters && options.filters.length > 0 ? options.filters : available;
  const unknown = wanted.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    throw new Error(`unknown filter${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}: expected one of ${available.join(', ') || '(none found under filters/)'}`);
  }
  await mkdir(outDir, { recursive: true });
  const built: BuiltFilter[] = [];
  for (const [index, name] of wanted.entries()) {
    options.onFilterStart?.(name, index + 1, wanted.length);
    const filter = await compileEntry({
      root: options.root,
      name,
      entry: path.join('filters', name, ENTRY),
      outFile: filterOutputPath(outDir, name, profile),
      profile,
    });
    options.onFilterBuilt?.(filter);
    built.push(filter);
  }
  return built;
}

export interface CompileEntryOptions {
  readonly root: string;
  readonly name: string;
  /** Entry file, relative to root. */
  readonly entry: string;
  readonly outFile: string;
  readonly profile: BuildProfile;
  readonly extraArgs?: readonly string[];
  /**
   * Post-link: pack the static data into one compact segment unpacked by `_initialize`
   * (pack-static-data.ts). Default: the profile's `packStaticData` in asconfig.json (on for
   * release and portable; off for debug, whose .wat should show the segments as compiled).
   */
  readonly packStaticData?: boolean;
}

/** Compiles one AssemblyScript entry with the project's asconfig.json; used for filters and test filters. */
export async function compileEntry(options: CompileEntryOptions): Promise<BuiltFilter> {
  const args = [
    options.entry,
    '--config', 'asconfig.json',
    '--target', options.profile,
    '--outFile', options.outFile,
    ...(options.profile === 'debug' ? ['--textFile', options.outFile.replace(/\.wasm$/, '.wat')] : []),
    ...(options.extraArgs ?? []),
  ];
  let diagnostics = '';
  const sink = { write: (chunk: string | Uint8Array) => { diagnostics += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(); return true; } };
  // Imported on use (also in the CLI bundle, where it stays external): loading the compiler
  // and binaryen costs seconds that commands other than build should not pay.
  const { default: asc } = await import('assemblyscript/asc');
  const cwd = process.cwd();
  // asc resolves the entry, asconfig.json and node_modules relative to the working directory.
  process.chdir(options.root);
  try {
    const { error } = await asc.main(args, { stdout: sink, stderr: sink });
    if (error) throw new FilterBuildError(options.name, diagnostics || error.message);
  } finally {
    process.chdir(cwd);
  }
  let bytes: Uint8Array = await readFile(options.outFile);
  if (options.packStaticData ?? await profilePacksStaticData(options.root, options.profile)) {
    // Imported on use, like the compiler: it loads binaryen.
    const { packStaticData } = await import('./pack-static-data.js');
    const result = packStaticData(bytes);
    if (result.packed) {
      bytes = result.bytes;
      await writeFile(options.outFile, bytes);
    }
  }
  return describeModule(options.name, options.outFile, bytes);
}

/**
 * The `packStaticData` flag of a target in asconfig.json — a wasmesh key beside asc's own
 * (asc ignores keys it does not know), so the build settings of a profile live in one file.
 */
export async function profilePacksStaticData(root: string, profile: BuildProfile): Promise<boolean> {
  const file = path.join(root, 'asconfig.json');
  const config = JSON.parse(await readFile(file, 'utf8')) as { readonly targets?: Readonly<Record<string, { readonly packStaticData?: unknown }>> };
  const value = config.targets?.[profile]?.packStaticData ?? false;
  if (typeof value !== 'boolean') throw new Error(`${file}: targets.${profile}.packStaticData is ${JSON.stringify(value)}, expected true or false`);
  return value;
}

export function describeModule(name: string, file: string, bytes: Uint8Array): BuiltFilter {
  // Copy into a plain ArrayBuffer-backed view: WebAssembly.Module wants a BufferSource.
  const module = new WebAssembly.Module(new Uint8Array(bytes));
  const abi = WebAssembly.Module.exports(module)
    .map((e) => /^proxy_abi_version_(\d+_\d+_\d+)$/.exec(e.name)?.[1])
    .find((v): v is string => v !== undefined);
  return {
    name,
    path: file,
    size: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    abiVersion: abi ?? 'none',
  };
}

export async function writeBuildManifest(outDir: string, filters: readonly BuiltFilter[]): Promise<void> {
  await writeFile(path.join(outDir, 'manifest.json'), JSON.stringify(filters, null, 2) + '\n');
}

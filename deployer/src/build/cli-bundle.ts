import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { BuildOptions } from 'esbuild';

/**
 * Bundles the deployer CLI into build/deployer.mjs plus build/deployer-chunks/ (what the
 * installed package ships, package.json "files"). The AssemblyScript compiler and binaryen stay
 * external: build-time dependencies, resolved only by `deployer build` in a checkout; bundling
 * their wasm-backed modules would break their relative asset loading. Code splitting keeps each
 * dynamic import() a chunk of its own, so their static imports (binaryen in pack-static-data.ts)
 * are loaded with that chunk, not hoisted into the entry where every command would need them.
 */
/** What every bundle of deployer code shares with the shipped CLI (no keepNames: esbuild's default). */
const SHIPPED: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['assemblyscript', 'assemblyscript/*', 'binaryen'],
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __wasmeshCreateRequire } from 'node:module'; const require = __wasmeshCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};

export async function bundleCli(root: string, outFile = path.join(root, 'build', 'deployer.mjs')): Promise<string> {
  const { build } = await import('esbuild');
  const outdir = path.dirname(outFile);
  const chunks = path.join(outdir, 'deployer-chunks');
  await rm(chunks, { recursive: true, force: true });
  await build({
    ...SHIPPED,
    entryPoints: { [path.basename(outFile, '.mjs')]: path.join(root, 'deployer', 'src', 'cli', 'main.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'deployer-chunks/[name]-[hash]',
    splitting: true,
    sourcemap: 'linked',
  });
  return outFile;
}

/**
 * One ES module re-exporting `exports` (name → source file under `root`), compiled exactly as the
 * shipped CLI is. Benchmarks import deployer code through it: they run under tsx, which compiles
 * with keepNames — a name-setting defineProperty wrapped around every named function created,
 * about half a microsecond per closure made on a request path, which the CLI users run does not pay.
 */
export async function bundleModule(root: string, exports: Readonly<Record<string, string>>, outFile: string): Promise<string> {
  const { build } = await import('esbuild');
  const contents = Object.entries(exports).map(([name, file]) => `export { ${name} } from ${JSON.stringify(`./${file}`)};`).join('\n');
  await build({ ...SHIPPED, stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'bench-entry.ts' }, outfile: outFile });
  return outFile;
}

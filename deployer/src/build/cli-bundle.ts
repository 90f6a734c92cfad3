import { rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Bundles the deployer CLI into build/deployer.mjs plus build/deployer-chunks/ (what the
 * installed package ships, package.json "files"). The AssemblyScript compiler and binaryen stay
 * external: build-time dependencies, resolved only by `deployer build` in a checkout; bundling
 * their wasm-backed modules would break their relative asset loading. Code splitting keeps each
 * dynamic import() a chunk of its own, so their static imports (binaryen in pack-static-data.ts)
 * are loaded with that chunk, not hoisted into the entry where every command would need them.
 */
export async function bundleCli(root: string, outFile = path.join(root, 'build', 'deployer.mjs')): Promise<string> {
  const { build } = await import('esbuild');
  const outdir = path.dirname(outFile);
  const chunks = path.join(outdir, 'deployer-chunks');
  await rm(chunks, { recursive: true, force: true });
  await build({
    entryPoints: { [path.basename(outFile, '.mjs')]: path.join(root, 'deployer', 'src', 'cli', 'main.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'deployer-chunks/[name]-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    external: ['assemblyscript', 'assemblyscript/*', 'binaryen'],
    // Some CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __wasmeshCreateRequire } from 'node:module'; const require = __wasmeshCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outFile;
}

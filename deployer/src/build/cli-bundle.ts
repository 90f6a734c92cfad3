import path from 'node:path';

/**
 * Bundles the deployer CLI into one ESM file. The AssemblyScript compiler (and binaryen it
 * loads) stays external: it is a dependency resolved at run time by `deployer build`, and
 * bundling its wasm-backed modules would break their relative asset loading.
 */
export async function bundleCli(root: string, outFile = path.join(root, 'build', 'deployer.mjs')): Promise<string> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [path.join(root, 'deployer', 'src', 'cli', 'main.ts')],
    outfile: outFile,
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

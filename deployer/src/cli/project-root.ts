import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the CLI finds things. Two roots, because the CLI runs two ways:
 * - the installed package (`npm i -g wasmesh-*.tgz`): built filters ship in <package>/build/filters,
 *   found from this module's own location, whatever the working directory;
 * - a wasmesh checkout (filters/ sources and asconfig.json): only `deployer build` needs one.
 */
const PACKAGE_NAME = 'wasmesh';

/**
 * The wasmesh package this code runs from: the nearest folder upwards from this module holding a
 * package.json named "wasmesh". Walked, not counted, because the same code runs from
 * deployer/src/cli/ (tsx, tests) and from the esbuild bundle in build/.
 */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && readPackageName(manifest) === PACKAGE_NAME) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`the wasmesh package is not found above ${from}: expected a package.json named "${PACKAGE_NAME}" (a broken install?)`);
    dir = parent;
  }
}

function readPackageName(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/**
 * The folder holding the built filters (<name>.wasm): DEPLOYER_FILTERS_DIR, else DEPLOYER_ROOT's
 * build/filters, else the package's own build/filters (shipped in the npm package).
 */
export function builtFiltersDir(): string {
  if (process.env.DEPLOYER_FILTERS_DIR) return path.resolve(process.env.DEPLOYER_FILTERS_DIR);
  const root = process.env.DEPLOYER_ROOT ? path.resolve(process.env.DEPLOYER_ROOT) : packageRoot();
  return path.join(root, 'build', 'filters');
}

/** The root `builtFiltersDir()` sits in (demo needs the root to build missing filters from sources). */
export function filtersRoot(): string {
  return process.env.DEPLOYER_ROOT ? path.resolve(process.env.DEPLOYER_ROOT) : packageRoot();
}

const isCheckout = (dir: string): boolean => existsSync(path.join(dir, 'asconfig.json')) && existsSync(path.join(dir, 'filters'));

/**
 * The wasmesh checkout `deployer build` compiles: DEPLOYER_ROOT, else the nearest folder upwards
 * from the working directory holding filters/ and asconfig.json, else the package's own folder
 * when it is a checkout (bin/deployer.mjs run from a clone).
 */
export function findProjectRoot(start = process.cwd()): string {
  const fromEnv = process.env.DEPLOYER_ROOT;
  if (fromEnv) return path.resolve(fromEnv);
  let dir = path.resolve(start);
  for (;;) {
    if (isCheckout(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const own = packageRoot();
  if (isCheckout(own)) return own;
  throw new Error(`no wasmesh checkout found from ${start}: \`deployer build\` compiles filter sources and needs a folder with asconfig.json and filters/ (or set DEPLOYER_ROOT); `
    + `the installed package already ships built filters in ${path.join(own, 'build', 'filters')}`);
}

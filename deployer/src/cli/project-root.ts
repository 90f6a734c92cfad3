import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The wasmesh checkout the CLI works in: DEPLOYER_ROOT, else the nearest folder upwards from the
 * working directory holding filters/ and asconfig.json.
 */
export function findProjectRoot(start = process.cwd()): string {
  const fromEnv = process.env.DEPLOYER_ROOT;
  if (fromEnv) return path.resolve(fromEnv);
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, 'asconfig.json')) && existsSync(path.join(dir, 'filters'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`no wasmesh project found from ${start}: expected a folder with asconfig.json and filters/ (or set DEPLOYER_ROOT)`);
    }
    dir = parent;
  }
}

import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, resolved from this file so tests work from any working directory. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ../shared/testdata beside the checkout (never copied into the repo). */
export const sharedTestdata = path.resolve(repoRoot, '..', 'shared', 'testdata');
export const builtFilter = (name: string): string => path.join(repoRoot, 'build', 'filters', `${name}.wasm`);
export const builtTestFilter = (name: string): string => path.join(repoRoot, 'build', 'test-filters', `${name}.wasm`);

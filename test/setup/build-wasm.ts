/**
 * vitest globalSetup: compiles every filter (build/filters/<name>.wasm) and every test filter
 * (test/fixtures/filters/<name>/index.ts → build/test-filters/<name>.wasm) once per run, so
 * filter tests always load the *built* module. Skipped when no AssemblyScript source is newer.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFilters, compileEntry, discoverFilters } from '../../deployer/src/build/filters.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const testFilterDir = path.join(root, 'test', 'fixtures', 'filters');
const testOutDir = path.join(root, 'build', 'test-filters');

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function isStale(output: string, sourcesNewest: number): boolean {
  return !existsSync(output) || statSync(output).mtimeMs < sourcesNewest;
}

export function testFilterNames(): string[] {
  if (!existsSync(testFilterDir)) return [];
  return readdirSync(testFilterDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(testFilterDir, e.name, 'index.ts')))
    .map((e) => e.name)
    .sort();
}

export default async function setup(): Promise<void> {
  const shared = Math.max(
    newestMtime(path.join(root, 'filters', 'lib')),
    newestMtime(path.join(root, 'patches')),
    statSync(path.join(root, 'asconfig.json')).mtimeMs,
  );
  const staleFilters = discoverFilters(root).filter((name) =>
    isStale(path.join(root, 'build', 'filters', `${name}.wasm`), Math.max(shared, newestMtime(path.join(root, 'filters', name)))));
  if (staleFilters.length > 0) await buildFilters({ root, filters: staleFilters });
  for (const name of testFilterNames()) {
    const outFile = path.join(testOutDir, `${name}.wasm`);
    if (!isStale(outFile, Math.max(shared, newestMtime(path.join(testFilterDir, name))))) continue;
    await compileEntry({ root, name, entry: path.join('test', 'fixtures', 'filters', name, 'index.ts'), outFile, profile: 'release' });
  }
}

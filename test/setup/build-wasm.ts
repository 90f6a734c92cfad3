/**
 * vitest globalSetup: compiles every filter (build/filters/<name>.wasm) and every test filter
 * (test/fixtures/filters/<name>/index.ts → build/test-filters/<name>.wasm) once per run, so
 * filter tests always load the *built* module. Skipped when no AssemblyScript source is newer.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileEntry, discoverFilters, filterOutputPath } from '../../deployer/src/build/filters.js';

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

/** Where compile failures are recorded; test/build/built-filters.test.ts reports them. */
export const buildErrorsFile = path.join(root, 'build', 'build-errors.json');

interface Target { readonly name: string; readonly entry: string; readonly outFile: string; readonly sourceDir: string }

export default async function setup(): Promise<void> {
  const shared = Math.max(
    newestMtime(path.join(root, 'filters', 'lib')),
    newestMtime(path.join(root, 'patches')),
    statSync(path.join(root, 'asconfig.json')).mtimeMs,
  );
  const targets: Target[] = [
    ...discoverFilters(root).map((name) => ({
      name,
      entry: path.join('filters', name, 'assembly', 'index.ts'),
      outFile: filterOutputPath(path.join(root, 'build', 'filters'), name, 'release'),
      sourceDir: path.join(root, 'filters', name),
    })),
    ...testFilterNames().map((name) => ({
      name: `test-filters/${name}`,
      entry: path.join('test', 'fixtures', 'filters', name, 'index.ts'),
      outFile: path.join(testOutDir, `${name}.wasm`),
      sourceDir: path.join(testFilterDir, name),
    })),
  ];
  mkdirSync(path.join(root, 'build', 'filters'), { recursive: true });
  mkdirSync(testOutDir, { recursive: true });
  // One broken filter must not stop the rest of the suite: record the error, remove the stale
  // output (so its own tests fail loudly instead of testing old code) and go on.
  const errors: Record<string, string> = {};
  for (const target of targets) {
    if (!isStale(target.outFile, Math.max(shared, newestMtime(target.sourceDir)))) continue;
    try {
      await compileEntry({ root, name: target.name, entry: target.entry, outFile: target.outFile, profile: 'release' });
    } catch (error) {
      rmSync(target.outFile, { force: true });
      errors[target.name] = error instanceof Error ? error.message : String(error);
      process.stderr.write(`[build-wasm] ${errors[target.name]}\n`);
    }
  }
  writeFileSync(buildErrorsFile, JSON.stringify(errors, null, 2) + '\n');
}

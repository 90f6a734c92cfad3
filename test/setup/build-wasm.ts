/**
 * vitest globalSetup: compiles every filter (build/filters/<name>.wasm) and every test filter
 * (test/fixtures/filters/<name>/index.ts → build/test-filters/<name>.wasm) once per run, so
 * filter tests always load the *built* module. A module is rebuilt when the hash of its sources
 * (its folder, filters/lib, the SDK patches, asconfig.json) differs from the one recorded at its
 * last build — content, not mtimes, which miss an edit made in the same second as a compile.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileEntry, discoverFilters, filterOutputPath } from '../../deployer/src/build/filters.js';
import { REGEX_MODULE } from '../../deployer/src/regex/engine.js';
import { REGEX_MODULE_ENTRY } from '../../deployer/src/regex/build-module.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const testFilterDir = path.join(root, 'test', 'fixtures', 'filters');
const testOutDir = path.join(root, 'build', 'test-filters');

/** Hashes every file below `dir` (path and content), in a stable order. */
function hashTree(hash: ReturnType<typeof createHash>, dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      hashTree(hash, full);
    } else {
      hash.update(path.relative(root, full)).update('\0').update(readFileSync(full)).update('\0');
    }
  }
}

function sourcesHash(sharedDigest: string, sourceDir: string): string {
  const hash = createHash('sha256').update(sharedDigest);
  hashTree(hash, sourceDir);
  return hash.digest('hex');
}

const stampFile = (outFile: string): string => `${outFile}.sources-sha256`;

function isStale(outFile: string, digest: string): boolean {
  return !existsSync(outFile) || !existsSync(stampFile(outFile)) || readFileSync(stampFile(outFile), 'utf8') !== digest;
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
  const sharedHash = createHash('sha256');
  hashTree(sharedHash, path.join(root, 'filters', 'lib'));
  hashTree(sharedHash, path.join(root, 'patches'));
  // The build code itself shapes the output (e.g. the post-link static-data packer).
  hashTree(sharedHash, path.join(root, 'deployer', 'src', 'build'));
  sharedHash.update(readFileSync(path.join(root, 'asconfig.json')));
  sharedHash.update(JSON.parse(readFileSync(path.join(root, 'node_modules', 'assemblyscript', 'package.json'), 'utf8')).version as string);
  const shared = sharedHash.digest('hex');
  const targets: Target[] = [
    ...discoverFilters(root).map((name) => ({
      name,
      entry: path.join('filters', name, 'assembly', 'index.ts'),
      outFile: filterOutputPath(path.join(root, 'build', 'filters'), name, 'release'),
      sourceDir: path.join(root, 'filters', name),
    })),
    // The deployer's regex engine (filters/lib/regex, standalone): its sources are filters/lib.
    { name: 'lib/regex', entry: REGEX_MODULE_ENTRY, outFile: path.join(root, REGEX_MODULE), sourceDir: path.join(root, 'filters', 'lib', 'regex') },
    ...testFilterNames().map((name) => ({
      name: `test-filters/${name}`,
      entry: path.join('test', 'fixtures', 'filters', name, 'index.ts'),
      outFile: path.join(testOutDir, `${name}.wasm`),
      sourceDir: path.join(testFilterDir, name),
    })),
  ];
  mkdirSync(path.join(root, 'build', 'filters'), { recursive: true });
  mkdirSync(testOutDir, { recursive: true });
  mkdirSync(path.dirname(path.join(root, REGEX_MODULE)), { recursive: true });
  // One broken filter must not stop the rest of the suite: record the error, remove the stale
  // output (so its own tests fail loudly instead of testing old code) and go on.
  const errors: Record<string, string> = {};
  for (const target of targets) {
    const digest = sourcesHash(shared, target.sourceDir);
    if (!isStale(target.outFile, digest)) continue;
    try {
      await compileEntry({ root, name: target.name, entry: target.entry, outFile: target.outFile, profile: 'release' });
      writeFileSync(stampFile(target.outFile), digest);
    } catch (error) {
      rmSync(target.outFile, { force: true });
      rmSync(stampFile(target.outFile), { force: true });
      errors[target.name] = error instanceof Error ? error.message : String(error);
      process.stderr.write(`[build-wasm] ${errors[target.name]}\n`);
    }
  }
  writeFileSync(buildErrorsFile, JSON.stringify(errors, null, 2) + '\n');
}

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverFilters } from '../../deployer/src/build/filters.js';
import { dataSegmentCount } from '../../deployer/src/build/pack-static-data.js';
import { builtFilter, repoRoot } from '../setup/paths.js';

// Compiled by the global setup (test/setup/build-wasm.ts), which records compile errors instead
// of aborting the whole suite; this is where they surface.
const filters = discoverFilters(repoRoot);

/** The imports Envoy gives a module: proxy-wasm host functions and the WASI subset cpp-host provides. */
const allowedImportModules = new Set(['env', 'wasi_snapshot_preview1', 'wasi_unstable']);

describe('build: every filter under filters/', () => {
  it('build: every filter and test filter compiled', () => {
    const errors = JSON.parse(readFileSync(path.join(repoRoot, 'build', 'build-errors.json'), 'utf8')) as Record<string, string>;
    expect(errors).toEqual({});
  });

  it.each(filters)('build: %s.wasm validates and exports the proxy-wasm ABI', (name) => {
    const file = builtFilter(name);
    expect(existsSync(file), `${file} was not built`).toBe(true);
    const bytes = readFileSync(file);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const module = new WebAssembly.Module(bytes);
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    expect(exports.some((e) => e === 'proxy_abi_version_0_2_1' || e === 'proxy_abi_version_0_2_0')).toBe(true);
    expect(exports).toContain('malloc');
    expect(exports).toContain('proxy_on_memory_allocate');
    expect(exports).toContain('memory');
    for (const entry of WebAssembly.Module.imports(module)) {
      expect(allowedImportModules.has(entry.module), `${name} imports ${entry.module}.${entry.name}`).toBe(true);
      if (entry.module === 'env') expect(entry.name, `${name} imports env.${entry.name}, which Envoy does not provide`).toMatch(/^proxy_/);
    }
  });

  it.each(filters)('build: %s.wasm has its static data packed (few data segments, unpacked by _initialize)', (name) => {
    // The AS compiler emits one segment per string literal (~900 for jwt-auth); the post-link
    // step (deployer/src/build/pack-static-data.ts) leaves the packed blob and at most a few
    // far-away segments.
    expect(dataSegmentCount(readFileSync(builtFilter(name)))).toBeLessThanOrEqual(3);
  });
});

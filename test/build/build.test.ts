import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFilters, discoverFilters, filterOutputPath } from '../../deployer/src/build/filters.js';
import { repoRoot } from '../setup/paths.js';

describe('build: filters', () => {
  let outDir: string;
  beforeAll(async () => { outDir = await mkdtemp(path.join(os.tmpdir(), 'wasmesh-build-')); });
  afterAll(async () => { await rm(outDir, { recursive: true, force: true }); });

  it('build: discovers every folder under filters/ with an assembly/index.ts entry', () => {
    const names = discoverFilters(repoRoot);
    expect(names).toContain('example');
    expect(names).not.toContain('lib');
  });

  it('build: refuses an unknown filter name, naming it and the known ones', async () => {
    await expect(buildFilters({ root: repoRoot, filters: ['nope'], outDir })).rejects.toThrow(/unknown filter "nope": expected one of .*example/);
  });

  it('build: a debug build keeps function names and writes <name>.debug.wasm next to a .wat', async () => {
    const [built] = await buildFilters({ root: repoRoot, filters: ['example'], outDir, profile: 'debug' });
    expect(built!.path).toBe(filterOutputPath(outDir, 'example', 'debug'));
    const bytes = await readFile(built!.path);
    // The "name" custom section is what gives traps readable stack frames.
    expect(WebAssembly.Module.customSections(new WebAssembly.Module(bytes), 'name').length).toBe(1);
    expect((await readFile(built!.path.replace(/\.wasm$/, '.wat'), 'utf8'))).toContain('(module');
  }, 120_000);

  it('build: a release build is optimized, reports its sha256 and ABI version', async () => {
    const [release] = await buildFilters({ root: repoRoot, filters: ['example'], outDir });
    const [debug] = await buildFilters({ root: repoRoot, filters: ['example'], outDir, profile: 'debug' });
    expect(release!.size).toBeLessThan(debug!.size);
    expect(release!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(release!.abiVersion).toBe('0_2_1');
  }, 120_000);
});

/** True when the module validates with every binaryen feature except SIMD. */
async function validatesWithoutSimd(bytes: Uint8Array): Promise<boolean> {
  const { default: binaryen } = await import('binaryen');
  const module = binaryen.readBinary(bytes);
  try {
    module.setFeatures(binaryen.Features.All & ~binaryen.Features.SIMD128);
    return module.validate() === 1;
  } finally {
    module.dispose();
  }
}

describe('build: profiles', () => {
  let outDir: string;
  beforeAll(async () => { outDir = await mkdtemp(path.join(os.tmpdir(), 'wasmesh-profiles-')); });
  afterAll(async () => { await rm(outDir, { recursive: true, force: true }); });

  it('build: jwt-auth uses wasm SIMD in the release profile and none in the portable one', async () => {
    const [release] = await buildFilters({ root: repoRoot, filters: ['jwt-auth'], outDir, profile: 'release' });
    const [portable] = await buildFilters({ root: repoRoot, filters: ['jwt-auth'], outDir, profile: 'portable' });
    expect(portable!.path).toBe(filterOutputPath(outDir, 'jwt-auth', 'portable'));
    expect(await validatesWithoutSimd(await readFile(release!.path))).toBe(false);
    expect(await validatesWithoutSimd(await readFile(portable!.path))).toBe(true);
  }, 180_000);
});

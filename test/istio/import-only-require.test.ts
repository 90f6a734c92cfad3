import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { importExportTarget } from '../../deployer/src/istio/import-only-require.js';
import { tempDir } from '../control-plane/harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('import-only-require', () => {
  const work = tempDir();
  afterAll(() => work.cleanup());
  const pkg = (name: string, exportsMap: unknown) => {
    const dir = path.join(work.dir, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, type: 'module', exports: exportsMap }));
    return dir;
  };
  pkg('@scope/sugar', { types: './dist/index.d.ts', import: './dist/index.js' });
  pkg('@scope/mapped', { '.': { import: './index.js' }, './runtime/*': { types: './runtime/*.d.ts', import: './dist/runtime/*.js' }, './plain': './plain.js', './hidden': null });
  const from = path.join(work.dir, 'node_modules', '@scope', 'user', 'lib', 'file.js');

  it.each([
    ['@scope/sugar', 'node_modules/@scope/sugar/dist/index.js'],
    ['@scope/mapped', 'node_modules/@scope/mapped/index.js'],
    ['@scope/mapped/runtime/a/b', 'node_modules/@scope/mapped/dist/runtime/a/b.js'],
    ['@scope/mapped/plain', 'node_modules/@scope/mapped/plain.js'],
    ['@scope/mapped/hidden', undefined],
    ['@scope/mapped/nothing', undefined],
    ['@scope/sugar/deep', undefined],
    ['@scope/absent', undefined],
    ['./relative', undefined],
  ])('resolves %s through its import export', (request, expected) => {
    expect(importExportTarget(request, from)).toBe(expected === undefined ? undefined : path.join(work.dir, expected));
  });

  it('validates Istio YAML with the packaged schemas under node --import tsx (a CommonJS transform hook)', () => {
    const file = path.join(work.dir, 'se.yaml');
    writeFileSync(file, 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a, namespace: shop}\nspec:\n  hosts: [a.shop.svc.cluster.local]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{address: 127.0.0.1}]\n');
    const env = { ...process.env };
    delete env.DEPLOYER_ISTIO_CRDS;
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'deployer/src/cli/main.ts'), 'validate', '-o', 'json', file], { cwd: ROOT, encoding: 'utf8', env, timeout: 60_000 });
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/exports/);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ files: [{ status: 'valid' }] });
  }, 60_000);
});

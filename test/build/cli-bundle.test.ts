import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../../deployer/src/build/cli-bundle.js';
import { builtFilter, repoRoot } from '../setup/paths.js';

const run = promisify(execFile);

// The esbuild bundle runs from build/, not deployer/src/: anything that locates files from its
// own module URL must still find them there (the Istio CRDs once resolved outside the repo).
describe('build: the bundled CLI', () => {
  const bundle = path.join(repoRoot, 'build', 'test-cli', 'deployer.mjs');
  beforeAll(async () => { await bundleCli(repoRoot, bundle); }, 120_000);

  it('build: the bundle renders a validated WasmPlugin from an Istio policy, run from another working directory', async () => {
    const { stdout } = await run(process.execPath, [
      bundle, 'render', builtFilter('rbac'),
      '--image', 'oci://registry.local:5000/wasmesh/rbac:v1', '--via', 'wasmplugin', '-n', 'shop',
      '--istio', path.join(repoRoot, 'filters', 'rbac', 'istio', 'authorization-policies.yaml'),
    ], { cwd: os.tmpdir(), env: { ...process.env, DEPLOYER_ISTIO_CRDS: '' } });
    const plugin = parse(stdout) as { kind: string; spec: { phase: string; pluginConfig: unknown } };
    expect(plugin.kind).toBe('WasmPlugin');
    expect(plugin.spec.phase).toBe('AUTHZ');
    expect(plugin.spec.pluginConfig).toBeTruthy();
  }, 120_000);
});

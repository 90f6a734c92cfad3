import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { register as registerPush } from '../../deployer/src/cli/commands/push.js';
import { register as registerRender } from '../../deployer/src/cli/commands/render.js';
import { register as registerRollback } from '../../deployer/src/cli/commands/rollback.js';
import { register as registerStatus } from '../../deployer/src/cli/commands/status.js';
import { register as registerTranslate } from '../../deployer/src/cli/commands/translate.js';
import { register as registerUndeploy } from '../../deployer/src/cli/commands/undeploy.js';
import { builtFilter } from '../setup/paths.js';
import { parseIstioResources, translateResources } from '../../deployer/src/translate/index.js';
import { startStandinApiServer, type StandinApiServer } from '../kube/standin-apiserver.js';
import { REGISTRY_BINARY, startRegistry, type RunningRegistry } from '../support/registry.js';

/** Runs the commands the way main.ts wires them, capturing stdout/stderr. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const program = new Command('deployer').exitOverride();
  for (const register of [registerPush, registerRender, registerTranslate, registerStatus, registerRollback, registerUndeploy]) register(program);
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { stdout += String(chunk); return true; });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { stderr += String(chunk); return true; });
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}

let apiServer: StandinApiServer;
const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-cli-'));
const kubeconfig = path.join(dir, 'kubeconfig');
const badWasm = path.join(dir, 'bad.wasm');
writeFileSync(badWasm, new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02]));
const wasm = builtFilter('example');
const image = 'oci://127.0.0.1:5000/wasmesh/example:v1';

beforeAll(async () => {
  apiServer = await startStandinApiServer();
  writeFileSync(kubeconfig, apiServer.kubeconfigYaml());
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ header: 'x-hello' }));
});
afterAll(() => apiServer.close());

describe('deployer CLI commands', () => {
  it('push: --dry-run=client -o json prints the manifest and progress per step on stderr', async () => {
    const { stdout, stderr } = await cli('push', wasm, '--image', image, '--config', path.join(dir, 'config.json'), '-n', 'shop', '--selector', 'app=reviews', '--dry-run=client', '-o', 'json');
    const manifest = JSON.parse(stdout) as { kind: string; spec: { workloadSelector: unknown } };
    expect(manifest.kind).toBe('EnvoyFilter');
    expect(manifest.spec.workloadSelector).toEqual({ labels: { app: 'reviews' } });
    for (const step of ['inspect', 'push', 'render', 'validate', 'apply']) expect(stderr).toContain(`✓ ${step}`);
    // What would have changed something is marked as not having done so.
    expect(stderr).toContain('✓ push (dry run: client)');
    expect(stderr).toContain('✓ apply (dry run: client)');
    expect(stderr).toMatch(/^image not pushed \(dry run: client\) oci:/m);
  });

  it('push: --istio translates the policy through the registered translator into the filter config', async () => {
    const policy = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'render', 'policies', 'authz.yaml');
    const expected = translateResources(parseIstioResources(readFileSync(policy, 'utf8'))).find((t) => t.filter === 'rbac')!.config;
    const { stdout } = await cli('push', wasm, '--filter', 'rbac', '--image', image, '--istio', policy, '-n', 'shop', '--dry-run=client', '-o', 'json');
    const manifest = JSON.parse(stdout) as { spec: { configPatches: { patch: { value: { typed_config?: { config: { configuration: { value: string } } } } } }[] } };
    expect(JSON.parse(manifest.spec.configPatches[0]!.patch.value.typed_config!.config.configuration.value)).toEqual(expected);
  });

  it('render: --out writes one file per object for GitOps', async () => {
    const out = path.join(dir, 'gitops');
    await cli('render', wasm, '--image', image, '--via', 'wasmplugin', '--out', out);
    expect(readdirSync(out)).toEqual(['wasmplugin-wasmesh-example.yaml']);
    expect(parse(readFileSync(path.join(out, 'wasmplugin-wasmesh-example.yaml'), 'utf8'))).toMatchObject({ kind: 'WasmPlugin', spec: { pluginName: 'example' } });
  });

  it('push: --dry-run=server asks the API server and persists nothing', async () => {
    await cli('push', wasm, '--image', image, '-n', 'cli', '--kubeconfig', kubeconfig, '--dry-run=server');
    expect(apiServer.objects()).toHaveLength(0);
    expect(JSON.parse((await cli('status', '--kubeconfig', kubeconfig, '-o', 'json')).stdout)).toEqual([]);
  });

  describe.skipIf(!existsSync(REGISTRY_BINARY))('with a real registry', () => {
    let registry: RunningRegistry;
    beforeAll(async () => { registry = await startRegistry(); });
    afterAll(() => registry?.stop());

    it('cli: push v1, push v2, status, rollback to v1, undeploy', async () => {
      const ref = `oci://${registry.host}/wasmesh/example:v1`;
      const v2 = path.join(dir, 'example.wasm');
      writeFileSync(v2, new Uint8Array([...readFileSync(wasm), 0x00, 0x05, 0x04, 0x6e, 0x6f, 0x74, 0x65]));
      const first = await cli('push', wasm, '--image', ref, '-n', 'flow', '--kubeconfig', kubeconfig, '-o', 'json');
      const d1 = (JSON.parse(first.stdout) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['wasmesh.io/digest']!;
      expect(first.stderr).toMatch(/pushed oci:\/\/127\.0\.0\.1:\d+\/wasmesh\/example@sha256:/);
      await cli('push', v2, '--image', ref, '-n', 'flow', '--kubeconfig', kubeconfig);

      const table = (await cli('status', '-n', 'flow', '--kubeconfig', kubeconfig)).stdout;
      expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+ORDER\s+FILTER\s+KIND\s+CONTEXT\s+DIGEST\s+LAST APPLIED$/);
      expect(table).not.toContain(d1);

      const rolled = await cli('rollback', 'example', '-n', 'flow', '--kubeconfig', kubeconfig);
      expect(rolled.stdout).toContain(`→ ${d1}`);
      expect((await cli('status', '-n', 'flow', '--kubeconfig', kubeconfig)).stdout).toContain(d1);

      const removed = JSON.parse((await cli('undeploy', 'example', '-n', 'flow', '--kubeconfig', kubeconfig, '-o', 'json')).stdout) as { name: string }[];
      expect(removed.map((r) => r.name)).toEqual(['wasmesh-example']);
      expect(JSON.parse((await cli('status', '-n', 'flow', '--kubeconfig', kubeconfig, '-o', 'json')).stdout)).toEqual([]);
    });
  });

  it.each([
    [['push', wasm, '--image', image, '--direction', 'sideways', '--dry-run=client'], "argument 'sideways' is invalid. Allowed choices are inbound, outbound, gateway"],
    [['push', wasm, '--image', image, '--via', 'envoyfilter', '--fail-strategy', 'reload', '--dry-run=client'], 'fail strategy "reload" with --via envoyfilter'],
    [['push', wasm, '--image', image, '--selector', 'app', '--dry-run=client'], 'selector "app": expected key=value pairs'],
    [['push', wasm, '--dry-run=client'], 'no image given: expected --image'],
    [['push', wasm, '--image', image, '--dry-run=maybe'], '--dry-run "maybe": expected client or server'],
    [['push', path.join(dir, 'missing.wasm'), '--image', image, '--dry-run=client'], 'cannot read module'],
    [['push', wasm, '--image', image, '--config', path.join(dir, 'config.json'), '--istio', path.join(dir, 'x.yaml'), '--dry-run=client'], '--config and --istio both given'],
    [['rollback', 'example', '-n', 'cli', '--kubeconfig', kubeconfig], 'not deployed by wasmesh'],
    [['undeploy', 'example', '-n', 'cli', '--kubeconfig', kubeconfig], 'not deployed by wasmesh'],
    [['status', '--kubeconfig', kubeconfig, '-o', 'xml'], 'unknown output format "xml"'],
    [['render', badWasm, '--image', image], `${badWasm}: module would not load in Envoy`],
    [['render', wasm, '--image', 'oci://Registry/UPPER:v1'], 'invalid image reference'],
  ])('cli: %j fails naming the bad value', async (args, message) => {
    await expect(cli(...args)).rejects.toThrow(message);
  });
});

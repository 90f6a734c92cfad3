import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { register as registerPush } from '../../deployer/src/cli/commands/push.js';
import { register as registerRender } from '../../deployer/src/cli/commands/render.js';
import { register as registerRollback } from '../../deployer/src/cli/commands/rollback.js';
import { register as registerStatus } from '../../deployer/src/cli/commands/status.js';
import { register as registerTranslate } from '../../deployer/src/cli/commands/translate.js';
import { register as registerUndeploy } from '../../deployer/src/cli/commands/undeploy.js';
import { builtFilter } from '../setup/paths.js';
import { ClusterClient } from '../../deployer/src/apply/client.js';
import { toManifest } from '../../deployer/src/apply/live.js';
import { shippedConfiguration } from '../../deployer/src/render/retarget.js';
import { parseIstioResources, translateResources } from '../../deployer/src/translate/index.js';
import { startStandinApiServer, type StandinApiServer } from '../kube/standin-apiserver.js';
import { REGISTRY_BINARY, startRegistry, type RunningRegistry } from '../support/registry.js';
import { runCommand } from '../support/cli.js';

/** Runs the commands the way main.ts wires them, capturing stdout/stderr. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return runCommand((program) => { for (const register of [registerPush, registerRender, registerTranslate, registerStatus, registerRollback, registerUndeploy]) register(program); }, args);
}

let apiServer: StandinApiServer;
const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-cli-'));
const kubeconfig = path.join(dir, 'kubeconfig');
const badWasm = path.join(dir, 'bad.wasm');
writeFileSync(badWasm, new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02]));
const wasm = builtFilter('example');
const fixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const jwtTypo = path.join(dir, 'jwt-typo.json');
const rbacEmpty = path.join(dir, 'rbac-empty.json');
writeFileSync(jwtTypo, JSON.stringify({ providers: { main: { issuer: 'https://idp.example.com', jwks_url: 'https://idp.example.com/.well-known/jwks.json' } } }));
writeFileSync(rbacEmpty, JSON.stringify({ policies: [] }));
const image = 'oci://127.0.0.1:5000/wasmesh/example:v1';

beforeAll(async () => {
  apiServer = await startStandinApiServer();
  writeFileSync(kubeconfig, apiServer.kubeconfigYaml());
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ request_headers: { 'x-hello': 'world' } }));
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
    const { stdout } = await cli('push', builtFilter('rbac'), '--image', image, '--istio', policy, '-n', 'shop', '--dry-run=client', '-o', 'json');
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

  describe('issue #10: policies land where istiod would put them, configs proven against the module', () => {
    const scopeFixture = (name: string) => path.join(fixturesDir, 'istio-scope', name);
    interface Rendered { kind: string; metadata: { name: string; namespace: string; annotations: Record<string, string> }; spec: Record<string, unknown> }
    const rbacPolicies = (m: Rendered): string[] => {
      const value = m.kind === 'WasmPlugin'
        ? m.spec.pluginConfig as { policies: { metadata: { name: string } }[] }
        : JSON.parse((m.spec.configPatches as { patch: { value: { typed_config: { config: { configuration: { value: string } } } } } }[])[0]!.patch.value.typed_config.config.configuration.value) as { policies: { metadata: { name: string } }[] };
      return value.policies.map((p) => p.metadata.name);
    };
    const items = (stdout: string): Rendered[] => {
      const parsed = JSON.parse(stdout) as Rendered | { items: Rendered[] };
      return 'items' in parsed ? parsed.items : [parsed];
    };

    it('render --istio -n bookinfo -l app=productpage: one object for productpage, other/reviews-deny-all left out and reported', async () => {
      const { stdout, stderr } = await cli('render', builtFilter('rbac'), '--image', image, '--istio', scopeFixture('bookinfo-mixed.yaml'), '-n', 'bookinfo', '-l', 'app=productpage', '-o', 'json');
      const [m, ...rest] = items(stdout);
      expect(rest).toEqual([]);
      expect(m).toMatchObject({ metadata: { name: 'wasmesh-rbac-app-productpage', namespace: 'bookinfo' }, spec: { workloadSelector: { labels: { app: 'productpage' } } } });
      expect(rbacPolicies(m!)).toEqual(['productpage-viewer']);
      expect(stderr).toContain('3 resources read; 1 applies to bookinfo/app=productpage (AuthorizationPolicy bookinfo/productpage-viewer); 2 skipped: namespace other (AuthorizationPolicy other/reviews-deny-all)');
    });

    it('render --istio without -n: one WasmPlugin per scope, in the policies\' namespaces, each with its own selector and policies', async () => {
      const { stdout } = await cli('render', builtFilter('rbac'), '--image', image, '--istio', scopeFixture('bookinfo-mixed.yaml'), '--via', 'wasmplugin', '-o', 'json');
      expect(items(stdout).map((m) => [m.metadata.namespace, m.metadata.name, m.spec.selector, rbacPolicies(m)])).toEqual([
        ['bookinfo', 'wasmesh-rbac-app-details', { matchLabels: { app: 'details' } }, ['details-viewer']],
        ['bookinfo', 'wasmesh-rbac-app-productpage', { matchLabels: { app: 'productpage' } }, ['productpage-viewer']],
        ['other', 'wasmesh-rbac-app-reviews', { matchLabels: { app: 'reviews' } }, ['reviews-deny-all']],
      ]);
    });

    it('render is deterministic: twice gives byte-identical output, with no applied-at or history', async () => {
      const args = ['render', builtFilter('rbac'), '--image', image, '--istio', scopeFixture('bookinfo-mixed.yaml'), '-n', 'bookinfo', '-l', 'app=productpage'];
      const first = (await cli(...args)).stdout;
      const second = (await cli(...args)).stdout;
      expect(second).toBe(first);
      expect(first).not.toMatch(/applied-at|wasmesh\.io\/history/);
    });

    it.each([
      ['push --config with "jwks_url" (typo)', () => ['push', builtFilter('jwt-auth'), '--image', image, '--config', jwtTypo, '--dry-run=client'], /push failed at validate: EnvoyFilter default\/wasmesh-jwt-auth: refused by the filter itself .*providers\.main: unknown field "jwks_url"/],
      ['push --config \'{"providers":{"main":{…"jwks_url"…}}}\' inline', () => ['push', builtFilter('jwt-auth'), '--image', image, '--config', readFileSync(jwtTypo, 'utf8'), '--dry-run=client'], /push failed at validate: .*providers\.main: unknown field "jwks_url"/],
      ['render --config with "jwks_url" (typo)', () => ['render', builtFilter('jwt-auth'), '--image', image, '--config', jwtTypo], /EnvoyFilter default\/wasmesh-jwt-auth: refused by the filter itself .*unknown field "jwks_url"/],
      ['push --istio with request.auth.claim[groups]', () => ['push', builtFilter('rbac'), '--image', image, '--istio', scopeFixture('claim-typo.yaml'), '--dry-run=client'], /push failed at validate: EnvoyFilter bookinfo\/wasmesh-rbac-app-productpage: refused by the filter itself .*unknown attribute "request\.auth\.claim\[groups\]"/],
      ['render --istio with request.auth.claim[groups]', () => ['render', builtFilter('rbac'), '--image', image, '--istio', scopeFixture('claim-typo.yaml'), '--via', 'wasmplugin'], /WasmPlugin bookinfo\/wasmesh-rbac-app-productpage: refused by the filter itself .*unknown attribute "request\.auth\.claim\[groups\]"/],
      ['translate with request.auth.claim[groups]', () => ['translate', scopeFixture('claim-typo.yaml')], /rbac config for bookinfo\/app=productpage \(from bookinfo\/require-admins\): refused by the filter itself .*unknown attribute "request\.auth\.claim\[groups\]"/],
    ])('%s is refused at validate with the filter\'s own message', async (_name, args, message) => {
      const before = apiServer.requests.length;
      await expect(cli(...args())).rejects.toThrow(message);
      expect(apiServer.requests.length).toBe(before);
    });

    it('push: an object whose scope overlaps one already deployed for the filter is refused (it would run twice)', async () => {
      // A productpage-scoped object is live (applied through the stand-in); then a namespace-wide push.
      const rendered = (await cli('render', builtFilter('rbac'), '--image', image, '--config', rbacEmpty, '-n', 'overlap', '-l', 'app=productpage', '-o', 'json')).stdout;
      const manifest = JSON.parse(rendered) as Rendered;
      const res = await fetch(`${apiServer.url}/apis/networking.istio.io/v1alpha3/namespaces/overlap/envoyfilters/${manifest.metadata.name}?fieldManager=wasmesh`, {
        method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' }, body: rendered,
      });
      expect(res.status).toBe(201);
      await expect(cli('push', builtFilter('rbac'), '--image', image, '--config', rbacEmpty, '-n', 'overlap', '--kubeconfig', kubeconfig, '--dry-run=server'))
        .rejects.toThrow('EnvoyFilter overlap/wasmesh-rbac (overlap/*) would select workloads already running EnvoyFilter overlap/wasmesh-rbac-app-productpage (overlap/app=productpage): the filter would run twice');
    });
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
      expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+ORDER\s+FILTER\s+SCOPE\s+KIND\s+CONTEXT\s+DIGEST\s+LAST APPLIED\s+PARTS$/);
      expect(table).not.toContain(d1);

      const rolled = await cli('rollback', 'example', '-n', 'flow', '--kubeconfig', kubeconfig);
      expect(rolled.stdout).toContain(`→ ${d1}`);
      expect((await cli('status', '-n', 'flow', '--kubeconfig', kubeconfig)).stdout).toContain(d1);

      const removed = JSON.parse((await cli('undeploy', 'example', '-n', 'flow', '--kubeconfig', kubeconfig, '-o', 'json')).stdout) as { name: string }[];
      expect(removed.map((r) => r.name)).toEqual(['wasmesh-example']);
      expect(JSON.parse((await cli('status', '-n', 'flow', '--kubeconfig', kubeconfig, '-o', 'json')).stdout)).toEqual([]);
    });

    it('cli: a config-only change then rollback restores the previous configuration (same digest)', async () => {
      const ref = `oci://${registry.host}/wasmesh/example:v1`;
      const v1 = path.join(dir, 'example-v1.json');
      const v2 = path.join(dir, 'example-v2.json');
      writeFileSync(v1, JSON.stringify({ request_headers: { 'x-version': 'v1' } }));
      writeFileSync(v2, JSON.stringify({ request_headers: { 'x-version': 'v2' } }));
      const shipped = async () => {
        const [row] = JSON.parse((await cli('status', '-n', 'config-flow', '--kubeconfig', kubeconfig, '-o', 'json')).stdout) as { name: string }[];
        const live = await new ClusterClient({ kubeconfig }).get({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', name: row!.name, namespace: 'config-flow' });
        return JSON.parse(shippedConfiguration(toManifest(live!))) as unknown;
      };
      await cli('push', wasm, '--image', ref, '--config', v1, '-n', 'config-flow', '--kubeconfig', kubeconfig);
      await cli('push', wasm, '--image', ref, '--config', v2, '-n', 'config-flow', '--kubeconfig', kubeconfig);
      expect(await shipped()).toEqual({ request_headers: { 'x-version': 'v2' } });
      const rolled = await cli('rollback', 'example', '-n', 'config-flow', '--kubeconfig', kubeconfig);
      expect(rolled.stdout).toMatch(/example: EnvoyFilter wasmesh-example: (sha256:[a-f0-9]{64}) → \1, configuration of .* restored \(configured\)/);
      expect(await shipped()).toEqual({ request_headers: { 'x-version': 'v1' } });
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
    [['render', wasm, '--image', image, '--config', '{bad'], "--config '{bad': not JSON"],
    [['render', wasm, '--image', image, '--config', path.join(dir, 'absent.json')], 'absent.json": ENOENT: expected a readable JSON file or an inline JSON object'],
    [['render', wasm, '--image', 'oci://Registry/UPPER:v1'], 'invalid image reference'],
  ])('cli: %j fails naming the bad value', async (args, message) => {
    await expect(cli(...args)).rejects.toThrow(message);
  });
});

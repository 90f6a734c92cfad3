import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyManifests } from '../../deployer/src/apply/apply.js';
import { ClusterClient } from '../../deployer/src/apply/client.js';
import { filterStatus } from '../../deployer/src/apply/status.js';
import { PushStepError, runPush, type PushPipelineOptions, type PushProgress } from '../../deployer/src/push/push.js';
import { routerRoutesFromIstio } from '../../deployer/src/render/route-patches.js';
import { builtFilter, repoRoot } from '../setup/paths.js';
import { startStandinApiServer, type StandinApiServer } from '../kube/standin-apiserver.js';
import { REGISTRY_BINARY, startRegistry, type RunningRegistry } from '../support/registry.js';

let apiServer: StandinApiServer;
let kubeconfig: string;
const wasm = () => new Uint8Array(readFileSync(builtFilter('example')));

beforeAll(async () => {
  apiServer = await startStandinApiServer();
  kubeconfig = path.join(mkdtempSync(path.join(tmpdir(), 'wasmesh-push-')), 'config');
  writeFileSync(kubeconfig, apiServer.kubeconfigYaml());
});
afterAll(() => apiServer.close());

const base = (overrides: Partial<PushPipelineOptions> = {}): PushPipelineOptions => ({
  wasm: wasm(), filter: 'example', image: 'oci://127.0.0.1:1/wasmesh/example:v1', format: 'compat', namespace: 'shop', selector: { app: 'reviews' },
  context: 'inbound', via: 'envoyfilter', failStrategy: 'close', dryRun: 'client', force: false, kube: { kubeconfig }, pluginConfig: { request_headers: { 'x-greeting': 'hi' } },
  ...overrides,
});

describe('push pipeline', () => {
  it('push: --dry-run=client runs every step without the registry or the cluster, pinning the locally computed digest', async () => {
    const events: PushProgress[] = [];
    const before = apiServer.requests.length;
    const result = await runPush(base({ onProgress: (e) => events.push(e) }));
    expect(events.filter((e) => e.state === 'done').map((e) => e.step)).toEqual(['inspect', 'push', 'render', 'validate', 'apply']);
    expect(result.pushed).toBe(false);
    expect(result.image.url).toMatch(/^oci:\/\/127\.0\.0\.1:1\/wasmesh\/example@sha256:[a-f0-9]{64}$/);
    expect(result.manifests[0]!.kind).toBe('EnvoyFilter');
    expect(apiServer.requests.length).toBe(before);
  });

  it('push: a bad module is refused at inspect, before anything is pushed or applied', async () => {
    const before = apiServer.requests.length;
    const bad = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x02, 0, 0, 0]);
    await expect(runPush(base({ wasm: bad, dryRun: 'none' }))).rejects.toThrow(/push failed at inspect: .*nothing was applied/);
    expect(apiServer.requests.length).toBe(before);
  });

  it('push: a configuration the module refuses fails at validate with the filter\'s own message, and nothing is applied', async () => {
    const before = apiServer.requests.filter((r) => r.method === 'PATCH').length;
    const error = await runPush(base({ dryRun: 'server', pluginConfig: { greeting: 'hi' } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushStepError);
    expect((error as PushStepError).step).toBe('validate');
    expect((error as Error).message).toContain('EnvoyFilter shop/wasmesh-example-app-reviews: refused by the filter itself (what Envoy would do with it): wasm plugin "example": proxy_on_configure returned false (configuration refused): example: configuration refused: unknown field "greeting"');
    expect(apiServer.requests.filter((r) => r.method === 'PATCH').length).toBe(before);
  });

  it('push: several targets (one per scope) become one object each, every config proven', async () => {
    const targets = [
      { scope: { namespace: 'bookinfo', selector: { app: 'productpage' } }, config: { request_headers: { 'x-scope': 'productpage' } }, sources: [] },
      { scope: { namespace: 'bookinfo', selector: { app: 'reviews' } }, config: { request_headers: { 'x-scope': 'reviews' } }, sources: [] },
    ];
    const result = await runPush(base({ targets }));
    expect(result.manifests.map((m) => [m.metadata.namespace, m.metadata.name, m.spec.workloadSelector])).toEqual([
      ['bookinfo', 'wasmesh-example-app-productpage', { labels: { app: 'productpage' } }],
      ['bookinfo', 'wasmesh-example-app-reviews', { labels: { app: 'reviews' } }],
    ]);
  });

  it('push: other live scopes of the filter in the namespace are reported and left as they are', async () => {
    const first = await runPush(base({ dryRun: 'client', namespace: 'untouched', selector: { app: 'productpage' } }));
    await applyManifests(new ClusterClient({ kubeconfig }), first.manifests, { dryRun: 'none', force: false });
    const second = await runPush(base({ dryRun: 'server', namespace: 'untouched', selector: { app: 'reviews' } }));
    expect(second.untouched).toEqual(['EnvoyFilter untouched/wasmesh-example-app-productpage (untouched/app=productpage)']);
    expect(second.manifests.map((m) => m.metadata.name)).toEqual(['wasmesh-example-app-reviews']);
    await new ClusterClient({ kubeconfig }).delete({ apiVersion: first.manifests[0]!.apiVersion, kind: 'EnvoyFilter', name: 'wasmesh-example-app-productpage', namespace: 'untouched' }, false);
  });

  it.each(['wasmplugin', 'envoyfilter'] as const)('push: header-router via %s with its "-routes" EnvoyFilter pushed twice passes the live-object check the second time', async (via) => {
    const { routes, routeTargets } = await routerRoutesFromIstio(path.join(repoRoot, 'test/fixtures/header-router/istio/bookinfo.yaml'));
    const router = (dryRun: 'client' | 'server') => base({
      wasm: new Uint8Array(readFileSync(builtFilter('header-router'))), filter: 'header-router', image: 'oci://127.0.0.1:1/wasmesh/header-router:v1',
      namespace: `router-${via}`, context: 'outbound', via, routes, routeTargets, pluginConfig: { virtualServices: [] }, dryRun,
    });
    const first = await runPush(router('client'));
    expect(first.manifests.map((m) => m.kind)).toEqual([via === 'wasmplugin' ? 'WasmPlugin' : 'EnvoyFilter', 'EnvoyFilter']);
    expect(first.manifests[1]!.metadata.name).toBe(`${first.manifests[0]!.metadata.name}-routes`);
    await applyManifests(new ClusterClient({ kubeconfig }), first.manifests, { dryRun: 'none', force: false });
    const second = await runPush(router('server'));
    expect(second.untouched).toEqual([]);
    expect(second.applied.map((a) => a.action)).toEqual(['would apply', 'would apply']);
    // The other via is still refused while this one (and its routes) are live.
    await expect(runPush(base({ ...router('server'), via: via === 'wasmplugin' ? 'envoyfilter' : 'wasmplugin' }))).rejects.toThrow(/already deployed .* as/);
    const client = new ClusterClient({ kubeconfig });
    for (const m of first.manifests) await client.delete({ apiVersion: m.apiVersion, kind: m.kind, name: m.metadata.name, namespace: m.metadata.namespace }, false);
  });

  it.each(['client', 'none'] as const)('push: a bad image reference fails at push, not inspect (dry run %s)', async (dryRun) => {
    const events: PushProgress[] = [];
    await expect(runPush(base({ image: 'oci://Registry/UPPER:v1', dryRun, onProgress: (e) => events.push(e) }))).rejects.toThrow(/^push failed at push: .*UPPER/);
    expect(events.filter((e) => e.state === 'done').map((e) => e.step)).toEqual(['inspect']);
  });

  it('push: an unreachable registry fails at push and leaves the cluster untouched', async () => {
    const before = apiServer.requests.length;
    const error = await runPush(base({ dryRun: 'none' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushStepError);
    expect((error as PushStepError).step).toBe('push');
    expect(apiServer.requests.length).toBe(before);
  });

  it('push: --dry-run=server renders and server-dry-runs against the API server without persisting', async () => {
    const result = await runPush(base({ dryRun: 'server', via: 'wasmplugin' }));
    expect(result.applied[0]!.action).toBe('would apply');
    expect(apiServer.objects()).toHaveLength(0);
  });

  describe.skipIf(!existsSync(REGISTRY_BINARY))('against a real registry', () => {
    let registry: RunningRegistry;
    beforeAll(async () => { registry = await startRegistry(); });
    afterAll(() => registry?.stop());

    it.each(['compat', 'oci'] as const)('push: %s image is pushed, pinned by its digest and applied; a second push records the previous digest', async (format) => {
      const image = `oci://${registry.host}/wasmesh/example-${format}:v1`;
      const first = await runPush(base({ image, format, dryRun: 'none', namespace: `push-${format}` }));
      expect(first.pushed).toBe(true);
      expect(first.image.url).toBe(`oci://${registry.host}/wasmesh/example-${format}@${first.image.manifestDigest}`);
      const dry = await runPush(base({ image, format, dryRun: 'client' }));
      expect(dry.image.manifestDigest).toBe(first.image.manifestDigest); // local digest == pushed digest

      const changed = new Uint8Array([...wasm(), 0x00, 0x05, 0x04, 0x6e, 0x6f, 0x74, 0x65]); // extra empty custom section "note"
      const second = await runPush(base({ wasm: changed, image, format, dryRun: 'none', namespace: `push-${format}` }));
      expect(second.image.manifestDigest).not.toBe(first.image.manifestDigest);
      const [status] = await filterStatus({ kubeconfig, namespace: `push-${format}` });
      expect(status).toMatchObject({ filter: 'example', digest: second.image.manifestDigest, previousDigest: first.image.manifestDigest });
      expect(Object.keys(second.timings)).toEqual(expect.arrayContaining(['inspect', 'push', 'render', 'validate', 'apply', 'total']));
    });

    it('push: a registry refusing our credentials fails at push with the auth error, and nothing is applied', async () => {
      const secured = await startRegistry({ htpasswd: [{ username: 'wasmesh', password: 'right-password' }] });
      try {
        const before = apiServer.objects().length;
        const error = await runPush(base({ image: `oci://${secured.host}/wasmesh/example:v1`, dryRun: 'none', namespace: 'auth', credentials: { username: 'wasmesh', password: 'wrong' } })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PushStepError);
        expect((error as PushStepError).step).toBe('push');
        expect((error as Error).message).toMatch(/401|auth|credential|unauthori[sz]ed/i);
        expect((error as Error).message).toContain('nothing was applied');
        expect(apiServer.objects().length).toBe(before);
      } finally {
        await secured.stop();
      }
    });

    it('push: switching via while the other kind is deployed is refused (the filter would run twice)', async () => {
      const image = `oci://${registry.host}/wasmesh/example-compat:v1`;
      await expect(runPush(base({ image, dryRun: 'none', namespace: 'push-compat', via: 'wasmplugin' }))).rejects.toThrow(/already deployed .* as EnvoyFilter/);
      expect(new ClusterClient({ kubeconfig })).toBeDefined();
    });
  });
});

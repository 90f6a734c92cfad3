import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import { appliesToWorkload, parseWorkloadLabels } from '../../deployer/src/sidecar/istio-chain.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import type { IstioResource } from '../../deployer/src/translate/index.js';
import { builtFilter, repoRoot } from '../setup/paths.js';
import { echoHandler, request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from './helpers.js';

const policies = path.join(repoRoot, 'test', 'fixtures', 'sidecar', 'istio');

const resource = (namespace: string | undefined, spec: Record<string, unknown>): IstioResource => ({
  apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace }, spec: spec as IstioResource['spec'],
});

describe('Istio workload selection for deployer run --istio', () => {
  it.each([
    { name: 'same namespace, matching selector', r: resource('shop', { selector: { matchLabels: { app: 'cart' } } }), applies: true },
    { name: 'same namespace, no selector', r: resource('shop', {}), applies: true },
    { name: 'root namespace (mesh-wide)', r: resource('istio-system', {}), applies: true },
    { name: 'no namespace (taken as the workload\'s)', r: resource(undefined, {}), applies: true },
    { name: 'other namespace', r: resource('billing', {}), applies: false },
    { name: 'selector for another workload', r: resource('shop', { selector: { matchLabels: { app: 'payments' } } }), applies: false },
    { name: 'selector needing a label the workload lacks', r: resource('shop', { selector: { matchLabels: { app: 'cart', tier: 'gold' } } }), applies: false },
    { name: 'targetRefs (gateways/waypoints only)', r: resource('shop', { targetRefs: [{ kind: 'Gateway', name: 'gw' }] }), applies: false },
  ])('$name → $applies', ({ r, applies }) => {
    expect(appliesToWorkload(r, 'shop', { app: 'cart', version: 'v1' }, 'istio-system')).toBe(applies);
  });

  it.each([
    ['app=cart,version=v1', { app: 'cart', version: 'v1' }],
    [' app = cart ', { 'app ': ' cart' }],
    ['', {}],
  ])('parses --workload-labels %j', (text, labels) => {
    expect(parseWorkloadLabels(text)).toEqual(labels);
  });

  it('refuses a label without =', () => {
    expect(() => parseWorkloadLabels('app=cart,broken')).toThrow('--workload-labels: "broken" is not key=value; expected e.g. app=cart,version=v1');
  });
});

describe('e2e: deployer run --istio builds the chain from AuthorizationPolicy resources', () => {
  let upstream: TestUpstream;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    upstream = await startUpstream(echoHandler('cart'));
    const config = await writeSidecarYaml({
      listen: '127.0.0.1:0', admin: '127.0.0.1:0',
      filters: [{ name: 'example', root_id: 'example', vm_config: { code: { local: { filename: builtFilter('example') } } } }],
      clusters: { app: upstream.url },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    });
    sidecar = await runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'error', istio: policies, namespace: 'shop', workloadLabels: 'app=cart,version=v1' });
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it('puts the translated rbac filter before the config\'s own filters', () => {
    expect(sidecar.config.filters.map((f) => f.name)).toEqual(['rbac', 'example']);
  });

  it.each([
    { path: '/admin/users', status: 403, why: 'denied by shop/deny-admin (selects app=cart)' },
    { path: '/products', status: 200, why: 'policies for app=payments and namespace billing do not apply' },
  ])('rbac: $path → $status ($why)', async ({ path: requestPath, status }) => {
    const res = await request1(`${sidecar.url}${requestPath}`);
    expect(res.status).toBe(status);
    expect(res.headers['x-wasmesh-example']).toBe('hello');
  });
});

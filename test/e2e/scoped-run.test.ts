/**
 * `deployer run` with one workload-scoped rbac config (what render/push ship for overlapping
 * scopes) decides per workload as istiod would: the sidecar's node metadata comes from
 * -n/--namespace and -l/--workload-labels, and the filter keeps the policies that apply there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { parseIstioResources } from '../../deployer/src/translate/index.js';
import { translateScoped } from '../../deployer/src/translate/scoped.js';
import { builtFilter, repoRoot } from '../setup/paths.js';
import { echoHandler, request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from './helpers.js';

const file = path.join(repoRoot, 'test', 'fixtures', 'istio-scope', 'namespace-and-selector-allow.yaml');

describe('e2e: deployer run with a workload-scoped rbac config and --namespace/-l', () => {
  let upstream: TestUpstream;
  const sidecars: Record<string, RunningSidecar> = {};

  beforeAll(async () => {
    upstream = await startUpstream(echoHandler('shop'));
    const resources = parseIstioResources(readFileSync(file, 'utf8'), file);
    const merged = translateScoped(resources, {}).translations.find((t) => t.merged !== undefined)!;
    expect(merged.scope).toEqual({ namespace: 'shop', selector: {} });
    const config = await writeSidecarYaml({
      listen: '127.0.0.1:0', admin: '127.0.0.1:0',
      filters: [{ name: 'rbac', root_id: 'rbac', vm_config: { code: { local: { filename: builtFilter('rbac') } } }, configuration: merged.config }],
      clusters: { app: upstream.url },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    });
    for (const [name, labels] of [['cart', 'app=cart'], ['orders', 'app=orders']] as const) {
      sidecars[name] = await runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'error', namespace: 'shop', selector: labels, metrics: false });
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(sidecars).map((s) => s.close()));
    await upstream?.close();
  });

  it.each([
    { workload: 'cart', method: 'POST', status: 200, why: 'shop/cart-allow-post applies to app=cart (ALLOW policies are OR\'ed)' },
    { workload: 'cart', method: 'GET', status: 200, why: 'shop/allow-get applies namespace-wide' },
    { workload: 'cart', method: 'PUT', status: 403, why: 'no ALLOW policy matches' },
    { workload: 'orders', method: 'GET', status: 200, why: 'shop/allow-get applies namespace-wide' },
    { workload: 'orders', method: 'POST', status: 403, why: 'shop/cart-allow-post does not apply to app=orders' },
  ])('rbac on shop/app=$workload: $method → $status ($why)', async ({ workload, method, status }) => {
    const res = await request1(`${sidecars[workload]!.url}/items`, { method });
    expect(res.status).toBe(status);
  });
});

/**
 * AuthorizationPolicy YAML → rbac config (deployer/src/translate/authorization-policy.ts),
 * with Istio's workload selection (namespace, selector, root namespace) as `deployer run
 * --istio` applies it, then enforced by the built filter.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { appliesToWorkload } from '../../../deployer/src/sidecar/istio-chain.js';
import { translateAuthorizationPolicies } from '../../../deployer/src/translate/authorization-policy.js';
import { configFromIstio, parseIstioResources, translateResources } from '../../../deployer/src/translate/index.js';
import { finish, fixtureDir, loadRbac, runRequest, type RequestSpec } from './harness.js';

const yamlFile = (name: string) => readFileSync(path.join(fixtureDir, 'istio', name), 'utf8');
const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';

describe('rbac: translate AuthorizationPolicy for workload app=httpbin in namespace foo', () => {
  const resources = parseIstioResources(yamlFile('mesh-policies.yaml'), 'mesh-policies.yaml');
  const selected = resources.filter((r) => appliesToWorkload(r, 'foo', { app: 'httpbin' }, 'istio-system'));
  const [translation] = translateResources(selected);
  let emulator: HostEmulator;
  beforeAll(async () => { emulator = await loadRbac(translation!.config); });
  afterAll(async () => { await emulator.close(); });

  it('rbac: translate selects root-namespace and matching-selector policies only', () => {
    expect(translation!.filter).toBe('rbac');
    expect(translation!.sources).toEqual(['istio-system/deny-blocked-ip', 'foo/httpbin-viewer', 'foo/dry-run-deny-status']);
    const policies = translation!.config['policies'] as Array<{ metadata: Record<string, unknown>; spec: Record<string, unknown> }>;
    expect(policies.map((p) => p.spec['selector'])).toEqual([undefined, undefined, undefined]);
    expect(policies[2]!.metadata['annotations']).toEqual({ 'istio.io/dry-run': 'true' });
  });

  it.each<[string, RequestSpec, number]>([
    ['sleep GET /headers → allowed', { principal: SLEEP, path: '/headers' }, 200],
    ['sleep GET /status/200 → allowed (dry-run DENY not enforced)', { principal: SLEEP, path: '/status/200' }, 200],
    ['sleep POST /headers → denied', { principal: SLEEP, method: 'POST', path: '/headers' }, 403],
    ['other SA → denied (the other workload\'s allow-all does not apply)', { principal: 'spiffe://cluster.local/ns/foo/sa/other', path: '/headers' }, 403],
    ['sleep from a blocked IP → denied by the root-namespace DENY', { principal: SLEEP, peer: '192.0.2.9:1234', path: '/headers' }, 403],
  ])('rbac: onRequestHeaders with translated policies: %s', (_name, request, status) => {
    const outcome = runRequest(emulator, request);
    expect(outcome.status).toBe(status);
    finish(emulator, outcome.id);
  });
});

describe('rbac: translate refuses what it cannot translate exactly', () => {
  it.each([
    ['CUSTOM without a mesh provider', 'custom-without-provider.yaml', 'CUSTOM provider "sample-ext-authz-http" is not defined'],
    ['serviceAccounts', 'service-accounts.yaml', 'source.serviceAccounts is not supported by the rbac filter'],
    ['a value outside the CRD enum', 'invalid-action.yaml', 'PERMIT'],
  ])('rbac: translate refuses %s', (_name, file, message) => {
    expect(() => configFromIstio(yamlFile(file), 'rbac', file)).toThrow(message);
  });

  it('rbac: translate keeps CUSTOM with the mesh ext_authz provider and mesh settings', async () => {
    const resources = parseIstioResources(yamlFile('custom-without-provider.yaml'));
    const config = translateAuthorizationPolicies(resources, {
      mesh: {
        pathNormalization: 'DECODE_AND_MERGE_SLASHES',
        numTrustedProxies: 1,
        extensionProviders: [{ name: 'sample-ext-authz-http', envoyExtAuthzHttp: { service: 'ext-authz.foo.svc.cluster.local', port: 8000 } }],
      },
    });
    expect(config).toMatchObject({ pathNormalization: 'DECODE_AND_MERGE_SLASHES', remoteIpTrustedHops: 1 });
    const emulator = await loadRbac(config);
    const outcome = runRequest(emulator, { path: '/headers' });
    expect(outcome.status).toBe(0); // paused: waiting for the authorizer
    expect(emulator.getHttpCalls().at(-1)?.cluster).toBe('outbound|8000||ext-authz.foo.svc.cluster.local');
    await emulator.close();
  });
});

/**
 * The shipped examples stay valid: filters/rbac/envoy.yaml's configuration and the istio/
 * WasmPlugin's pluginConfig are accepted by the built filter; the istio/ AuthorizationPolicies
 * pass the CRD schema, translate, and are accepted too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateIstioResource } from '../../../deployer/src/istio/validate.js';
import { nodeForWorkload } from '../../../deployer/src/push/scoped-check.js';
import { appliesToWorkload } from '../../../deployer/src/sidecar/istio-chain.js';
import { parseIstioResources, translateResources } from '../../../deployer/src/translate/index.js';
import { repoRoot } from '../../setup/paths.js';
import { finish, loadRbac, runRequest } from './harness.js';

const dir = path.join(repoRoot, 'filters', 'rbac');

interface EnvoyWasmFilter { typed_config: { config: { configuration: { value: string } } } }

describe('rbac: shipped examples', () => {
  it('rbac: onConfigure accepts the configuration in filters/rbac/envoy.yaml', async () => {
    const bootstrap = parse(readFileSync(path.join(dir, 'envoy.yaml'), 'utf8')) as {
      static_resources: { listeners: Array<{ filter_chains: Array<{ filters: Array<{ typed_config: { http_filters: Array<EnvoyWasmFilter & { name: string }> } }> }> }> };
    };
    const wasm = bootstrap.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.http_filters.find((f) => f.name === 'envoy.filters.http.wasm')!;
    const emulator = await loadRbac(wasm.typed_config.config.configuration.value);
    const outcome = runRequest(emulator, { principal: 'spiffe://cluster.local/ns/foo/sa/sleep', path: '/headers' });
    expect(outcome.status).toBe(200);
    finish(emulator, outcome.id);
    await emulator.close();
  });

  it('rbac: onConfigure accepts the pluginConfig of filters/rbac/istio/wasmplugin.yaml (a valid WasmPlugin)', async () => {
    const plugin = parse(readFileSync(path.join(dir, 'istio', 'wasmplugin.yaml'), 'utf8')) as { spec: { pluginConfig: unknown } };
    validateIstioResource(plugin);
    const emulator = await loadRbac(plugin.spec.pluginConfig);
    expect(runRequest(emulator, { principal: 'spiffe://cluster.local/ns/default/sa/sleep', path: '/info' }).status).toBe(200);
    await emulator.close();
  });

  it('rbac: the workload-scoped filters/rbac/istio/wasmplugin-mesh-wide.yaml (a valid WasmPlugin) decides per workload', async () => {
    const plugin = parse(readFileSync(path.join(dir, 'istio', 'wasmplugin-mesh-wide.yaml'), 'utf8')) as { spec: { pluginConfig: unknown } };
    validateIstioResource(plugin);
    const decide = async (namespace: string, labels: Record<string, string>, request: Parameters<typeof runRequest>[1]): Promise<number> => {
      const emulator = await loadRbac(plugin.spec.pluginConfig, { node: nodeForWorkload({ namespace, labels }) });
      const status = runRequest(emulator, request).status;
      await emulator.close();
      return status;
    };
    const sleep = { principal: 'spiffe://cluster.local/ns/default/sa/sleep', path: '/status/200' };
    expect(await decide('foo', { app: 'httpbin' }, sleep)).toBe(403);
    expect(await decide('foo', { app: 'sleep' }, sleep)).toBe(200);
    expect(await decide('bar', { app: 'httpbin' }, { ...sleep, peer: '192.0.2.9:4000' })).toBe(403);
  });

  it('rbac: translate turns filters/rbac/istio/authorization-policies.yaml into an accepted configuration', async () => {
    const text = readFileSync(path.join(dir, 'istio', 'authorization-policies.yaml'), 'utf8');
    expect(parseAllDocuments(text).length).toBe(5);
    const selected = parseIstioResources(text).filter((r) => appliesToWorkload(r, 'foo', { app: 'httpbin' }, 'istio-system'));
    const [translation] = translateResources(selected);
    const emulator = await loadRbac(translation!.config);
    expect(runRequest(emulator, { principal: 'spiffe://cluster.local/ns/default/sa/sleep', path: '/info/x' }).status).toBe(200);
    expect(runRequest(emulator, { principal: 'spiffe://cluster.local/ns/default/sa/sleep', path: '/admin' }).status).toBe(403);
    expect(runRequest(emulator, { principal: 'spiffe://cluster.local/ns/default/sa/sleep', path: '/status/200' }).status).toBe(403);
    await emulator.close();
  });
});

/**
 * header-router's route patches: EnvoyFilter HTTP_ROUTE INSERT_FIRST per destination, matching
 * the routing header, at SIDECAR_OUTBOUND or GATEWAY — validated against Istio's EnvoyFilter CRD
 * and Envoy's Route proto (renderFilter validates everything it returns).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFilter } from '../../deployer/src/render/index.js';
import { routerRoutesFromIstio } from '../../deployer/src/render/route-patches.js';
import { repoRoot } from '../setup/paths.js';
import { renderInput } from './support.js';

const bookinfo = path.join(repoRoot, 'test/fixtures/header-router/istio/bookinfo.yaml');

describe('render: header-router route patches', () => {
  it.each([['outbound', 'SIDECAR_OUTBOUND'], ['gateway', 'GATEWAY']] as const)('render: --context %s renders HTTP_ROUTE patches in %s', async (context, patchContext) => {
    const routes = await routerRoutesFromIstio(bookinfo);
    for (const via of ['envoyfilter', 'wasmplugin'] as const) {
      const manifests = renderFilter(renderInput('header-router', { context, via, routes, pluginConfig: { virtualServices: [] } }));
      expect(manifests.map((m) => m.kind)).toEqual([via === 'envoyfilter' ? 'EnvoyFilter' : 'WasmPlugin', 'EnvoyFilter']);
      const patches = manifests[1]!.spec['configPatches'] as { applyTo: string; match: { context: string }; patch: { operation: string; value: { name: string; match: { headers: { name: string; string_match: { exact: string } }[] }; route: { cluster: string } } } }[];
      expect(patches).toHaveLength(routes.length);
      for (const p of patches) {
        expect(p.applyTo).toBe('HTTP_ROUTE');
        expect(p.match.context).toBe(patchContext);
        expect(p.patch.operation).toBe('INSERT_FIRST');
        expect(p.patch.value.match.headers[0]!.name).toBe('x-wasmesh-route');
        expect(p.patch.value.match.headers[0]!.string_match.exact.startsWith(p.patch.value.route.cluster)).toBe(true);
      }
      expect(manifests[1]!.metadata.name).toMatch(/header-router-routes$/);
    }
  });

  it('render: refuses route patches at inbound (no route table chooses an upstream there)', async () => {
    const routes = await routerRoutesFromIstio(bookinfo);
    expect(() => renderFilter(renderInput('header-router', { context: 'inbound', routes }))).toThrow('expected --context outbound or gateway');
  });

  it('render: a route Envoy would refuse is caught by validation', () => {
    const routes = [{ name: 'bad', match: { prefix: '/' }, route: { cluster: 'c', timeoutt: '1s' } }];
    expect(() => renderFilter(renderInput('header-router', { context: 'outbound', routes }))).toThrow(/timeoutt/);
  });
});

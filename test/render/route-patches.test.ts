/**
 * header-router's route patches: EnvoyFilter HTTP_ROUTE INSERT_FIRST per destination, matching
 * the routing header, at SIDECAR_OUTBOUND or GATEWAY — validated against Istio's EnvoyFilter CRD
 * and Envoy's Route proto (renderFilter validates everything it returns).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFilter } from '../../deployer/src/render/index.js';
import { routerRoutesFromIstio } from '../../deployer/src/render/route-patches.js';
import { repoRoot } from '../setup/paths.js';
import { renderInput } from './support.js';

const bookinfo = path.join(repoRoot, 'test/fixtures/header-router/istio/bookinfo.yaml');
const targetsDir = path.join(repoRoot, 'test/fixtures/render/route-targets');
interface TargetCase { readonly file: string; readonly context: 'outbound' | 'gateway'; readonly scope: string; readonly patches: [string, unknown][] }
const targetCases = JSON.parse(readFileSync(path.join(targetsDir, 'cases.json'), 'utf8')) as TargetCase[];

describe('render: header-router route patches', () => {
  it.each([['outbound', 'SIDECAR_OUTBOUND'], ['gateway', 'GATEWAY']] as const)('render: --context %s renders HTTP_ROUTE patches in %s', async (context, patchContext) => {
    const { routes, routeTargets } = await routerRoutesFromIstio(bookinfo);
    for (const via of ['envoyfilter', 'wasmplugin'] as const) {
      const manifests = renderFilter(renderInput('header-router', { context, via, routes, routeTargets, pluginConfig: { virtualServices: [] } }));
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
      expect(manifests[1]!.metadata.name).toMatch(/^wasmesh-header-router(-[a-z0-9-]+)?-routes$/);
    }
  });

  it('render: refuses route patches at inbound (no route table chooses an upstream there)', async () => {
    const { routes } = await routerRoutesFromIstio(bookinfo);
    expect(() => renderFilter(renderInput('header-router', { context: 'inbound', routes }))).toThrow('expected --direction outbound or gateway');
  });

  it.each(targetCases)('render: $file at $context places each route in its VirtualService virtual hosts', async (c) => {
    const { routes, routeTargets } = await routerRoutesFromIstio(path.join(targetsDir, c.file));
    const [, patches] = renderFilter(renderInput('header-router', { context: c.context, routes, routeTargets, pluginConfig: { virtualServices: [] } }));
    expect(patches!.metadata.annotations['wasmesh.io/route-scope']).toBe(c.scope);
    const placed = (patches!.spec['configPatches'] as { match: { routeConfiguration: unknown }; patch: { value: { name: string } } }[]).map((p) => [p.patch.value.name, p.match.routeConfiguration]);
    expect(placed).toEqual(c.patches);
  });

  it('render: routes given without their VirtualServices go to every route configuration, and the object says so', () => {
    const routes = [{ name: 'r', match: { prefix: '/', headers: [{ name: 'x-wasmesh-route', string_match: { exact: 'c' } }] }, route: { cluster: 'c' } }];
    const [, patches] = renderFilter(renderInput('header-router', { context: 'outbound', routes }));
    expect(patches!.metadata.annotations['wasmesh.io/route-scope']).toBe('all route configurations: virtual hosts not computed (routes given without their VirtualServices)');
    expect((patches!.spec['configPatches'] as { match: unknown }[])[0]!.match).toEqual({ context: 'SIDECAR_OUTBOUND', routeConfiguration: {} });
  });

  it('render: a route Envoy would refuse is caught by validation', () => {
    const routes = [{ name: 'bad', match: { prefix: '/' }, route: { cluster: 'c', timeoutt: '1s' } }];
    expect(() => renderFilter(renderInput('header-router', { context: 'outbound', routes }))).toThrow(/timeoutt/);
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { manifestsToYaml, renderFilter } from '../../deployer/src/render/index.js';
import { placementFor, SUITE } from '../../deployer/src/suite.js';
import type { KubernetesManifest, ListenerContext, Via } from '../../deployer/src/render/types.js';
import { objectName } from '../../deployer/src/render/metadata.js';
import { renderInput } from './support.js';

const goldenDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'render', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Compares with test/fixtures/render/golden/<name>.yaml (UPDATE_GOLDEN=1 rewrites them). */
function expectGolden(name: string, manifests: readonly KubernetesManifest[]): void {
  const file = path.join(goldenDir, `${name}.yaml`);
  const actual = manifestsToYaml(manifests);
  if (UPDATE) writeFileSync(file, actual);
  if (!existsSync(file)) throw new Error(`golden file ${file} missing: run with UPDATE_GOLDEN=1 and review it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const combos: [Via, ListenerContext][] = (['envoyfilter', 'wasmplugin'] as const).flatMap((via) => (['inbound', 'outbound', 'gateway'] as const).map((context): [Via, ListenerContext] => [via, context]));

describe('render', () => {
  it.each(combos)('render: %s at %s matches its golden file', (via, context) => {
    expectGolden(`${via}-${context}`, renderFilter(renderInput('jwt-auth', { via, context })));
  });

  it.each(SUITE.map((s) => s.filter))('render: suite filter %s renders with its suite priority (both vias)', (filter) => {
    const ef = renderFilter(renderInput(filter, { via: 'envoyfilter' }))[0]!;
    const wp = renderFilter(renderInput(filter, { via: 'wasmplugin' }))[0]!;
    expectGolden(`suite-${filter}`, [ef, wp]);
    expect(ef.spec.priority).toBe(placementFor(filter).envoyFilterPriority);
    expect(wp.spec.phase).toBe(placementFor(filter).wasmPluginPhase);
  });

  it('render: EnvoyFilter priorities ascend in suite order, so INSERT_BEFORE router keeps jwt-auth → rbac → header-router → metrics', () => {
    // Istio applies EnvoyFilters by ascending priority; each insert lands right before the router.
    const pushedOrder = ['metrics', 'header-router', 'jwt-auth', 'rbac'];
    const applied = pushedOrder.map((f) => renderFilter(renderInput(f))[0]!)
      .sort((a, b) => (a.spec.priority as number) - (b.spec.priority as number));
    const chain: string[] = ['envoy.filters.http.router'];
    for (const ef of applied) chain.splice(chain.length - 1, 0, ef.metadata.labels['wasmesh.io/filter']!);
    expect(chain).toEqual(['jwt-auth', 'rbac', 'header-router', 'metrics', 'envoy.filters.http.router']);
  });

  it('render: WasmPlugin phases then descending priorities give the suite order', () => {
    const phaseRank = { AUTHN: 0, AUTHZ: 1, STATS: 2, UNSPECIFIED_PHASE: 3 } as const;
    const plugins = ['metrics', 'rbac', 'header-router', 'jwt-auth'].map((f) => renderFilter(renderInput(f, { via: 'wasmplugin' }))[0]!);
    const ordered = plugins.sort((a, b) => phaseRank[a.spec.phase as keyof typeof phaseRank] - phaseRank[b.spec.phase as keyof typeof phaseRank] || (b.spec.priority as number) - (a.spec.priority as number));
    expect(ordered.map((p) => p.spec.pluginName)).toEqual(['jwt-auth', 'rbac', 'header-router', 'metrics']);
  });

  it('render: the HTTP filter config_discovery names the EXTENSION_CONFIG resource it is served from', () => {
    const [ef] = renderFilter(renderInput('header-router', { failStrategy: 'open', imagePullPolicy: 'Always' }));
    interface PatchValue {
      readonly name: string;
      readonly config_discovery: { readonly type_urls: readonly string[] };
      readonly typed_config: { readonly '@type': string; readonly config: { readonly configuration: { readonly value: string } } };
    }
    const [extension, http] = ef!.spec.configPatches as unknown as { applyTo: string; patch: { operation: string; value: PatchValue } }[];
    expect([extension!.applyTo, extension!.patch.operation, http!.applyTo, http!.patch.operation]).toEqual(['EXTENSION_CONFIG', 'ADD', 'HTTP_FILTER', 'INSERT_BEFORE']);
    expect(http!.patch.value.name).toBe(extension!.patch.value.name);
    expect(http!.patch.value.config_discovery.type_urls).toEqual([extension!.patch.value.typed_config['@type']]);
    const config = extension!.patch.value.typed_config.config;
    expect(config).toMatchObject({ root_id: 'header-router', fail_open: true, vm_config: { environment_variables: { key_values: { ISTIO_META_WASM_IMAGE_PULL_POLICY: 'Always' } } } });
    expect(JSON.parse(config.configuration.value)).toEqual({ example: true });
  });

  it('render: is deterministic — rendering twice gives byte-identical output without apply-time annotations', () => {
    const first = manifestsToYaml(renderFilter(renderInput('rbac')));
    const second = manifestsToYaml(renderFilter(renderInput('rbac')));
    expect(second).toBe(first);
    expect(first).not.toMatch(/applied-at|wasmesh\.io\/history|previous-digest/);
  });

  it.each(['envoyfilter', 'wasmplugin'] as const)('render: a gateway scope (%s) binds targetRefs instead of a selector and passes the CRD schema', (via) => {
    const targetRefs = [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'bookinfo-gateway' }];
    const [m] = renderFilter(renderInput('rbac', { via, context: 'gateway', selector: {}, targetRefs }));
    expect(m!.spec.targetRefs).toEqual(targetRefs);
    expect(m!.spec.workloadSelector ?? m!.spec.selector).toBeUndefined();
    expect(m!.metadata.name).toBe('wasmesh-rbac-gateway-bookinfo-gateway');
  });

  it.each([
    [{}, undefined, 'wasmesh-rbac'],
    [{ app: 'productpage' }, undefined, 'wasmesh-rbac-app-productpage'],
    [{ version: 'v1', app: 'reviews' }, undefined, 'wasmesh-rbac-app-reviews-version-v1'],
    [{ 'app.kubernetes.io/name': 'Reviews' }, undefined, /^wasmesh-rbac-app-kubernetes-io-name-reviews-[a-f0-9]{8}$/],
    [{ app: 'x'.repeat(63) }, undefined, /^wasmesh-rbac-app-x+-[a-f0-9]{8}$/],
  ])('render: object name for selector %j is %s (one object per scope, ≤63 chars)', (selector, targetRefs, name) => {
    const actual = objectName('rbac', { selector, targetRefs });
    if (typeof name === 'string') expect(actual).toBe(name);
    else expect(actual).toMatch(name);
    expect(actual.length).toBeLessThanOrEqual(63);
  });

  it.each([
    [{ context: 'inbound' as ListenerContext, selector: {}, targetRefs: [{ kind: 'Gateway', name: 'gw' }] }, 'targetRefs with context "inbound"'],
    [{ context: 'gateway' as ListenerContext, selector: { app: 'x' }, targetRefs: [{ kind: 'Gateway', name: 'gw' }] }, 'selector {"app":"x"} and targetRefs both given'],
  ])('render: refuses targetRefs where Istio would not attach them: %o', (override, message) => {
    expect(() => renderFilter(renderInput('rbac', override))).toThrow(message);
  });

  it.each([
    [{ filter: 'Bad_Name' }, 'filter name "Bad_Name"'],
    [{ namespace: 'Shop' }, 'namespace "Shop"'],
    [{ context: 'sideways' as ListenerContext }, 'context "sideways"'],
    [{ via: 'envoyfilter' as Via, failStrategy: 'reload' as const }, 'fail strategy "reload" with --via envoyfilter'],
    [{ image: { url: 'oci://registry.example/wasmesh/x:latest', manifestDigest: `sha256:${'1'.repeat(64)}`, wasmSha256: 'a'.repeat(64) } }, 'pinned by manifest digest'],
    [{ filter: 'jwt-auth', priority: 5 }, 'suite filters have fixed priorities'],
    [{ via: 'envoyfilter' as Via, imagePullSecret: 'regcred' }, 'image pull secret "regcred" with --via envoyfilter'],
    [{ via: 'wasmplugin' as Via, imagePullSecret: 'Reg_Cred' }, 'image pull secret "Reg_Cred": expected the name of a Secret'],
  ])('render: rejects bad input %o naming the value', (override, message) => {
    expect(() => renderFilter(renderInput('jwt-auth', override))).toThrow(message);
  });

  it('render: WasmPlugin carries the image pull secret for private registries', () => {
    const [wp] = renderFilter(renderInput('rbac', { via: 'wasmplugin', imagePullSecret: 'regcred' }));
    expect(wp!.spec.imagePullSecret).toBe('regcred');
  });

  it('render: filter outside the suite goes after it (EnvoyFilter priority 100, UNSPECIFIED_PHASE)', () => {
    const [ef] = renderFilter(renderInput('example'));
    const [wp] = renderFilter(renderInput('example', { via: 'wasmplugin', failStrategy: 'reload' }));
    expect(ef!.spec.priority).toBe(100);
    expect(wp!.spec).toMatchObject({ phase: 'UNSPECIFIED_PHASE', failStrategy: 'FAIL_RELOAD' });
  });
});

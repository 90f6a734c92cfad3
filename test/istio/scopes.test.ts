import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { translatePolicyFile } from '../../deployer/src/cli/commands/translate.js';
import { describePlans, formatScope, planScopes, type ScopeRequest } from '../../deployer/src/istio/scopes.js';
import { selectForWorkload, skipReason } from '../../deployer/src/istio/selection.js';
import { parseIstioResources, type IstioResource } from '../../deployer/src/translate/index.js';
import { filterTargets } from '../../deployer/src/translate/scoped.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'istio-scope');
const load = (file: string) => parseIstioResources(readFileSync(path.join(fixtures, file), 'utf8'), file);

interface ScopeCase {
  readonly name: string;
  readonly file: string;
  readonly request: ScopeRequest;
  readonly filter?: string;
  readonly scopes?: readonly { readonly scope: string; readonly sources: readonly string[]; readonly merged?: readonly string[] }[];
  readonly summary?: string;
  readonly error?: string;
}
const cases = JSON.parse(readFileSync(path.join(fixtures, 'cases.json'), 'utf8')) as ScopeCase[];

describe('istio scopes: one object per scope, holding exactly the policies istiod applies there', () => {
  it.each(cases)('$name', (c) => {
    const all = load(c.file);
    const resources = c.filter === 'rbac' ? all.filter((r) => r.kind === 'AuthorizationPolicy') : all;
    if (c.error !== undefined) {
      expect(() => planScopes(resources, c.request)).toThrow(c.error);
      return;
    }
    const plans = planScopes(resources, c.request);
    expect(plans.plans.map((p) => ({
      scope: formatScope(p.scope), sources: p.selection.applied.map((r) => `${r.metadata.namespace}/${r.metadata.name}`),
      ...(p.merged ? { merged: p.merged.map(formatScope) } : {}),
    }))).toEqual(c.scopes);
    if (c.summary !== undefined) expect(describePlans(plans)).toBe(c.summary);
  });

  it('push/render --istio: the issue\'s mixed file for -n bookinfo -l app=productpage yields one rbac config without reviews-deny-all', () => {
    const { targets, note } = filterTargets(load('bookinfo-mixed.yaml'), 'rbac', { namespace: 'bookinfo', selector: { app: 'productpage' } }, 'bookinfo-mixed.yaml');
    expect(targets).toHaveLength(1);
    expect(targets[0]!.scope).toEqual({ namespace: 'bookinfo', selector: { app: 'productpage' } });
    const names = (targets[0]!.config.policies as { metadata: { name: string } }[]).map((p) => p.metadata.name);
    expect(names).toEqual(['productpage-viewer']);
    expect(note).toContain('3 resources read; 1 applies to bookinfo/app=productpage');
  });

  it('push/render --istio: resources of another filter are reported, not translated into this one', () => {
    const { note } = filterTargets(load('gateway-and-sidecar.yaml'), 'jwt-auth', { namespace: 'bookinfo' }, 'gateway-and-sidecar.yaml');
    expect(note).toContain('2 for other filters: configures rbac, not jwt-auth (AuthorizationPolicy bookinfo/gateway-deny-debug)');
  });

  it('push/render --istio: nothing applying is an error that says what was read and why each was left out', () => {
    expect(() => filterTargets(load('bookinfo-mixed.yaml'), 'rbac', { namespace: 'reviews-ns', selector: { app: 'reviews' } }, 'bookinfo-mixed.yaml'))
      .toThrow('bookinfo-mixed.yaml: 3 resources read; none applies; 3 skipped: namespace bookinfo (AuthorizationPolicy bookinfo/productpage-viewer); namespace other (AuthorizationPolicy other/reviews-deny-all); namespace bookinfo (AuthorizationPolicy bookinfo/details-viewer): nothing to deploy');
  });
});

describe('deployer translate: per scope, each config proven against its module', () => {
  it('translate -n bookinfo -l app=productpage: one rbac config for that scope, and what was left out', async () => {
    const notes: string[] = [];
    const result = await translatePolicyFile(path.join(fixtures, 'bookinfo-mixed.yaml'), { output: 'json', namespace: 'bookinfo', selector: 'app=productpage' }, (l) => notes.push(l));
    expect(result.map((t) => [t.filter, t.scope, t.sources])).toEqual([['rbac', { namespace: 'bookinfo', selector: { app: 'productpage' } }, ['bookinfo/productpage-viewer']]]);
    expect(notes).toEqual([expect.stringContaining('rbac: 3 resources read; 1 applies to bookinfo/app=productpage')]);
  });

  it('translate: without the built module it says so and how to proceed; --no-validate skips the proof', async () => {
    const file = path.join(fixtures, 'bookinfo-mixed.yaml');
    await expect(translatePolicyFile(file, { output: 'json', filtersDir: '/nonexistent' }))
      .rejects.toThrow('cannot prove the rbac config against its module: /nonexistent/rbac.wasm not found; expected the built filter (npm run build), --filters-dir, or --no-validate');
    expect(await translatePolicyFile(file, { output: 'json', filtersDir: '/nonexistent', validate: false })).toHaveLength(3);
  });
});

const policy = (namespace: string | undefined, spec: Record<string, unknown>, kind = 'AuthorizationPolicy'): IstioResource => ({
  apiVersion: 'security.istio.io/v1', kind, metadata: { name: 'p', namespace }, spec: spec as IstioResource['spec'],
});
const gatewayRef = (name: string, namespace?: string) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name, ...(namespace ? { namespace } : {}) });
const gw = { namespace: 'bookinfo', labels: { 'gateway.networking.k8s.io/gateway-name': 'bookinfo-gateway', app: 'gw' } };
const sidecar = { namespace: 'bookinfo', labels: { app: 'productpage', version: 'v1' } };

describe('istio selection (pilot/pkg/model policyattachment.go, authorization.go, authentication.go)', () => {
  it.each([
    { name: 'sidecar: same namespace, selector subset', r: policy('bookinfo', { selector: { matchLabels: { app: 'productpage' } } }), w: sidecar, reason: undefined },
    { name: 'sidecar: root namespace, no selector', r: policy('istio-system', {}), w: sidecar, reason: undefined },
    { name: 'sidecar: root namespace, other selector', r: policy('istio-system', { selector: { matchLabels: { app: 'ratings' } } }), w: sidecar, reason: 'selector app=ratings' },
    { name: 'sidecar: other namespace', r: policy('other', {}), w: sidecar, reason: 'namespace other' },
    { name: 'sidecar: targetRef (legacy single) ignored', r: policy('bookinfo', { targetRef: gatewayRef('bookinfo-gateway') }), w: sidecar, reason: 'targetRefs Gateway/bookinfo-gateway bind gateways and waypoints, not sidecars' },
    { name: 'sidecar: Service targetRefs (waypoints) ignored', r: policy('bookinfo', { targetRefs: [{ kind: 'Service', name: 'productpage' }] }), w: sidecar, reason: 'targetRefs Service/productpage bind gateways and waypoints, not sidecars' },
    { name: 'gateway: targetRefs naming it', r: policy('bookinfo', { targetRefs: [gatewayRef('bookinfo-gateway')] }), w: gw, reason: undefined },
    { name: 'gateway: targetRefs naming another gateway', r: policy('bookinfo', { targetRefs: [gatewayRef('other-gateway')] }), w: gw, reason: 'targetRefs Gateway/other-gateway do not name gateway bookinfo/bookinfo-gateway' },
    { name: 'gateway: targetRefs from the root namespace do not attach', r: policy('istio-system', { targetRefs: [gatewayRef('bookinfo-gateway')] }), w: gw, reason: 'targetRefs Gateway/bookinfo-gateway do not name gateway bookinfo/bookinfo-gateway' },
    { name: 'gateway: targetRefs with a classic networking.istio.io group do not attach', r: policy('bookinfo', { targetRefs: [{ group: 'networking.istio.io', kind: 'Gateway', name: 'bookinfo-gateway' }] }), w: gw, reason: 'targetRefs Gateway/bookinfo-gateway do not name gateway bookinfo/bookinfo-gateway' },
    { name: 'gateway: selector policy still applies (selector-based gateway policy on by default)', r: policy('bookinfo', { selector: { matchLabels: { app: 'gw' } } }), w: gw, reason: undefined },
    { name: 'VirtualService exported everywhere by default', r: policy('other', { hosts: ['x'] }, 'VirtualService'), w: sidecar, reason: undefined },
    { name: 'VirtualService exportTo "." stays in its namespace', r: policy('other', { hosts: ['x'], exportTo: ['.'] }, 'VirtualService'), w: sidecar, reason: 'not exported to namespace bookinfo (exportTo .)' },
  ])('$name', ({ r, w, reason }) => {
    expect(skipReason(r, w, 'istio-system')).toBe(reason);
  });

  it('selectForWorkload keeps file order and lists every skipped resource with its reason', () => {
    const s = selectForWorkload(load('bookinfo-mixed.yaml'), sidecar);
    expect(s.applied.map((r) => r.metadata.name)).toEqual(['productpage-viewer']);
    expect(s.skipped.map((k) => [k.resource.metadata.name, k.reason])).toEqual([['reviews-deny-all', 'namespace other'], ['details-viewer', 'selector app=details']]);
  });
});

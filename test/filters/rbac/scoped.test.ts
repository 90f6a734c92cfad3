/**
 * Workload-scoped rbac configs through the built module: one object rendered for overlapping
 * scopes (deployer/src/istio/scopes.ts) decides, on each workload's proxy, exactly as the
 * policies istiod applies to that workload would — checked against the per-workload config
 * `deployer run --istio` builds (selectForWorkload) and against the expected status.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../../deployer/src/host/api.js';
import { formatScope } from '../../../deployer/src/istio/scopes.js';
import { isSubset, selectForWorkload, type Labels } from '../../../deployer/src/istio/selection.js';
import { nodeForWorkload } from '../../../deployer/src/push/scoped-check.js';
import { parseIstioResources, translateResources } from '../../../deployer/src/translate/index.js';
import { translateScoped, type ScopedTranslation } from '../../../deployer/src/translate/scoped.js';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { repoRoot } from '../../setup/paths.js';
import { finish, loadRbac, runRequest, type RequestSpec } from './harness.js';

const scopeDir = path.join(repoRoot, 'test', 'fixtures', 'istio-scope');
const ROOT = 'istio-system';

interface WorkloadCase {
  readonly namespace: string;
  readonly labels: Labels;
  readonly requests: readonly (RequestSpec & { readonly status: number })[];
}
interface ScopedFixture { readonly title: string; readonly file: string; readonly workloads: readonly WorkloadCase[] }

const fixtures = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'workload-scoped', 'rbac-decisions.json'), 'utf8')) as ScopedFixture[];
const emulators: HostEmulator[] = [];
afterAll(async () => { await Promise.all(emulators.map((e) => e.close())); });

async function decide(config: unknown, node: NodeInfo | undefined, request: RequestSpec): Promise<number> {
  const emulator = await loadRbac(config, { logLevel: 'info', ...(node ? { node } : {}) });
  emulators.push(emulator);
  const outcome = runRequest(emulator, request);
  finish(emulator, outcome.id);
  return outcome.status;
}

/** The rendered object whose scope reaches the workload (at most one: rendered objects never overlap). */
function objectFor(translations: readonly ScopedTranslation[], w: WorkloadCase): ScopedTranslation | undefined {
  const reaching = translations.filter((t) => (t.scope.namespace === w.namespace || t.scope.namespace === ROOT) && isSubset(t.scope.selector, w.labels));
  expect(reaching.length, `objects reaching ${w.namespace}/${JSON.stringify(w.labels)}: ${reaching.map((t) => formatScope(t.scope)).join(', ')}`).toBeLessThanOrEqual(1);
  return reaching[0];
}

describe('rbac: workload-scoped configs decide per workload as istiod would', () => {
  describe.each(fixtures)('$title', (fixture) => {
    const resources = parseIstioResources(readFileSync(path.join(scopeDir, fixture.file), 'utf8'), fixture.file).filter((r) => r.kind === 'AuthorizationPolicy');
    const { translations } = translateScoped(resources, {});
    const cases = fixture.workloads.flatMap((w) => w.requests.map((r) => ({ w, r, name: `${w.namespace}/${Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(',')} ${r.method} ${r.path}${r.peer ? ` from ${r.peer}` : ''}${r.principal ? ` as ${r.principal}` : ''} → ${r.status}` })));

    it.each(cases)('rbac: onRequestHeaders $name', async ({ w, r }) => {
      const object = objectFor(translations, w);
      const merged = object === undefined ? 200 : await decide(object.config, nodeForWorkload(w), r);
      // The reference: the config `deployer run --istio -n <ns> -l <labels>` builds for this workload alone.
      const applied = selectForWorkload(resources, { namespace: w.namespace, labels: w.labels }, ROOT).applied;
      const reference = applied.length === 0 ? 200 : await decide(translateResources(applied)[0]!.config, undefined, r);
      expect({ merged, reference }).toEqual({ merged: r.status, reference: r.status });
    });
  });
});

describe('rbac: onConfigure with a workload-scoped config', () => {
  const config = {
    rootNamespace: ROOT,
    policies: [
      { metadata: { name: 'deny-admin', namespace: ROOT }, spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] } },
      { metadata: { name: 'reviews-deny-all', namespace: 'bookinfo' }, spec: { selector: { matchLabels: { app: 'reviews' } } } },
    ],
  };
  const node = (namespace: string, labels?: Labels): NodeInfo => ({ id: 'sidecar~10.0.0.2~x', cluster: 'x', metadata: { NAMESPACE: namespace, ...(labels ? { LABELS: labels } : {}) } });

  it('rbac: onConfigure keeps only the policies istiod applies here: the same config denies reviews and lets productpage through', async () => {
    expect(await decide(config, node('bookinfo', { app: 'reviews' }), { path: '/' })).toBe(403);
    expect(await decide(config, node('bookinfo', { app: 'productpage' }), { path: '/' })).toBe(200);
    expect(await decide(config, node('bookinfo', { app: 'productpage' }), { path: '/admin/x' })).toBe(403);
    // A namespace policy never leaves its namespace; root-namespace ones go everywhere.
    expect(await decide(config, node('other', { app: 'reviews' }), { path: '/' })).toBe(200);
    expect(await decide(config, node('other', { app: 'reviews' }), { path: '/admin/x' })).toBe(403);
  });

  it('rbac: onConfigure matches label keys with dots and slashes (app.kubernetes.io/name) and empty values', async () => {
    const dotted = {
      rootNamespace: ROOT,
      policies: [{ metadata: { name: 'deny-all', namespace: 'shop' }, spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'cart', tier: '' } } } }],
    };
    expect(await decide(dotted, node('shop', { 'app.kubernetes.io/name': 'cart', tier: '' }), { path: '/' })).toBe(403);
    expect(await decide(dotted, node('shop', { 'app.kubernetes.io/name': 'cart' }), { path: '/' })).toBe(200);
    expect(await decide(dotted, node('shop', { 'app.kubernetes.io/name': 'cart-v2', tier: '' }), { path: '/' })).toBe(200);
  });

  it('rbac: onConfigure logs how many policies apply to this workload', async () => {
    const emulator = await loadRbac(config, { logLevel: 'info', node: node('bookinfo', { app: 'productpage' }) });
    emulators.push(emulator);
    expect(emulator.getLogs('info').join('\n')).toContain('rbac: enforcing 1 policies (1 predicates); workload-scoped: 1 other policies do not apply to this workload in namespace bookinfo');
  });

  it.each([
    ['no node metadata', undefined],
    ['NAMESPACE without LABELS', node('bookinfo')],
  ])('rbac: onConfigure refuses a workload-scoped config with %s, and every request is denied (fail closed)', async (_name, n) => {
    await expect(loadRbac(config, { logLevel: 'info', ...(n ? { node: n } : {}) }))
      .rejects.toThrow("rbac: configuration refused: a workload-scoped configuration needs the proxy's identity: node metadata NAMESPACE and LABELS");
  });

  it.each([
    ['spec.selector without rootNamespace', { policies: [{ metadata: { name: 'p', namespace: 'ns' }, spec: { selector: { matchLabels: { app: 'x' } } } }] },
      'policy "ns/p": spec.selector: only in a workload-scoped configuration (set rootNamespace)'],
    ['no metadata.namespace in a scoped config', { rootNamespace: ROOT, policies: [{ metadata: { name: 'p' }, spec: {} }] },
      'policies[0]: metadata.namespace: required in a workload-scoped configuration'],
    ['a selector with matchExpressions', { rootNamespace: ROOT, policies: [{ metadata: { name: 'p', namespace: 'ns' }, spec: { selector: { matchExpressions: [] } } }] },
      'policy "ns/p": spec.selector.matchExpressions: unknown field, expected one of matchLabels'],
    ['a non-string label value', { rootNamespace: ROOT, policies: [{ metadata: { name: 'p', namespace: 'ns' }, spec: { selector: { matchLabels: { app: 1 } } } }] },
      'policy "ns/p": spec.selector.matchLabels: expected an object of label name to string value'],
    ['an empty rootNamespace', { rootNamespace: '', policies: [] }, 'rootNamespace: expected the mesh root namespace'],
    ['targetRefs', { rootNamespace: ROOT, policies: [{ metadata: { name: 'p', namespace: 'ns' }, spec: { targetRefs: [{ kind: 'Gateway', name: 'gw' }] } }] },
      'policy "ns/p": spec.targetRefs: binds gateways and waypoints, not sidecars'],
  ])('rbac: onConfigure refuses %s', async (_name, bad, message) => {
    await expect(loadRbac(bad, { logLevel: 'info', node: node('ns', { app: 'x' }) })).rejects.toThrow(message);
  });
});

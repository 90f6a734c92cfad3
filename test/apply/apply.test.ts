import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyManifests } from '../../deployer/src/apply/apply.js';
import { ClusterClient } from '../../deployer/src/apply/client.js';
import { rollbackFilter } from '../../deployer/src/apply/rollback.js';
import { filterStatus } from '../../deployer/src/apply/status.js';
import { undeployFilter } from '../../deployer/src/apply/undeploy.js';
import { toManifest } from '../../deployer/src/apply/live.js';
import { renderFilter } from '../../deployer/src/render/index.js';
import type { JsonObject } from '../../deployer/src/render/types.js';
import { shippedConfiguration } from '../../deployer/src/render/retarget.js';
import { renderInput } from '../render/support.js';
import { useStandinCluster } from './standin-cluster.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const at = (iso: string) => () => new Date(iso);
/** Namespace-wide objects (no selector): named wasmesh-<filter>. */
const input = (filter: string, overrides: Parameters<typeof renderInput>[1] = {}) => renderInput(filter, { selector: {}, ...overrides });
const imageFor = (filter: string, c: string) => ({ url: `oci://registry.example:5000/wasmesh/${filter}@${digest(c)}`, manifestDigest: digest(c), wasmSha256: c.repeat(64) });

const cluster = useStandinCluster();

describe('apply against the stand-in API server', () => {
  it('apply: creates with server-side apply as field manager wasmesh, then re-apply is unchanged', async () => {
    const manifests = renderFilter(input('jwt-auth', { image: imageFor('jwt-auth', 'a') }));
    const first = await applyManifests(cluster.client, manifests, { dryRun: 'none', force: false, now: at('2026-01-02T03:04:05.000Z') });
    expect(first).toEqual([expect.objectContaining({ kind: 'EnvoyFilter', name: 'wasmesh-jwt-auth', namespace: 'shop', action: 'created' })]);
    const patch = cluster.server.requests.find((r) => r.method === 'PATCH' && r.query.dryRun === undefined)!;
    expect(patch).toMatchObject({ contentType: 'application/apply-patch+yaml', query: { fieldManager: 'wasmesh' } });
    const again = await applyManifests(cluster.client, manifests, { dryRun: 'none', force: false, now: at('2026-02-01T00:00:00.000Z') });
    expect(again[0]!.action).toBe('unchanged'); // same image and config: history and applied-at stay
    expect(JSON.parse(again[0]!.manifest.metadata.annotations['wasmesh.io/history']!)).toHaveLength(1);
    const live = await cluster.client.get({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', name: 'wasmesh-jwt-auth', namespace: 'shop' });
    expect(live?.metadata?.managedFields?.map((m) => m.manager)).toEqual(['wasmesh']);
  });

  it('apply: --dry-run=server runs every stage on the server without persisting', async () => {
    const manifests = renderFilter(input('metrics', { image: imageFor('metrics', 'c') }));
    const result = await applyManifests(cluster.client, manifests, { dryRun: 'server', force: false });
    expect(result[0]!.action).toBe('would apply');
    expect(cluster.server.requests.some((r) => r.method === 'PATCH' && r.query.dryRun === 'All')).toBe(true);
    expect(await cluster.client.get({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', name: 'wasmesh-metrics', namespace: 'shop' })).toBeUndefined();
  });

  it('apply: --dry-run=client sends nothing', async () => {
    const before = cluster.server.requests.length;
    const result = await applyManifests(undefined, renderFilter(input('rbac')), { dryRun: 'client', force: false });
    expect(result[0]!.action).toBe('would apply');
    expect(cluster.server.requests.length).toBe(before);
  });

  it('apply: a field owned by another manager gives a clear 409 conflict; --force takes it over', async () => {
    const [manifest] = renderFilter(input('rbac', { image: imageFor('rbac', 'b') }));
    // Another team's applier owns spec.priority with a different value.
    const theirs = { apiVersion: manifest!.apiVersion, kind: manifest!.kind, metadata: { name: manifest!.metadata.name, namespace: 'shop' }, spec: { priority: 99 } };
    const res = await fetch(`${cluster.server.url}/apis/networking.istio.io/v1alpha3/namespaces/shop/envoyfilters/${manifest!.metadata.name}?fieldManager=platform-team`, {
      method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' }, body: JSON.stringify(theirs),
    });
    expect(res.status).toBe(201);
    await expect(applyManifests(cluster.client, [manifest!], { dryRun: 'none', force: false }))
      .rejects.toThrow(/conflict with "platform-team".*\.spec\.priority.*--force/s);
    const forced = await applyManifests(cluster.client, [manifest!], { dryRun: 'none', force: true, now: at('2026-01-02T03:04:05.000Z') });
    expect(forced[0]!.action).toBe('configured');
    const live = await cluster.client.get({ apiVersion: manifest!.apiVersion, kind: 'EnvoyFilter', name: manifest!.metadata.name, namespace: 'shop' });
    expect(live?.spec?.priority).toBe(20);
    expect(live?.metadata?.managedFields?.map((m) => m.manager)).toEqual(['wasmesh']);
  });

  it('apply: the server rejecting a schema-invalid object (422) surfaces its message', async () => {
    const [manifest] = renderFilter(input('header-router'));
    const broken = { ...manifest!, spec: { ...manifest!.spec, priority: 'high' } };
    await expect(applyManifests(cluster.client, [broken], { dryRun: 'none', force: false })).rejects.toThrow(/spec\.priority/);
  });

  it('status: lists what wasmesh applied with digest, context, order and last applied', async () => {
    const status = await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: 'shop' });
    expect(status.map((s) => [s.filter, s.digest, s.context, s.order])).toEqual([
      ['jwt-auth', digest('a'), 'inbound', 1],
      ['rbac', digest('b'), 'inbound', 2],
    ]);
    expect(status[0]!.lastApplied).toBe('2026-01-02T03:04:05.000Z');
  });

  it('rollback: returns a filter to the previous digest recorded in its history by apply', async () => {
    await applyManifests(cluster.client, renderFilter(input('jwt-auth', { image: imageFor('jwt-auth', 'd') })), { dryRun: 'none', force: false, now: at('2026-01-03T00:00:00.000Z') });
    expect((await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: 'shop' })).find((s) => s.filter === 'jwt-auth')).toMatchObject({ digest: digest('d'), previousDigest: digest('a') });

    const result = await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'jwt-auth', namespace: 'shop', dryRun: 'none', force: false, now: () => new Date('2026-01-04T00:00:00Z') });
    expect(result).toMatchObject({ from: digest('d'), to: { manifestDigest: digest('a') } });
    const live = await cluster.client.get({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', name: 'wasmesh-jwt-auth', namespace: 'shop' });
    const remote = JSON.stringify(live?.spec);
    expect(remote).toContain(`"sha256":"${'a'.repeat(64)}"`);
    expect(remote).toContain(`@${digest('a')}`);
    expect((await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: 'shop' })).find((s) => s.filter === 'jwt-auth')).toMatchObject({ digest: digest('a'), previousDigest: digest('d'), lastApplied: '2026-01-04T00:00:00.000Z' });
  });

  it('rollback: a filter with no earlier digest is refused with the reason', async () => {
    await expect(rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'rbac', namespace: 'shop', dryRun: 'none', force: false })).rejects.toThrow(/EnvoyFilter shop\/wasmesh-rbac has no earlier deployment recorded \(history: sha256:bbbb/);
    await expect(rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'nope', namespace: 'shop', dryRun: 'none', force: false })).rejects.toThrow(/not deployed by wasmesh/);
  });

  it('undeploy: deletes the filter objects and status no longer lists them', async () => {
    const removed = await undeployFilter({ kubeconfig: cluster.kubeconfig, filter: 'rbac', namespace: 'shop', dryRun: 'none' });
    expect(removed).toEqual([expect.objectContaining({ kind: 'EnvoyFilter', name: 'wasmesh-rbac' })]);
    expect((await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: 'shop' })).map((s) => s.filter)).toEqual(['jwt-auth']);
    await expect(undeployFilter({ kubeconfig: cluster.kubeconfig, filter: 'rbac', namespace: 'shop', dryRun: 'none' })).rejects.toThrow(/not deployed/);
  });

  it('apply: when a later object fails, the earlier ones are put back (nothing half-applied)', async () => {
    const ns = 'restore';
    const [a1] = renderFilter(input('jwt-auth', { namespace: ns, image: imageFor('jwt-auth', 'e') }));
    await applyManifests(cluster.client, [a1!], { dryRun: 'none', force: false });
    const [a2] = renderFilter(input('jwt-auth', { namespace: ns, image: imageFor('jwt-auth', 'f') }));
    const [b] = renderFilter(input('rbac', { namespace: ns, image: imageFor('rbac', 'f') }));
    cluster.server.failNext('PATCH', 500, 1, 3); // dry run A, dry run B, real A pass; real B fails
    await expect(applyManifests(cluster.client, [a2!, b!], { dryRun: 'none', force: false })).rejects.toThrow(/Apply EnvoyFilter restore\/wasmesh-rbac/);
    expect((await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: ns })).map((s) => [s.filter, s.digest])).toEqual([['jwt-auth', digest('e')]]);
  });

  it('rollback: works the same for a WasmPlugin', async () => {
    const ns = 'plugins';
    await applyManifests(cluster.client, renderFilter(input('metrics', { namespace: ns, via: 'wasmplugin', image: imageFor('metrics', '1') })), { dryRun: 'none', force: false });
    await applyManifests(cluster.client, renderFilter(input('metrics', { namespace: ns, via: 'wasmplugin', image: imageFor('metrics', '2') })), { dryRun: 'none', force: false });
    await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'metrics', namespace: ns, dryRun: 'none', force: false });
    const live = await cluster.client.get({ apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', name: 'wasmesh-metrics', namespace: ns });
    expect(live?.spec).toMatchObject({ url: imageFor('metrics', '1').url, sha256: '1'.repeat(64) });
  });

  it.each(['envoyfilter', 'wasmplugin'] as const)('rollback (%s): after a config-only change, rollback restores the previous configuration', async (via) => {
    const ns = `config-only-${via}`;
    const image = imageFor('rbac', '7');
    const v1 = { policies: [{ metadata: { name: 'allow-get', namespace: ns }, spec: { action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] } }] };
    const v2 = { policies: [] };
    await applyManifests(cluster.client, renderFilter(input('rbac', { namespace: ns, via, image, pluginConfig: v1 })), { dryRun: 'none', force: false, now: at('2026-03-01T00:00:00.000Z') });
    await applyManifests(cluster.client, renderFilter(input('rbac', { namespace: ns, via, image, pluginConfig: v2 })), { dryRun: 'none', force: false, now: at('2026-03-02T00:00:00.000Z') });
    const kind = via === 'wasmplugin' ? 'WasmPlugin' : 'EnvoyFilter';
    const apiVersion = via === 'wasmplugin' ? 'extensions.istio.io/v1alpha1' : 'networking.istio.io/v1alpha3';
    const shipped = async () => shippedConfiguration(toManifest((await cluster.client.get({ apiVersion, kind, name: 'wasmesh-rbac', namespace: ns }))!));
    expect(JSON.parse(await shipped())).toEqual(v2);

    const result = await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'rbac', namespace: ns, dryRun: 'none', force: false, now: at('2026-03-03T00:00:00.000Z') });
    expect(result.objects).toEqual([expect.objectContaining({ name: 'wasmesh-rbac', from: expect.objectContaining({ config: JSON.stringify(v2) }), to: expect.objectContaining({ config: JSON.stringify(v1) }) })]);
    expect(JSON.parse(await shipped())).toEqual(v1);
    // The rollback is itself recorded: rolling back again returns to v2.
    await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'rbac', namespace: ns, dryRun: 'none', force: false });
    expect(JSON.parse(await shipped())).toEqual(v2);
  });

  it('rollback: a filter deployed to two scopes rolls each object back to its own previous deployment', async () => {
    const ns = 'scopes';
    const deploy = async (app: string, c: string, config: JsonObject) => applyManifests(cluster.client, renderFilter(renderInput('rbac', { namespace: ns, selector: { app }, image: imageFor('rbac', c), pluginConfig: config })), { dryRun: 'none', force: false });
    await deploy('productpage', '3', { policies: [], v: 'pp1' });
    await deploy('reviews', '3', { policies: [], v: 'rv1' });
    await deploy('productpage', '4', { policies: [], v: 'pp2' });
    await deploy('reviews', '4', { policies: [], v: 'rv2' });
    const result = await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'rbac', namespace: ns, dryRun: 'none', force: false });
    expect(result.objects.map((o) => [o.name, JSON.parse(o.to.config!).v, o.to.manifestDigest])).toEqual([
      ['wasmesh-rbac-app-productpage', 'pp1', digest('3')],
      ['wasmesh-rbac-app-reviews', 'rv1', digest('3')],
    ]);
    // -l picks one scope: only productpage moves on rollback, only reviews goes on undeploy.
    const one = await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'rbac', namespace: ns, selector: { app: 'productpage' }, dryRun: 'none', force: false });
    expect(one.objects.map((o) => [o.name, JSON.parse(o.to.config!).v])).toEqual([['wasmesh-rbac-app-productpage', 'pp2']]);
    const removed = await undeployFilter({ kubeconfig: cluster.kubeconfig, filter: 'rbac', namespace: ns, selector: { app: 'reviews' }, dryRun: 'none' });
    expect(removed.map((r) => r.name)).toEqual(['wasmesh-rbac-app-reviews']);
    expect((await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: ns })).map((r) => [r.name, r.scope])).toEqual([['wasmesh-rbac-app-productpage', 'app=productpage']]);
    await expect(undeployFilter({ kubeconfig: cluster.kubeconfig, filter: 'rbac', namespace: ns, selector: { app: 'reviews' }, dryRun: 'none' })).rejects.toThrow('not deployed by wasmesh in namespace "scopes" with selector app=reviews');
  });

  it('apply: a damaged history annotation is an error naming it, not an empty history', async () => {
    const [m] = renderFilter(input('jwt-auth', { namespace: 'damaged', image: imageFor('jwt-auth', '5') }));
    // Someone hand-edited the annotation.
    const res = await fetch(`${cluster.server.url}/apis/networking.istio.io/v1alpha3/namespaces/damaged/envoyfilters/wasmesh-jwt-auth?fieldManager=wasmesh&force=true`, {
      method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' },
      body: JSON.stringify({ ...m!, metadata: { ...m!.metadata, annotations: { ...m!.metadata.annotations, 'wasmesh.io/history': '{not json' } } }),
    });
    expect(res.ok).toBe(true);
    await expect(applyManifests(cluster.client, [m!], { dryRun: 'none', force: false })).rejects.toThrow('annotation wasmesh.io/history is not JSON');
  });

  it('apply: an unreachable API server gives a clear error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-kube-'));
    const file = path.join(dir, 'config');
    writeFileSync(file, cluster.server.kubeconfigYaml().replace(cluster.server.url, 'http://127.0.0.1:1'));
    await expect(filterStatus({ kubeconfig: file })).rejects.toThrow(/cannot reach the Kubernetes API server|ECONNREFUSED/);
  });

  it.each([
    [{ context: 'prod' }, /kube context "prod" not found: expected one of standin/],
    [{ kubeconfig: '/nonexistent/kubeconfig' }, /kubeconfig "\/nonexistent\/kubeconfig" does not exist/],
  ])('kubeconfig: %o is refused naming what exists', (target, message) => {
    expect(() => new ClusterClient({ kubeconfig: cluster.kubeconfig, ...target })).toThrow(message);
  });

  it('apply: a 403 from the API server says which permission is missing', async () => {
    cluster.server.failNext('GET', 403, 1, 1); // discovery passes, the LIST is refused
    await expect(filterStatus({ kubeconfig: cluster.kubeconfig, namespace: 'shop' })).rejects.toThrow(/List EnvoyFilter in shop: .*403.*expected credentials allowed to list EnvoyFilter resources/);
  });
});

/**
 * header-router's "-routes" EnvoyFilter is part of its filter's deployment: `status` shows one
 * row with its parts, `rollback` moves both to the state they were live in together, `undeploy`
 * removes both. The timeline rules are table-driven from test/fixtures/apply/rollback-timelines.json;
 * the commands run against the stand-in API server (test/kube/README.md).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyManifests } from '../../deployer/src/apply/apply.js';
import type { Deployment, DeployedPart } from '../../deployer/src/apply/deployments.js';
import type { DeployedFilter } from '../../deployer/src/apply/live.js';
import { rollbackPoint } from '../../deployer/src/apply/rollback-plan.js';
import { rollbackFilter } from '../../deployer/src/apply/rollback.js';
import { describeParts, filterStatus } from '../../deployer/src/apply/status.js';
import { undeployFilter } from '../../deployer/src/apply/undeploy.js';
import { renderFilter } from '../../deployer/src/render/index.js';
import type { DeploymentRecord, JsonObject } from '../../deployer/src/render/types.js';
import { repoRoot } from '../setup/paths.js';
import { renderInput } from '../render/support.js';
import { useStandinCluster } from './standin-cluster.js';

const fixtures = path.join(repoRoot, 'test/fixtures/apply');
const routes = JSON.parse(readFileSync(path.join(fixtures, 'header-router-routes.json'), 'utf8')) as Record<'v1' | 'v2', JsonObject[]>;

type FixtureRecord = [day: number, digestChar: string, config: string];
interface TimelineCase {
  readonly name: string;
  readonly main: FixtureRecord[];
  readonly parts: FixtureRecord[][];
  readonly toDigest?: string;
  readonly expect?: { readonly main: FixtureRecord; readonly parts: (string | null)[] };
  readonly error?: string;
}
const timelines = JSON.parse(readFileSync(path.join(fixtures, 'rollback-timelines.json'), 'utf8')) as TimelineCase[];

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const day = (d: number) => `2026-01-${String(d).padStart(2, '0')}T00:00:00.000Z`;
const record = ([d, c, config]: FixtureRecord): DeploymentRecord => ({ url: `oci://r/h@${digest(c)}`, manifestDigest: digest(c), wasmSha256: c.repeat(64), config, appliedAt: day(d) });
const deployed = (name: string, history: DeploymentRecord[]): DeployedFilter => ({
  filter: 'header-router', kind: 'EnvoyFilter', name, namespace: 'shop', digest: history[0]?.manifestDigest ?? '', image: '', context: 'outbound', order: 3, appliedAt: history[0]?.appliedAt ?? '', history, object: {},
});

describe('rollback: the deployment timeline of a filter and its parts', () => {
  it.each(timelines)('$name', (c) => {
    const deployment: Deployment = {
      main: deployed('wasmesh-header-router', c.main.map(record)),
      parts: c.parts.map((h): DeployedPart => ({ ...deployed('wasmesh-header-router-routes', h.map(record)), part: 'routes' })),
    };
    const toDigest = c.toDigest === undefined ? undefined : digest(c.toDigest);
    if (c.error !== undefined) {
      expect(() => rollbackPoint(deployment, toDigest)).toThrow(new RegExp(c.error));
      return;
    }
    const { target } = rollbackPoint(deployment, toDigest);
    expect(target.main).toEqual(record(c.expect!.main));
    expect(target.parts.map((p) => p?.config ?? null)).toEqual(c.expect!.parts);
  });
});

const imageFor = (c: string) => ({ url: `oci://registry.example:5000/wasmesh/header-router@${digest(c)}`, manifestDigest: digest(c), wasmSha256: c.repeat(64) });
const at = (iso: string) => () => new Date(iso);

const cluster = useStandinCluster();

/** header-router pushed to `ns`: its filter object plus, when `routeSet` is given, its "-routes" EnvoyFilter. */
async function push(ns: string, image: string, config: string, routeSet: 'v1' | 'v2' | undefined, when: string, via: 'envoyfilter' | 'wasmplugin' = 'envoyfilter') {
  const manifests = renderFilter(renderInput('header-router', {
    namespace: ns, selector: {}, context: 'outbound', via, image: imageFor(image), pluginConfig: { virtualServices: [], v: config },
    ...(routeSet ? { routes: routes[routeSet] } : {}),
  }));
  return applyManifests(cluster.client, manifests, { dryRun: 'none', force: false, now: at(when) });
}

async function live(ns: string, via: 'envoyfilter' | 'wasmplugin' = 'envoyfilter') {
  const main = via === 'wasmplugin'
    ? await cluster.client.get({ apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', name: 'wasmesh-header-router', namespace: ns })
    : await cluster.client.get({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', name: 'wasmesh-header-router', namespace: ns });
  const routesObject = await cluster.client.get({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', name: 'wasmesh-header-router-routes', namespace: ns });
  const patches = routesObject?.spec?.configPatches as { patch: { value: JsonObject } }[] | undefined;
  return { digest: main?.metadata?.annotations?.['wasmesh.io/digest'], routes: patches?.map((p) => p.patch.value), routesDigest: routesObject?.metadata?.annotations?.['wasmesh.io/digest'] };
}

describe('status, rollback and undeploy treat header-router routes as part of the filter', () => {
  it.each(['envoyfilter', 'wasmplugin'] as const)('status (%s): one deployment listing its routes part', async (via) => {
    const ns = `status-${via}`;
    await push(ns, '1', 'c1', 'v1', day(1), via);
    const rows = await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: ns });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ filter: 'header-router', name: 'wasmesh-header-router', kind: via === 'wasmplugin' ? 'WasmPlugin' : 'EnvoyFilter', parts: [{ part: 'routes', kind: 'EnvoyFilter', name: 'wasmesh-header-router-routes', lastApplied: day(1) }] });
    expect(describeParts(rows[0]!)).toBe('routes');
  });

  it.each(['envoyfilter', 'wasmplugin'] as const)('rollback (%s): filter and routes go back together, and back again', async (via) => {
    const ns = `rollback-${via}`;
    await push(ns, '1', 'c1', 'v1', day(1), via);
    await push(ns, '2', 'c2', 'v2', day(2), via);
    expect(await live(ns, via)).toEqual({ digest: digest('2'), routes: routes.v2, routesDigest: digest('2') });
    const result = await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'header-router', namespace: ns, dryRun: 'none', force: false, now: at(day(3)) });
    expect(result.objects.map((o) => [o.name, o.part, o.to.manifestDigest])).toEqual([
      ['wasmesh-header-router', undefined, digest('1')],
      ['wasmesh-header-router-routes', 'routes', digest('1')],
    ]);
    expect(await live(ns, via)).toEqual({ digest: digest('1'), routes: routes.v1, routesDigest: digest('1') });
    await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'header-router', namespace: ns, dryRun: 'none', force: false, now: at(day(4)) });
    expect(await live(ns, via)).toEqual({ digest: digest('2'), routes: routes.v2, routesDigest: digest('2') });
  });

  it('rollback: a routes-only change (VirtualService edit) is rolled back on its own', async () => {
    const ns = 'routes-only';
    await push(ns, '1', 'c1', 'v1', day(1));
    await push(ns, '1', 'c1', 'v2', day(2));
    const result = await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'header-router', namespace: ns, dryRun: 'none', force: false, now: at(day(3)) });
    expect(result.applied.map((a) => [a.name, a.action])).toEqual([['wasmesh-header-router', 'unchanged'], ['wasmesh-header-router-routes', 'configured']]);
    expect(await live(ns)).toEqual({ digest: digest('1'), routes: routes.v1, routesDigest: digest('1') });
  });

  it('rollback: to a deployment from before the routes existed empties them, and rolling back again restores them', async () => {
    const ns = 'routes-later';
    await push(ns, '1', 'c1', undefined, day(1));
    await push(ns, '2', 'c2', 'v1', day(2));
    const result = await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'header-router', namespace: ns, dryRun: 'none', force: false, now: at(day(3)) });
    expect(result.objects[1]).toMatchObject({ part: 'routes', emptied: true });
    expect(await live(ns)).toEqual({ digest: digest('1'), routes: [], routesDigest: digest('1') });
    expect((await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: ns })).map(describeParts)).toEqual(['routes']);
    await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'header-router', namespace: ns, dryRun: 'none', force: false, now: at(day(4)) });
    expect(await live(ns)).toEqual({ digest: digest('2'), routes: routes.v1, routesDigest: digest('2') });
  });

  it('rollback --dry-run=client changes nothing and still plans the routes', async () => {
    const ns = 'dry';
    await push(ns, '1', 'c1', 'v1', day(1));
    await push(ns, '2', 'c2', 'v2', day(2));
    const result = await rollbackFilter({ kubeconfig: cluster.kubeconfig, filter: 'header-router', namespace: ns, dryRun: 'client', force: false });
    expect(result.manifests.map((m) => m.metadata.name)).toEqual(['wasmesh-header-router', 'wasmesh-header-router-routes']);
    expect(await live(ns)).toEqual({ digest: digest('2'), routes: routes.v2, routesDigest: digest('2') });
  });

  it('undeploy: removes the filter object and its routes', async () => {
    const ns = 'undeploy';
    await push(ns, '1', 'c1', 'v1', day(1));
    const removed = await undeployFilter({ kubeconfig: cluster.kubeconfig, filter: 'header-router', namespace: ns, dryRun: 'none' });
    expect(removed.map((r) => [r.name, r.part])).toEqual([['wasmesh-header-router-routes', 'routes'], ['wasmesh-header-router', undefined]]);
    expect(await live(ns)).toEqual({ digest: undefined, routes: undefined, routesDigest: undefined });
    expect(await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: ns })).toEqual([]);
  });

  it('status and undeploy: routes whose filter object is gone are shown as such and removed', async () => {
    const ns = 'orphan';
    await push(ns, '1', 'c1', 'v1', day(1));
    await cluster.client.delete({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', name: 'wasmesh-header-router', namespace: ns }, false);
    const rows = await filterStatus({ kubeconfig: cluster.kubeconfig, namespace: ns });
    expect(rows.map((r) => [r.name, describeParts(r)])).toEqual([['wasmesh-header-router-routes', 'routes (filter object missing)']]);
    const removed = await undeployFilter({ kubeconfig: cluster.kubeconfig, filter: 'header-router', namespace: ns, dryRun: 'none' });
    expect(removed.map((r) => r.name)).toEqual(['wasmesh-header-router-routes']);
  });
});

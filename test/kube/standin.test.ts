import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesSelector, startStandinApiServer, type StandinApiServer } from './standin-apiserver.js';

/** The stand-in's own semantics, so the deployer tests built on it mean something. */
let server: StandinApiServer;
beforeAll(async () => { server = await startStandinApiServer(); });
afterAll(() => server.close());

const base = '/apis/extensions.istio.io/v1alpha1/namespaces/shop/wasmplugins';
const plugin = (spec: Record<string, unknown>, labels: Record<string, string> = {}) => ({
  apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: { name: 'p', namespace: 'shop', labels }, spec,
});

async function apply(body: unknown, manager: string, extra = ''): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${base}/p?fieldManager=${manager}${extra}`, { method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() as Record<string, unknown> };
}

describe('stand-in API server', () => {
  it('standin: discovery lists the Istio groups and their resources', async () => {
    const groups = await (await fetch(`${server.url}/apis`)).json() as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(['networking.istio.io', 'extensions.istio.io']);
    const resources = await (await fetch(`${server.url}/apis/networking.istio.io/v1alpha3`)).json() as { resources: { name: string; namespaced: boolean }[] };
    expect(resources.resources).toEqual([expect.objectContaining({ name: 'envoyfilters', namespaced: true })]);
  });

  it('standin: apply creates (201), records managedFields, and fields the manager stops sending are removed', async () => {
    const created = await apply(plugin({ url: 'oci://r/x:1', priority: 5, pluginName: 'x' }), 'alice');
    expect(created.status).toBe(201);
    const meta = created.json.metadata as { managedFields: { manager: string; fieldsV1: Record<string, unknown> }[] };
    expect(meta.managedFields[0]).toMatchObject({ manager: 'alice', fieldsV1: { 'f:spec': { 'f:url': {}, 'f:priority': {}, 'f:pluginName': {} } } });
    const updated = await apply(plugin({ url: 'oci://r/x:1', pluginName: 'x' }), 'alice');
    expect(updated.status).toBe(200);
    expect(updated.json.spec).toEqual({ url: 'oci://r/x:1', pluginName: 'x' });
  });

  it('standin: a different value for a field another manager owns is a 409 naming manager and field; force moves ownership', async () => {
    const conflict = await apply(plugin({ url: 'oci://r/x:2' }), 'bob');
    expect(conflict.status).toBe(409);
    expect(conflict.json).toMatchObject({ reason: 'Conflict', details: { causes: [{ reason: 'FieldManagerConflict', field: '.spec.url' }] } });
    expect(conflict.json.message).toContain('conflict with "alice": .spec.url');
    const same = await apply(plugin({ url: 'oci://r/x:1' }), 'bob');
    expect(same.status).toBe(200); // the same value is shared ownership, not a conflict
    const forced = await apply(plugin({ url: 'oci://r/x:2' }), 'bob', '&force=true');
    expect(forced.status).toBe(200);
    const managers = (forced.json.metadata as { managedFields: { manager: string; fieldsV1: { 'f:spec': Record<string, unknown> } }[] }).managedFields;
    expect(managers.find((m) => m.manager === 'alice')!.fieldsV1['f:spec']).not.toHaveProperty('f:url');
  });

  it('standin: dryRun=All validates without persisting; schema violations are 422', async () => {
    const dry = await apply(plugin({ url: 'oci://r/x:2', priority: 7 }), 'bob', '&dryRun=All');
    expect(dry.status).toBe(200);
    const live = await (await fetch(`${server.url}${base}/p`)).json() as { spec: Record<string, unknown> };
    expect(live.spec.priority).toBeUndefined();
    const invalid = await apply(plugin({ url: 'oci://r/x:2', phase: 'NOPE' }), 'bob');
    expect(invalid.status).toBe(422);
    expect(invalid.json.message).toContain('spec.phase');
  });

  it('standin: LIST filters by label selector; DELETE removes; GET after is 404', async () => {
    await apply(plugin({ url: 'oci://r/x:2' }, { team: 'a' }), 'bob');
    const hit = await (await fetch(`${server.url}${base}?labelSelector=team%3Da`)).json() as { items: unknown[] };
    const miss = await (await fetch(`${server.url}${base}?labelSelector=team%3Db`)).json() as { items: unknown[] };
    expect([hit.items.length, miss.items.length]).toEqual([1, 0]);
    expect((await fetch(`${server.url}${base}/p`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${server.url}${base}/p`)).status).toBe(404);
  });

  it.each([
    [{ app: 'x', tier: 'web' }, 'app=x,tier=web', true],
    [{ app: 'x' }, 'app==x', true],
    [{ app: 'x' }, 'app!=x', false],
    [{ app: 'x' }, 'app', true],
    [{ app: 'x' }, '!app', false],
    [{}, 'app!=x', true],
  ])('standin: labels %o match selector "%s" → %s', (labels, selector, expected) => {
    expect(matchesSelector(labels, selector)).toBe(expected);
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../../deployer/src/control-plane/control-plane.js';
import { pushToControlPlane } from '../../deployer/src/control-plane/client/push.js';
import { AttachmentStore } from '../../deployer/src/control-plane/attachments.js';
import { StateDir } from '../../deployer/src/control-plane/state-dir.js';
import { controlPlaneStatus, statusTables } from '../../deployer/src/control-plane/client/status.js';
import { TypeUrl } from '../../deployer/src/control-plane/types.js';
import { adsClient, decodeAny, DeltaClient } from './ads-client.js';
import { eventually, startTestControlPlane, tempConfigDir, tempDir, TOKEN } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RBAC_WASM = readFileSync(path.join(ROOT, 'build/filters/rbac.wasm'));
const EXAMPLE_WASM = readFileSync(path.join(ROOT, 'build/filters/example.wasm'));
const node = (name: string, app: string) => ({ id: `sidecar~10.1.0.${name.length}~${name}.shop~shop.svc.cluster.local`, metadata: { NAMESPACE: 'shop', LABELS: { app } } });

/** A sidecar that subscribes to its inbound chain's ECDS names and ACKs (or NACKs) every response. */
function proxy(cp: RunningControlPlane, name: string, app: string, nack?: string): DeltaClient {
  const client = new DeltaClient(adsClient(cp.xdsAddress), node(name, app));
  client.onEach((response) => {
    if (nack && response.type_url === TypeUrl.extensionConfig && response.resources.length > 0) return client.nack(response, nack);
    client.ack(response);
    if (response.type_url !== TypeUrl.listener) return;
    const inbound = response.resources.find((r) => r.name === 'virtualInbound');
    if (!inbound) return;
    const listener = decodeAny<{ filter_chains: { filters: { typed_config: { type_url: string; value: Uint8Array } }[] }[] }>(inbound.resource);
    const hcm = decodeAny<{ http_filters: { name: string; config_discovery?: unknown }[] }>(listener.filter_chains[0]!.filters[0]!.typed_config);
    const names = hcm.http_filters.filter((f) => f.config_discovery).map((f) => f.name);
    client.send({ type_url: TypeUrl.extensionConfig, resource_names_subscribe: names });
  });
  client.send({ type_url: TypeUrl.listener });
  return client;
}

async function api(cp: RunningControlPlane, method: string, url: string, init: { token?: string | null; body?: BodyInit; headers?: Record<string, string> } = {}): Promise<Response> {
  const token = init.token === undefined ? TOKEN : init.token;
  return fetch(`http://${cp.httpAddress}${url}`, { method, body: init.body, headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...init.headers } });
}

describe('control-plane: admin API, module server, push and status clients', () => {
  let cp: RunningControlPlane;
  let config: ReturnType<typeof tempConfigDir>;
  let state: ReturnType<typeof tempDir>;
  const clients: DeltaClient[] = [];

  beforeAll(async () => {
    config = tempConfigDir();
    state = tempDir();
    ({ cp } = await startTestControlPlane({ configDir: config.dir, stateDir: state.dir }));
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await cp?.close();
    config?.cleanup();
    state?.cleanup();
  });

  it.each([
    ['no token', null, /missing token/],
    ['a wrong token', 'nope', /wrong token/],
    ['a token with one more character', `${TOKEN}x`, /wrong token/],
  ])('refuses calls with %s (401) and changes nothing', async (_label, token, message) => {
    const upload = await api(cp, 'POST', '/api/v1/modules', { token, body: EXAMPLE_WASM });
    expect(upload.status).toBe(401);
    expect(upload.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await upload.json()) as { error: string }).error).toMatch(message);
    expect((await api(cp, 'GET', '/api/v1/status', { token })).status).toBe(401);
    expect(cp.modules.list()).toEqual([]);
  });

  it('uploads modules by content; refuses what is not wasm', async () => {
    const bad = await api(cp, 'POST', '/api/v1/modules', { body: 'hello' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not a WebAssembly module/);
    const ok = await api(cp, 'POST', '/api/v1/modules', { body: EXAMPLE_WASM });
    expect(ok.status).toBe(201);
    const { sha256, size } = (await ok.json()) as { sha256: string; size: number };
    expect(size).toBe(EXAMPLE_WASM.length);
    expect(cp.modules.has(sha256)).toBe(true);
  });

  it('serves modules by sha256 with HEAD and byte ranges, and 404 for what it does not hold', async () => {
    const { sha256 } = cp.modules.put(EXAMPLE_WASM);
    const url = `/modules/sha256/${sha256}`;
    const head = await api(cp, 'HEAD', url, { token: null });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(EXAMPLE_WASM.length));
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    const range = await api(cp, 'GET', url, { token: null, headers: { range: 'bytes=4-11' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 4-11/${EXAMPLE_WASM.length}`);
    expect(Buffer.from(await range.arrayBuffer()).equals(EXAMPLE_WASM.subarray(4, 12))).toBe(true);
    const suffix = await api(cp, 'GET', url, { token: null, headers: { range: 'bytes=-4' } });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(EXAMPLE_WASM.subarray(-4))).toBe(true);
    expect((await api(cp, 'GET', url, { token: null, headers: { range: `bytes=${EXAMPLE_WASM.length}-` } })).status).toBe(416);
    expect((await api(cp, 'GET', `/modules/sha256/${'0'.repeat(64)}`, { token: null })).status).toBe(404);
  });

  it.each([
    [{ sha256: 'abc' }, /^sha256: "abc": expected 64 lower-case hex digits/],
    [{ sha256: 'a'.repeat(64) }, /no module a{64} on this control plane/],
    [{ sha256: 'a'.repeat(64), phase: 'LATE' }, /^phase: "LATE": expected one of AUTHN/],
    [{ sha256: 'a'.repeat(64), colour: 'blue' }, /^colour: unknown field/],
    [{ sha256: 'a'.repeat(64), match: [{ mode: 'SIDEWAYS' }] }, /^match\[0\]\.mode: SIDEWAYS: expected one of UNDEFINED, CLIENT, SERVER, CLIENT_AND_SERVER/],
    [{ sha256: 'a'.repeat(64), match: [{ mode: 'CLIENT', ports: [{ number: 0 }] }] }, /^match\[0\]\.ports\[0\]\.number: 0: expected a port number 1-65535/],
  ])('refuses attach %j with a message naming the field', async (body, message) => {
    const response = await api(cp, 'PUT', '/api/v1/attachments/shop/example', { body: JSON.stringify(body) });
    expect([400, 404]).toContain(response.status);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
    expect(cp.attachments.list()).toEqual([]);
  });

  it('push: refuses an unknown filter name before uploading anything', async () => {
    await expect(pushToControlPlane({ controlPlane: `http://${cp.httpAddress}`, token: TOKEN, wasm: EXAMPLE_WASM, filter: 'mystery', namespace: 'shop', selector: {}, failOpen: false }))
      .rejects.toThrow(/unknown filter "mystery": expected one of jwt-auth, rbac, header-router, metrics/);
  });

  it('push: waits until the targeted proxies ACK, reports each; untargeted ones are not waited for', async () => {
    clients.push(proxy(cp, 'cart-a', 'cart'), proxy(cp, 'cart-b', 'cart'), proxy(cp, 'other', 'reviews'));
    await eventually(() => cp.status.list().filter((s) => s.connected).length === 3, 5000, 'three proxies');
    const progress: string[] = [];
    const result = await pushToControlPlane({
      controlPlane: `http://${cp.httpAddress}`, token: TOKEN, wasm: RBAC_WASM, filter: 'rbac', namespace: 'shop', selector: { app: 'cart' },
      pluginConfig: { rules: [] }, failOpen: false, timeoutMs: 10_000, onProgress: (e) => progress.push(e.step),
    });
    expect(result.ok).toBe(true);
    expect(result.nodes.map((n) => [n.id.split('~')[2], n.state])).toEqual([['cart-a.shop', 'acked'], ['cart-b.shop', 'acked']]);
    expect(progress.slice(0, 2)).toEqual(['uploaded', 'attached']);
    const ecds = cp.status.list().find((s) => s.node.id.includes('cart-a'))!.resources[TypeUrl.extensionConfig]!;
    expect(Object.keys(ecds)).toEqual(['shop.rbac']);
    // --direction inbound (the default) is sent as WasmPlugin match mode SERVER, as render writes it.
    expect(cp.attachments.get('shop.rbac')!.current.traffic).toEqual([{ mode: 'SERVER', ports: [] }]);
  });

  it('push: a proxy that NACKs is reported with its error and the result is not ok; status shows the NACK', async () => {
    clients.push(proxy(cp, 'payments', 'payments', 'wasm: failed to load module'));
    await eventually(() => cp.status.list().some((s) => s.node.id.includes('payments') && s.connected), 5000, 'the proxy');
    const result = await pushToControlPlane({ controlPlane: `http://${cp.httpAddress}`, token: TOKEN, wasm: EXAMPLE_WASM, filter: 'example', priority: 5, namespace: 'shop', selector: { app: 'payments' }, failOpen: false, timeoutMs: 10_000 });
    expect(result.ok).toBe(false);
    expect(result.nodes).toEqual([expect.objectContaining({ state: 'nacked', error: 'wasm: failed to load module' })]);
    const status = await controlPlaneStatus(`http://${cp.httpAddress}`, TOKEN);
    const row = statusTables(status).nodes.find((r) => r[0]!.includes('payments'))!;
    expect(row.at(-1)).toMatch(/^ECDS [0-9a-f]{16}: wasm: failed to load module$/);
    expect(statusTables(status).attachments.map((r) => r[0])).toEqual(['shop.example', 'shop.rbac']);
  });

  it('rollback returns a filter to its previous module, and the proxies get it', async () => {
    const before = cp.attachments.get('shop.rbac')!.current.sha256;
    await pushToControlPlane({ controlPlane: `http://${cp.httpAddress}`, token: TOKEN, wasm: EXAMPLE_WASM, filter: 'rbac', namespace: 'shop', selector: { app: 'cart' }, failOpen: false, timeoutMs: 10_000 });
    expect(cp.attachments.get('shop.rbac')!.current.sha256).not.toBe(before);
    const response = await api(cp, 'POST', '/api/v1/attachments/shop/rbac/rollback');
    expect(response.status).toBe(200);
    expect(cp.attachments.get('shop.rbac')!.current.sha256).toBe(before);
    await eventually(async () => {
      const rollout = (await (await api(cp, 'GET', '/api/v1/attachments/shop/rbac/rollout')).json()) as { nodes: { state: string }[] };
      return rollout.nodes.length === 2 && rollout.nodes.every((n) => n.state === 'acked');
    }, 10_000, 'the rollback to be ACKed');
  });

  it('restart from the state directory loses nothing: same modules, attachments and versions', async () => {
    const snapshotBefore = cp.cache.snapshotFor({ id: 'x', cluster: '', generator: 'sidecar', namespace: 'shop', labels: { app: 'cart' }, dnsDomain: '' });
    const modulesBefore = cp.modules.list();
    const attachmentsBefore = cp.attachments.list();
    for (const c of clients.splice(0)) c.close();
    await cp.close();
    ({ cp } = await startTestControlPlane({ configDir: config.dir, stateDir: state.dir, httpAddress: cp.httpAddress }));
    expect(cp.modules.list()).toEqual(modulesBefore);
    expect(cp.attachments.list()).toEqual(attachmentsBefore);
    const after = cp.cache.snapshotFor({ id: 'x', cluster: '', generator: 'sidecar', namespace: 'shop', labels: { app: 'cart' }, dnsDomain: '' });
    expect(after.versions).toEqual(snapshotBefore.versions);
  });

  it('attachments saved before match was served keep running inbound only (SERVER)', () => {
    const legacy = tempDir();
    const saved = { name: 'shop.rbac', namespace: 'shop', selector: {}, phase: 'AUTHZ', priority: 0, rootId: 'rbac', sha256: 'a'.repeat(64), configuration: '', failOpen: false, origin: 'admin API' };
    writeFileSync(path.join(legacy.dir, 'attachments.json'), JSON.stringify({ attachments: [{ current: saved, history: [{ ...saved, sha256: 'b'.repeat(64) }], updatedAt: '2026-01-01T00:00:00.000Z' }] }));
    const store = new AttachmentStore(new StateDir(legacy.dir));
    const [entry] = store.list();
    expect([entry!.current.traffic, entry!.history[0]!.traffic]).toEqual([[{ mode: 'SERVER', ports: [] }], [{ mode: 'SERVER', ports: [] }]]);
    legacy.cleanup();
  });

  it('a corrupt attachments file stops the start instead of starting empty', async () => {
    const broken = tempDir();
    writeFileSync(path.join(broken.dir, 'attachments.json'), '{ not json');
    await expect(startTestControlPlane({ stateDir: broken.dir })).rejects.toThrow(/attachments\.json: not valid JSON.*refusing to start/);
    broken.cleanup();
  });
});

import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../../deployer/src/control-plane/control-plane.js';
import { attachmentFrom } from '../../deployer/src/control-plane/attachments.js';
import { TypeUrl } from '../../deployer/src/control-plane/types.js';
import { adsClient, decodeAny, DeltaClient, SotwClient } from './ads-client.js';
import { eventually, FIXTURES, startTestControlPlane, tempConfigDir, writeFile } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLE_WASM = path.join(ROOT, 'build/filters/example.wasm');
const CART = { id: 'sidecar~10.0.0.7~cart-1.shop~shop.svc.cluster.local', metadata: { NAMESPACE: 'shop', LABELS: { app: 'cart', version: 'v1' }, WORKLOAD_NAME: 'cart' } };

interface HttpFilterJson { name: string; config_discovery?: { type_urls: string[] } }

/** The wasm chain of virtualInbound: its HCM's http_filters. */
function inboundChain(listener: { filter_chains: { filters: { typed_config: { type_url: string; value: Uint8Array } }[] }[] }): HttpFilterJson[] {
  const hcm = decodeAny<{ http_filters: HttpFilterJson[] }>(listener.filter_chains[0]!.filters[0]!.typed_config);
  return hcm.http_filters;
}

describe('control-plane: ADS protocol with a raw client', () => {
  let cp: RunningControlPlane;
  let logs: string[];
  let config: ReturnType<typeof tempConfigDir>;
  let exampleSha: string;

  beforeAll(async () => {
    config = tempConfigDir();
    copyFileSync(path.join(FIXTURES, 'policies.yaml'), path.join(config.dir, 'policies.yaml'));
    ({ cp, logs } = await startTestControlPlane({ configDir: config.dir, filtersDir: path.join(ROOT, 'build/filters') }));
    exampleSha = cp.modules.put(readFileSync(EXAMPLE_WASM)).sha256;
  });

  afterAll(async () => {
    await cp?.close();
    config?.cleanup();
  });

  it('SotW: versions and nonces; an ACK gets nothing more; a stale nonce is ignored', async () => {
    const client = new SotwClient(adsClient(cp.xdsAddress), CART);
    client.send({ type_url: TypeUrl.listener });
    const first = await client.next();
    expect(first.nonce).toBe('1');
    expect(first.version_info).toMatch(/^[0-9a-f]{16}$/);
    expect(first.resources.map((r) => decodeAny<{ name: string }>(r).name).sort()).toEqual(['0.0.0.0_7070', '0.0.0.0_8080', 'virtualInbound', 'virtualOutbound']);
    client.ack(first);
    client.send({ type_url: TypeUrl.listener, response_nonce: 'stale-nonce', version_info: 'x' });
    await new Promise((r) => setTimeout(r, 200));
    expect(client.responses).toHaveLength(1);
    const status = cp.status.list().find((s) => s.node.id === CART.id)!;
    expect(status.acked[TypeUrl.listener]?.version).toBe(first.version_info);
    client.close();
  });

  it('ECDS: the inbound chain references translated policies in suite order, each a Wasm TypedExtensionConfig with remote http_uri + sha256', async () => {
    const client = new SotwClient(adsClient(cp.xdsAddress), CART);
    client.send({ type_url: TypeUrl.listener });
    const lds = await client.next();
    const inbound = lds.resources.map((r) => decodeAny<{ name: string }>(r)).find((l) => l.name === 'virtualInbound')!;
    const chain = inboundChain(inbound as never);
    expect(chain.map((f) => f.name)).toEqual(['wasmesh.jwt-auth', 'wasmesh.rbac', 'envoy.filters.http.router']);
    expect(chain[0]!.config_discovery?.type_urls).toEqual(['type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm']);
    client.send({ type_url: TypeUrl.extensionConfig, resource_names: ['wasmesh.jwt-auth', 'wasmesh.rbac'] });
    const ecds = await client.next((r) => r.type_url === TypeUrl.extensionConfig);
    const configs = ecds.resources.map((r) => decodeAny<{ name: string; typed_config: { type_url: string; value: Uint8Array } }>(r));
    expect(configs.map((c) => c.name)).toEqual(['wasmesh.jwt-auth', 'wasmesh.rbac']);
    const wasm = decodeAny<{ config: { root_id: string; vm_config: { code: { remote: { http_uri: { uri: string; cluster: string }; sha256: string } } } } }>(configs[1]!.typed_config);
    const remote = wasm.config.vm_config.code.remote;
    expect(wasm.config.root_id).toBe('rbac');
    expect(remote.http_uri.uri).toBe(`http://${cp.httpAddress}/modules/sha256/${remote.sha256}`);
    expect(remote.http_uri.cluster).toBe('wasmesh-control-plane');
    const module = await fetch(remote.http_uri.uri);
    expect(module.status).toBe(200);
    expect(Buffer.from(await module.arrayBuffer()).equals(readFileSync(path.join(ROOT, 'build/filters/rbac.wasm')))).toBe(true);
    client.close();
  });

  it('SotW NACK: recorded with error_detail, the node stays on its accepted version, nothing is re-sent; the next change is sent', async () => {
    const client = new SotwClient(adsClient(cp.xdsAddress), CART);
    client.send({ type_url: TypeUrl.extensionConfig, resource_names: ['shop.example'] });
    const empty = await client.next();
    expect(empty.resources).toHaveLength(0);
    client.ack(empty, ['shop.example']);
    await eventually(() => cp.status.list().find((s) => s.node.id === CART.id)?.acked[TypeUrl.extensionConfig]?.nonce === empty.nonce, 5000, 'the ACK');
    cp.attachments.attach(attachmentFrom({ namespace: 'shop', name: 'example', sha256: exampleSha, selector: { app: 'cart' }, pluginConfig: { a: 1 } }));
    await rebuild(cp);
    const update = await client.next((r) => r.resources.length === 1);
    client.nack(update, 'wasm: module failed to load', empty.version_info, ['shop.example']);
    await eventually(() => cp.status.list().find((s) => s.node.id === CART.id)?.lastNack[TypeUrl.extensionConfig], 5000, 'the NACK to be recorded');
    const status = cp.status.list().find((s) => s.node.id === CART.id)!;
    expect(status.lastNack[TypeUrl.extensionConfig]).toMatchObject({ version: update.version_info, error: 'wasm: module failed to load', nonce: update.nonce });
    expect(status.acked[TypeUrl.extensionConfig]?.version).toBe(empty.version_info);
    expect(logs.some((l) => l.includes('NACKed ECDS') && l.includes('wasm: module failed to load'))).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const count = client.responses.length;
    expect(count).toBe(2);
    cp.attachments.attach(attachmentFrom({ namespace: 'shop', name: 'example', sha256: exampleSha, selector: { app: 'cart' }, pluginConfig: { a: 2 } }));
    await rebuild(cp);
    const next = await client.next((r) => r.nonce !== update.nonce && r.resources.length === 1);
    expect(next.version_info).not.toBe(update.version_info);
    client.close();
    cp.attachments.detach('shop.example');
    await rebuild(cp);
  });

  it('delta: subscribe, per-resource versions, unsubscribe, removals and ACK per nonce', async () => {
    const client = new DeltaClient(adsClient(cp.xdsAddress), CART);
    client.send({ type_url: TypeUrl.cluster });
    const clusters = await client.next();
    const names = clusters.resources.map((r) => r.name);
    expect(names).toContain('outbound|8080|v2|cart.shop.svc.cluster.local');
    expect(names).toContain('outbound|7070||echo.shop.svc.cluster.local');
    expect(clusters.resources.every((r) => /^[0-9a-f]{16}$/.test(r.version))).toBe(true);
    client.ack(clusters);
    client.send({ type_url: TypeUrl.endpoint, resource_names_subscribe: ['outbound|7070||echo.shop.svc.cluster.local', 'outbound|1|v9|missing'] });
    const eds = await client.next((r) => r.type_url === TypeUrl.endpoint);
    expect(eds.resources.map((r) => r.name)).toEqual(['outbound|7070||echo.shop.svc.cluster.local']);
    expect(eds.removed_resources).toEqual(['outbound|1|v9|missing']);
    client.ack(eds);
    client.send({ type_url: TypeUrl.endpoint, resource_names_unsubscribe: ['outbound|7070||echo.shop.svc.cluster.local'] });
    // Removing the echo ServiceEntry: wildcard CDS hears of removals; the unsubscribed EDS name does not.
    const services = readFileSync(path.join(config.dir, 'services.yaml'), 'utf8');
    writeFile(config.dir, 'services.yaml', services.split('---')[1]!);
    const removal = await client.next((r) => r.type_url === TypeUrl.cluster && r.removed_resources.length > 0, 10_000);
    expect(removal.removed_resources).toEqual(['outbound|7070||echo.shop.svc.cluster.local']);
    expect(removal.resources).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(client.responses.filter((r) => r.type_url === TypeUrl.endpoint && r.nonce !== eds.nonce)).toEqual([]);
    client.ack(removal);
    await eventually(() => cp.status.list().find((s) => s.node.id === CART.id)?.resources[TypeUrl.cluster]?.['outbound|7070||echo.shop.svc.cluster.local'] === undefined, 5000, 'the removal to be ACKed');
    writeFile(config.dir, 'services.yaml', services);
    const back = await client.next((r) => r.type_url === TypeUrl.cluster && r.resources.some((x) => x.name === 'outbound|7070||echo.shop.svc.cluster.local'), 10_000);
    expect(back.removed_resources).toEqual([]);
    client.close();
  });

  it('delta: a reconnecting client that already holds the current versions gets nothing it has', async () => {
    const first = new DeltaClient(adsClient(cp.xdsAddress), CART);
    first.send({ type_url: TypeUrl.cluster });
    const all = await first.next();
    first.close();
    const again = new DeltaClient(adsClient(cp.xdsAddress), CART);
    again.send({ type_url: TypeUrl.cluster, initial_resource_versions: Object.fromEntries(all.resources.map((r) => [r.name, r.version])) });
    const reply = await again.next();
    expect(reply.resources).toEqual([]);
    expect(reply.removed_resources).toEqual([]);
    again.close();
  });

  it('a stream without a node id is refused with INVALID_ARGUMENT', async () => {
    const client = new SotwClient(adsClient(cp.xdsAddress), CART);
    client.send({ type_url: TypeUrl.listener, withNode: false });
    await eventually(() => client.ended, 5000, 'the stream to end');
    expect(String((client.ended as Error).message)).toMatch(/INVALID_ARGUMENT: .*no node id/);
  });
});

/** The admin API calls rebuild(); tests that edit attachments directly do the same through reloadConfig(). */
async function rebuild(cp: RunningControlPlane): Promise<void> {
  await cp.reloadConfig();
  await cp.settled();
}

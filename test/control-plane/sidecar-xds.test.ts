import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attachmentFrom } from '../../deployer/src/control-plane/attachments.js';
import type { RunningControlPlane } from '../../deployer/src/control-plane/control-plane.js';
import { TypeUrl } from '../../deployer/src/control-plane/types.js';
import type { SidecarConfig, WasmFilterConfig } from '../../deployer/src/sidecar/config/types.js';
import { ModuleFetcher } from '../../deployer/src/sidecar/xds/module-fetcher.js';
import { XdsSubscriber } from '../../deployer/src/sidecar/xds/xds-subscriber.js';
import { eventually, FIXTURES, startTestControlPlane, tempConfigDir, tempDir } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FILTERS = path.join(ROOT, 'build/filters');
const NODE = { id: 'sidecar~127.0.0.1~cart-1.shop~shop.svc.cluster.local', metadata: { NAMESPACE: 'shop', LABELS: { app: 'cart' }, WORKLOAD_NAME: 'cart' } };
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('sidecar xDS subscriber (ECDS filters for deployer run --xds)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  async function setup(options: { moduleBaseUrl?: string; apply?: (f: readonly WasmFilterConfig[]) => Promise<void> } = {}) {
    const config = tempConfigDir();
    copyFileSync(path.join(FIXTURES, 'policies.yaml'), path.join(config.dir, 'policies.yaml'));
    const cache = tempDir();
    let { cp } = await startTestControlPlane({ configDir: config.dir, filtersDir: FILTERS, moduleBaseUrl: options.moduleBaseUrl });
    const applied: (readonly WasmFilterConfig[])[] = [];
    const logs: string[] = [];
    const subscriber = new XdsSubscriber({
      address: cp.xdsAddress, node: NODE, fetcher: new ModuleFetcher({ cacheDir: cache.dir }), log: (l) => logs.push(l),
      apply: options.apply ?? (async (filters) => { applied.push(filters); }), backoff: { initialMs: 50, maxMs: 200 },
    });
    subscriber.start();
    cleanups.push(() => config.cleanup(), () => cache.cleanup(), () => cp.close(), () => subscriber.close());
    return { get cp() { return cp; }, set cp(v: RunningControlPlane) { cp = v; }, subscriber, applied, logs, config };
  }

  it('subscribes LDS then ECDS, fetches and verifies the modules, applies the chain in suite order and ACKs', async () => {
    const { cp, applied } = await setup();
    await eventually(() => applied.length === 1, 15_000, 'the first chain');
    expect(applied[0]!.map((f) => [f.name, f.rootId])).toEqual([['wasmesh.jwt-auth', 'jwt-auth'], ['wasmesh.rbac', 'rbac']]);
    expect(sha(applied[0]![1]!.wasmFile)).toBe(sha(path.join(FILTERS, 'rbac.wasm')));
    expect(JSON.parse(applied[0]![1]!.configuration)).toBeTypeOf('object');
    await eventually(() => cp.status.list()[0]?.acked[TypeUrl.extensionConfig], 5000, 'the ECDS ACK');
  });

  it('a pushed filter reaches it as an ECDS update: the new chain has it in place', async () => {
    const ctx = await setup();
    await eventually(() => ctx.applied.length === 1, 15_000, 'the first chain');
    const { sha256 } = ctx.cp.modules.put(readFileSync(path.join(FILTERS, 'example.wasm')));
    ctx.cp.attachments.attach(attachmentFrom({ namespace: 'shop', name: 'example', sha256, selector: { app: 'cart' }, phase: 'STATS', pluginConfig: { v: 1 } }));
    await ctx.cp.reloadConfig();
    await eventually(() => ctx.applied.length === 2, 10_000, 'the new chain');
    expect(ctx.applied[1]!.map((f) => f.name)).toEqual(['wasmesh.jwt-auth', 'wasmesh.rbac', 'shop.example']);
    expect(ctx.subscriber.running.map((f) => f.name)).toEqual(['wasmesh.jwt-auth', 'wasmesh.rbac', 'shop.example']);
  });

  it('a module whose sha256 does not match is NACKed and the running filters stay', async () => {
    let tamper = false;
    const real = new Map<string, Buffer>();
    // A module server in front of the real store that can serve the wrong bytes.
    const server: Server = createServer((request, response) => {
      const hex = /([0-9a-f]{64})$/.exec(request.url ?? '')?.[1] ?? '';
      const body = tamper ? Buffer.from('\0asm\x01\0\0\0tampered') : real.get(hex);
      if (!body) return response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/wasm' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const name of ['jwt-auth', 'rbac', 'example']) real.set(sha(path.join(FILTERS, `${name}.wasm`)), readFileSync(path.join(FILTERS, `${name}.wasm`)));
    const ctx = await setup({ moduleBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    await eventually(() => ctx.applied.length === 1, 15_000, 'the first chain');
    tamper = true;
    const { sha256 } = ctx.cp.modules.put(readFileSync(path.join(FILTERS, 'example.wasm')));
    ctx.cp.attachments.attach(attachmentFrom({ namespace: 'shop', name: 'example', sha256, selector: { app: 'cart' } }));
    await ctx.cp.reloadConfig();
    const nack = await eventually(() => ctx.cp.status.list()[0]?.lastNack[TypeUrl.extensionConfig], 10_000, 'the NACK');
    expect(nack.error).toMatch(new RegExp(`has sha256 [0-9a-f]{64}, expected ${sha256}: refused`));
    expect(ctx.applied).toHaveLength(1);
    expect(ctx.subscriber.running.map((f) => f.name)).toEqual(['wasmesh.jwt-auth', 'wasmesh.rbac']);
  });

  it('a chain the sidecar refuses is NACKed with its reason', async () => {
    const ctx = await setup({ apply: async () => { throw new Error('on_configure returned false for rbac'); } });
    const nack = await eventually(() => ctx.cp.status.list()[0]?.lastNack[TypeUrl.extensionConfig], 15_000, 'the NACK');
    expect(nack.error).toBe('on_configure returned false for rbac');
  });

  it('keeps its filters while the control plane is away and resubscribes with backoff when it returns', async () => {
    const ctx = await setup();
    await eventually(() => ctx.applied.length === 1, 15_000, 'the first chain');
    const address = ctx.cp.xdsAddress;
    await ctx.cp.close();
    await eventually(() => ctx.logs.some((l) => /retrying in \d+ ms/.test(l)), 5000, 'a backoff');
    expect(ctx.subscriber.running).toHaveLength(2);
    ({ cp: ctx.cp } = await startTestControlPlane({ configDir: ctx.config.dir, filtersDir: FILTERS, xdsAddress: address }));
    await eventually(() => ctx.cp.status.list().some((s) => s.connected), 15_000, 'the resubscription');
    await new Promise((r) => setTimeout(r, 300));
    // Same configuration, same versions: nothing new to apply.
    expect(ctx.applied).toHaveLength(1);
    expect(ctx.cp.status.list()[0]!.lastNack).toEqual({});
  });

  it('topology mode (no sidecar.yaml): applies whole configurations — listener, routes, clusters and the chain', async () => {
    const config = tempConfigDir();
    copyFileSync(path.join(FIXTURES, 'policies.yaml'), path.join(config.dir, 'policies.yaml'));
    const cache = tempDir();
    const { cp } = await startTestControlPlane({ configDir: config.dir, filtersDir: FILTERS });
    const applied: SidecarConfig[] = [];
    const subscriber = new XdsSubscriber({
      address: cp.xdsAddress, node: NODE, fetcher: new ModuleFetcher({ cacheDir: cache.dir }),
      apply: async () => { throw new Error('not used in topology mode'); },
      topology: { admin: { host: '127.0.0.1', port: 0 }, apply: async (c) => { applied.push(c); } },
    });
    subscriber.start();
    cleanups.push(() => config.cleanup(), () => cache.cleanup(), () => cp.close(), () => subscriber.close());
    const last = await eventually(() => applied.find((c) => c.filters.length === 2), 15_000, 'a whole configuration');
    expect(last.listen).toEqual({ host: '0.0.0.0', port: 15006 });
    expect(last.routes.map((r) => r.cluster)).toEqual(['inbound|9080||']);
    expect(last.clusters.get('inbound|9080||')?.url.href).toBe('http://127.0.0.1:9080/');
    expect(last.filters.map((f) => f.name)).toEqual(['wasmesh.jwt-auth', 'wasmesh.rbac']);
    expect(cp.status.list()[0]!.lastNack).toEqual({});
  });
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runSidecarCommand, type RunningSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import { TypeUrl } from '../../deployer/src/control-plane/types.js';
import { eventually, FIXTURES, startTestControlPlane, tempDir } from './harness.js';
import { EXAMPLE_WASM, ROOT, VERSION_HEADER, writeSidecarYaml } from './run-xds-scenario.js';

/** A loopback app answering with its own name. */
async function startApp(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(name)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

/** A loopback port nothing listens on (yet): where the control plane will be. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The topology fixture with the app's port and the example module filled in. */
function writeMesh(dir: string, appPort: number): void {
  const text = readFileSync(path.join(FIXTURES, 'topology', 'mesh.yaml'), 'utf8').replaceAll('{{APP_PORT}}', String(appPort)).replaceAll('{{EXAMPLE_WASM}}', EXAMPLE_WASM);
  writeFileSync(path.join(dir, 'mesh.yaml'), text);
}

describe('deployer run --xds', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  const notes: string[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    notes.length = 0;
    vi.restoreAllMocks();
  });
  const captureNotes = () => {
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.startsWith('deployer run: ')) { notes.push(text.trim()); return true; }
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write);
  };
  const identity = { namespace: 'shop', selector: 'app=cart', workloadName: 'cart-1', logLevel: 'warn', watch: false } as const;

  it('alone, takes listener, routes, clusters, endpoints and filters from the control plane and serves a real app; a WorkloadEntry edit moves the traffic', async () => {
    const work = tempDir();
    const [a, b] = [await startApp('app-a'), await startApp('app-b')];
    writeMesh(work.dir, a.port);
    const { cp } = await startTestControlPlane({ configDir: work.dir, filtersDir: path.join(ROOT, 'build/filters') });
    cleanups.push(() => work.cleanup(), () => a.close(), () => b.close(), () => cp.close());
    const sidecar: RunningSidecarCommand = await runSidecarCommand({
      ...identity, xds: cp.xdsAddress, adminAddress: '127.0.0.1:0', inboundAddress: '127.0.0.1:0',
      accessLog: path.join(work.dir, 'access.log'), xdsCacheDir: path.join(work.dir, 'modules'),
    });
    cleanups.push(() => sidecar.close());
    const first = await fetch(sidecar.url);
    expect(await first.text()).toBe('app-a');
    expect(first.headers.get(VERSION_HEADER)).toBe('from-wasmplugin');
    expect(sidecar.config.filters.map((f) => f.name)).toEqual(['shop.example']);
    const node = await eventually(() => {
      const status = cp.status.list().find((s) => s.node.id.includes('cart-1.shop'));
      return status && [TypeUrl.listener, TypeUrl.cluster, TypeUrl.endpoint, TypeUrl.extensionConfig].every((t) => status.acked[t]) ? status : undefined;
    }, 10_000, 'LDS, CDS, EDS and ECDS ACKed');
    expect(Object.keys(node.resources[TypeUrl.cluster] ?? {})).toContain(`inbound|${a.port}||`);

    // The WorkloadEntry now maps the service port to app B: the inbound cluster moves with it.
    writeMesh(work.dir, b.port);
    expect(await cp.reloadConfig()).toBe(true);
    await eventually(async () => (await (await fetch(sidecar.url)).text()) === 'app-b', 10_000, 'traffic on app B');
    const moved = await fetch(sidecar.url);
    expect(moved.headers.get(VERSION_HEADER)).toBe('from-wasmplugin');
  }, 60_000);

  it('with --config and the control plane unreachable: retries with backoff, serves Envoy\'s missing-config 500 after the initial fetch timeout, then the filters once it is up', async () => {
    captureNotes();
    const work = tempDir();
    const app = await startApp('app');
    const xds = `127.0.0.1:${await freePort()}`;
    cleanups.push(() => work.cleanup(), () => app.close());
    const started = Date.now();
    const sidecar = await runSidecarCommand({
      ...identity, config: writeSidecarYaml(work.dir, app.port), xds, xdsInitialFetchTimeout: '300ms',
      accessLog: path.join(work.dir, 'access.log'), xdsCacheDir: path.join(work.dir, 'modules'),
    });
    cleanups.push(() => sidecar.close());
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(notes.some((n) => new RegExp(`control plane ${xds} unavailable.*nothing received yet, retrying in \\d+ ms`).test(n))).toBe(true);
    expect(notes.some((n) => /within 300 ms \(initial fetch timeout\): serving the listeners of the config file, every request answered 500/.test(n))).toBe(true);
    const refused = await fetch(sidecar.url);
    expect(refused.status).toBe(500);
    expect(await refused.text()).toBe('');
    await eventually(() => / 500 NFCF /.test(readFileSync(path.join(work.dir, 'access.log'), 'utf8')), 5000, 'the NFCF access log line');

    const meshDir = path.join(work.dir, 'mesh');
    mkdirSync(meshDir);
    writeMesh(meshDir, app.port);
    const { cp } = await startTestControlPlane({ xdsAddress: xds, configDir: meshDir, filtersDir: path.join(ROOT, 'build/filters') });
    cleanups.push(() => cp.close());
    const served = await eventually(async () => { const r = await fetch(sidecar.url); return r.status === 200 ? r : undefined; }, 20_000, 'the filters from the control plane');
    expect(served.headers.get(VERSION_HEADER)).toBe('from-wasmplugin');
    expect(await served.text()).toBe('app');
  }, 60_000);

  it('alone with the control plane unreachable: no listener after the initial fetch timeout; it comes up when LDS arrives', async () => {
    captureNotes();
    const work = tempDir();
    const app = await startApp('app');
    const xds = `127.0.0.1:${await freePort()}`;
    cleanups.push(() => work.cleanup(), () => app.close());
    let sidecar: RunningSidecarCommand | undefined;
    const starting = runSidecarCommand({
      ...identity, xds, adminAddress: '127.0.0.1:0', inboundAddress: '127.0.0.1:0', xdsInitialFetchTimeout: '200ms',
      accessLog: path.join(work.dir, 'access.log'), xdsCacheDir: path.join(work.dir, 'modules'),
    }).then((s) => { sidecar = s; return s; });
    cleanups.push(async () => { await sidecar?.close(); });
    await eventually(() => notes.some((n) => /within 200 ms \(initial fetch timeout\): no listeners until LDS arrives; still subscribing/.test(n)), 5000, 'the timeout note');
    expect(sidecar).toBeUndefined();

    writeMesh(work.dir, app.port);
    const { cp } = await startTestControlPlane({ xdsAddress: xds, configDir: work.dir, filtersDir: path.join(ROOT, 'build/filters') });
    cleanups.splice(cleanups.length - 1, 0, () => cp.close());
    const running = await starting;
    const response = await fetch(running.url);
    expect(await response.text()).toBe('app');
    expect(response.headers.get(VERSION_HEADER)).toBe('from-wasmplugin');
  }, 60_000);
});

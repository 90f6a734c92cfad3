/**
 * e2e: `deployer run --istio` with VirtualServices and DestinationRules — the header-router in
 * the chain, one route per Istio cluster bound with --cluster, two real upstream versions on
 * loopback, requests through real sockets.
 */
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { echoHandler, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from './helpers.js';

const V1 = 'outbound|9080|v1|reviews.default.svc.cluster.local';
const V2 = 'outbound|9080|v2|reviews.default.svc.cluster.local';

const destinationRule = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`;

function virtualService(http: string, annotations = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
  annotations:
    wasmesh.io/service-port: "9080"${annotations}
spec:
  hosts: [reviews]
  http:
${http}
`;
}

const split = (v1: number, v2: number) => `  - name: slow
    match: [{ headers: { x-slow: { exact: "1" } } }]
    fault: { delay: { fixedDelay: 2s, percentage: { value: 100 } } }
    route: [{ destination: { host: reviews, subset: v1 } }]
  - name: jason
    match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - name: canary
    route:
    - { destination: { host: reviews, subset: v1 }, weight: ${v1} }
    - { destination: { host: reviews, subset: v2 }, weight: ${v2} }`;

function istioDir(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-vs-'));
  writeFileSync(path.join(dir, 'reviews.yaml'), `${yaml}---\n${destinationRule}`);
  return dir;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function get(url: string, headers: Record<string, string>): Promise<{ status: number; upstream: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: { host: 'reviews:9080', ...headers }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, upstream: res.statusCode === 200 ? (JSON.parse(text) as { upstream: string }).upstream : text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function inBatches<T>(count: number, batch: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += batch) out.push(...await Promise.all(Array.from({ length: Math.min(batch, count - i) }, (_, j) => run(i + j))));
  return out;
}

describe('e2e: deployer run --istio with VirtualService and DestinationRule', () => {
  let v1: TestUpstream;
  let v2: TestUpstream;
  let config: string;
  const running: RunningSidecar[] = [];

  const start = async (yaml: string): Promise<RunningSidecar> => {
    const sidecar = await runSidecarCommand({
      config, accessLog: '/dev/null', logLevel: 'error', istio: istioDir(yaml), namespace: 'default',
      cluster: [`${V1}=${v1.url}`, `${V2}=${v2.url}`],
    });
    running.push(sidecar);
    return sidecar;
  };

  beforeAll(async () => {
    v1 = await startUpstream(echoHandler('reviews-v1'));
    v2 = await startUpstream(echoHandler('reviews-v2'));
    config = await writeSidecarYaml({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { app: v1.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] });
  });
  afterAll(async () => {
    agent.destroy();
    for (const sidecar of running) await sidecar.close();
    await v1?.close();
    await v2?.close();
  });

  it('header-router: e2e puts the header-router in the chain with a route per Istio cluster', async () => {
    const sidecar = await start(virtualService(split(10, 90)));
    expect(sidecar.config.filters.map((f) => f.name)).toEqual(['header-router']);
    expect(sidecar.config.routes.map((r) => r.cluster).slice(0, 2).sort()).toEqual([V1, V2]);
    expect((await get(`${sidecar.url}/reviews/0`, { 'end-user': 'jason' })).upstream).toBe('reviews-v2');
    // A client cannot pick the destination itself.
    expect((await get(`${sidecar.url}/reviews/0`, { 'end-user': 'jason', 'x-wasmesh-route': V1 })).upstream).toBe('reviews-v2');
  });

  // ±3% is 4.5 standard deviations at 2,000 requests; the ±1% over 100,000 is test/filters/header-router/split.test.ts (same host chain, no sockets).
  it('header-router: e2e 10/90 split through real sockets (2,000 requests, within ±3%)', { timeout: 120_000 }, async () => {
    const sidecar = await start(virtualService(split(10, 90)));
    const results = await inBatches(2000, 32, () => get(`${sidecar.url}/reviews/0`, {}));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const onV1 = results.filter((r) => r.upstream === 'reviews-v1').length / results.length;
    expect(Math.abs(onV1 - 0.1)).toBeLessThan(0.03);
  });

  it('header-router: e2e sticky keys keep their destination on every request', { timeout: 120_000 }, async () => {
    const sidecar = await start(virtualService(split(50, 50), '\n    wasmesh.io/sticky-key: "header:x-user"'));
    const keys = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const first = await inBatches(keys.length, 32, (i) => get(`${sidecar.url}/reviews/0`, { 'x-user': keys[i]! }));
    for (let round = 0; round < 2; round++) {
      const again = await inBatches(keys.length, 32, (i) => get(`${sidecar.url}/reviews/0`, { 'x-user': keys[i]! }));
      again.forEach((r, i) => expect(r.upstream).toBe(first[i]!.upstream));
    }
    const onV1 = first.filter((r) => r.upstream === 'reviews-v1').length;
    expect(onV1).toBeGreaterThan(100);
    expect(onV1).toBeLessThan(200);
  });

  it('header-router: e2e a 2 s fault delay does not delay concurrent streams', async () => {
    const sidecar = await start(virtualService(split(10, 90)));
    const order: string[] = [];
    const slow = get(`${sidecar.url}/reviews/0`, { 'x-slow': '1' }).then((r) => { order.push('slow'); return r; });
    const fast = await Promise.all(Array.from({ length: 20 }, () => get(`${sidecar.url}/reviews/0`, {}).then((r) => { order.push('fast'); return r; })));
    expect(fast.every((r) => r.status === 200)).toBe(true);
    expect(order.filter((o) => o === 'fast')).toHaveLength(20);
    expect(order).not.toContain('slow');
    const delayed = await slow;
    expect(delayed).toEqual({ status: 200, upstream: 'reviews-v1' });
    expect(order.at(-1)).toBe('slow');
  });

  it('header-router: e2e a destination without a bound cluster stops the start-up, naming the --cluster to add', async () => {
    await expect(runSidecarCommand({
      config, accessLog: '/dev/null', logLevel: 'error', istio: istioDir(virtualService(split(10, 90))), namespace: 'default', cluster: [`${V1}=${v1.url}`],
    })).rejects.toThrow(`--cluster '${V2}=http://127.0.0.1:<port>'`);
  });
});

/**
 * e2e: the header-router's 10/90 split measured over 100,000 requests through real sockets —
 * `deployer run --istio` with a VirtualService (sticky key `header:x-user`) and a DestinationRule,
 * two real node:http upstream versions on loopback, each counting what reaches it. Every request
 * carries a fresh random key, so the share is that of the key hash over the weights.
 *
 * The client is h2c with prior knowledge (the sidecar's listener speaks it on the same port, as
 * Envoy's `codec_type: AUTO` does): a few sessions with many concurrent streams each, so the
 * 100,000 requests need no 100,000 TCP handshakes.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { writeSidecarYaml } from './helpers.js';

const V1 = 'outbound|9080|v1|reviews.default.svc.cluster.local';
const V2 = 'outbound|9080|v2|reviews.default.svc.cluster.local';
const REQUESTS = 100_000;
const SESSIONS = 4;
const STREAMS_PER_SESSION = 64;

const istioYaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
  annotations:
    wasmesh.io/service-port: "9080"
    wasmesh.io/sticky-key: "header:x-user"
spec:
  hosts: [reviews]
  http:
  - name: canary
    route:
    - { destination: { host: reviews, subset: v1 }, weight: 10 }
    - { destination: { host: reviews, subset: v2 }, weight: 90 }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`;

/** A real upstream version that counts the requests it served (the count the test trusts). */
interface CountingUpstream {
  readonly url: string;
  readonly served: () => number;
  close(): Promise<void>;
}

async function startCountingUpstream(name: string): Promise<CountingUpstream> {
  let served = 0;
  const body = JSON.stringify({ upstream: name });
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served: () => served,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

/** One GET on an h2c session; resolves with the status and the upstream named in the body. */
function get(session: http2.ClientHttp2Session, key: string): Promise<{ status: number; upstream: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': '/reviews/0', ':authority': 'reviews:9080', 'x-user': key });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => { status = Number(headers[':status']); });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      resolve({ status, upstream: status === 200 ? (JSON.parse(text) as { upstream: string }).upstream : text });
    });
    stream.on('error', reject);
    stream.end();
  });
}

function connect(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.once('connect', () => { session.off('error', reject); resolve(session); });
    session.once('error', reject);
  });
}

describe('e2e: header-router split accuracy over 100,000 requests through deployer run', () => {
  let v1: CountingUpstream;
  let v2: CountingUpstream;
  let sidecar: RunningSidecar | undefined;
  const sessions: http2.ClientHttp2Session[] = [];

  beforeAll(async () => {
    v1 = await startCountingUpstream('reviews-v1');
    v2 = await startCountingUpstream('reviews-v2');
    const config = await writeSidecarYaml({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { app: v1.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] });
    const istio = mkdtempSync(path.join(tmpdir(), 'wasmesh-vs-'));
    writeFileSync(path.join(istio, 'reviews.yaml'), istioYaml);
    sidecar = await runSidecarCommand({
      config, accessLog: '/dev/null', logLevel: 'error', istio, namespace: 'default',
      cluster: [`${V1}=${v1.url}`, `${V2}=${v2.url}`],
    });
  });
  afterAll(async () => {
    for (const session of sessions) session.destroy();
    await sidecar?.close();
    await v1?.close();
    await v2?.close();
  });

  // At 100,000 keys the standard deviation of the v1 share is √(0.1·0.9/100000) ≈ 0.095%, so
  // ±1% is over 10 standard deviations: a miss means a biased hash or split, never bad luck.
  it('header-router: e2e 10/90 split with random keys lands within ±1% over 100,000 requests on h2c', { timeout: 480_000 }, async () => {
    expect(sidecar!.config.filters.map((f) => f.name)).toContain('header-router');
    for (let i = 0; i < SESSIONS; i++) sessions.push(await connect(sidecar!.url));

    let next = 0;
    let failures = 0;
    const seen = { 'reviews-v1': 0, 'reviews-v2': 0 } as Record<string, number>;
    // Each worker keeps one stream open on its session at a time: SESSIONS × STREAMS_PER_SESSION in flight.
    const worker = async (session: http2.ClientHttp2Session) => {
      while (next < REQUESTS) {
        next++;
        const { status, upstream } = await get(session, randomUUID());
        if (status !== 200) failures++;
        else seen[upstream] = (seen[upstream] ?? 0) + 1;
      }
    };
    await Promise.all(sessions.flatMap((session) => Array.from({ length: STREAMS_PER_SESSION }, () => worker(session))));

    expect(failures).toBe(0);
    // The upstreams' own counters, and the client's view of who answered, agree.
    expect(v1.served() + v2.served()).toBe(REQUESTS);
    expect(seen).toEqual({ 'reviews-v1': v1.served(), 'reviews-v2': v2.served() });
    const v1Share = v1.served() / REQUESTS;
    const v2Share = v2.served() / REQUESTS;
    expect(Math.abs(v1Share - 0.1)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(v2Share - 0.9)).toBeLessThanOrEqual(0.01);
  });
});

/**
 * Istio's standard metrics through `deployer run --istio` with real traffic: jwt-auth → rbac →
 * metrics over a real upstream (2xx, 401, 403, 404 NR, 503 UF, 504 UT, large bodies, gRPC unary
 * and streaming over h2c with a non-OK grpc-status), and two sidecars in a chain exchanging
 * metadata. The exposition of /stats/prometheus is parsed with parse-prometheus-text-format.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import parsePrometheusTextFormat, { type PromFamily, type PromSample } from 'parse-prometheus-text-format';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { jwks, makeKey, mint } from '../filters/jwt-auth/tokens.js';
import { closedPort, request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from './helpers.js';

const ISSUER = 'https://idp.loopback.test';
const BIG_REQUEST = 300_000;
const BIG_RESPONSE = 500_000;

function grpcFrames(sizes: readonly number[]): Buffer {
  return Buffer.concat(sizes.map((n) => {
    const frame = Buffer.alloc(5 + n, 7);
    frame[0] = 0;
    frame.writeUInt32BE(n, 1);
    return frame;
  }));
}

/** The app: /ok, /slow, /big, gRPC methods over HTTP/1.1 with trailers; it records what arrived. */
function app(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.url === '/slow') { setTimeout(() => { if (!res.destroyed) res.writeHead(200).end('late'); }, 1500); return; }
    if (req.url === '/big') { res.writeHead(200, { 'content-length': BIG_RESPONSE }).end(Buffer.alloc(BIG_RESPONSE, 1)); return; }
    if (req.url?.startsWith('/bookinfo.Reviews/')) {
      const streaming = req.url.endsWith('/Stream');
      res.writeHead(200, { 'content-type': 'application/grpc', trailer: 'grpc-status' });
      res.write(grpcFrames(streaming ? [10, 20, 30, 40] : [12]));
      res.addTrailers({ 'grpc-status': streaming ? '5' : '0', ...(streaming ? { 'grpc-message': 'no such review' } : {}) });
      res.end();
      return;
    }
    const echo = JSON.stringify({ url: req.url, headers: req.headers, bytes: body.length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(echo) }).end(echo);
  });
}

/** A gRPC call over h2c with prior knowledge: status, grpc-status trailer, response messages. */
async function grpcCall(url: string, method: string, messages: readonly number[], headers: Record<string, string> = {}): Promise<{ status: number; grpcStatus?: string; bytes: number }> {
  const session = http2.connect(url);
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject);
      const stream = session.request({ ':method': 'POST', ':path': method, 'content-type': 'application/grpc', te: 'trailers', ...headers });
      let status = 0;
      let grpcStatus: string | undefined;
      let bytes = 0;
      stream.on('response', (h) => { status = Number(h[':status']); grpcStatus = h['grpc-status'] as string | undefined; });
      stream.on('trailers', (t) => { grpcStatus = t['grpc-status'] as string | undefined; });
      stream.on('data', (c: Buffer) => { bytes += c.length; });
      stream.on('end', () => resolve({ status, ...(grpcStatus !== undefined ? { grpcStatus } : {}), bytes }));
      stream.on('error', reject);
      // Streaming: one DATA frame per message.
      for (const size of messages) stream.write(grpcFrames([size]));
      stream.end();
    });
  } finally {
    session.close();
  }
}

function writeIstio(resources: readonly Record<string, unknown>[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'metrics-run-'));
  resources.forEach((r, i) => writeFileSync(path.join(dir, `${i}.yaml`), stringify(r)));
  return dir;
}

/**
 * The parsed exposition. parse-prometheus-text-format merges the samples of a labelled histogram
 * into one (labels lost), so histogram families are also parsed without their `# TYPE` line: their
 * `<name>_bucket` / `_sum` / `_count` samples then come back as families of their own, labels kept.
 */
async function scrape(sidecar: RunningSidecar): Promise<PromFamily[]> {
  const res = await request1(`${sidecar.adminUrl}/stats/prometheus`);
  expect(res.status).toBe(200);
  const histograms = [...res.body.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1]!);
  expect(histograms.length).toBeGreaterThan(0);
  const histogramParts = new Set(histograms.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]));
  const untyped = parsePrometheusTextFormat(res.body.replace(/^# TYPE \S+ histogram\n/gm, '')).filter((f) => histogramParts.has(f.name));
  return [...parsePrometheusTextFormat(res.body), ...untyped];
}

interface HistogramSeries { readonly labels: Record<string, string>; readonly buckets: Record<string, number>; readonly sum: number; readonly count: number }

/** A histogram's series, rebuilt from its _bucket/_sum/_count sample families. */
function histogram(families: readonly PromFamily[], name: string): HistogramSeries[] {
  const key = (labels: Readonly<Record<string, string>> | undefined) => JSON.stringify(Object.entries(labels ?? {}).filter(([k]) => k !== 'le').sort());
  const series = new Map<string, HistogramSeries>();
  for (const sample of family(families, `${name}_count`)) {
    series.set(key(sample.labels), { labels: { ...sample.labels }, buckets: {}, sum: 0, count: Number(sample.value) });
  }
  for (const sample of family(families, `${name}_sum`)) series.set(key(sample.labels), { ...series.get(key(sample.labels))!, sum: Number(sample.value) });
  for (const sample of family(families, `${name}_bucket`)) series.get(key(sample.labels))!.buckets[sample.labels!.le!] = Number(sample.value);
  return [...series.values()];
}

/** The samples of every family with this name (untyped samples come back one family per run of lines). */
function family(families: readonly PromFamily[], name: string): readonly PromSample[] {
  return families.filter((f) => f.name === name).flatMap((f) => f.metrics);
}

function count(samples: readonly PromSample[], labels: Record<string, string>): number {
  return samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v)).reduce((n, s) => n + Number(s.value ?? s.count ?? 0), 0);
}

describe('e2e: deployer run --istio records Istio\'s standard metrics for every outcome', () => {
  const key = makeKey('ES256', 'k1');
  let idp: TestUpstream;
  let upstream: TestUpstream;
  let sidecar: RunningSidecar;
  let families: PromFamily[];
  const token = () => mint(key, { iss: ISSUER, sub: 'alice', aud: 'reviews', exp: Math.floor(Date.now() / 1000) + 300 });

  beforeAll(async () => {
    idp = await startUpstream((req, res) => { const body = jwks(key); res.writeHead(200, { 'content-type': 'application/json' }).end(body); });
    upstream = await startUpstream(app);
    const down = await closedPort();
    const istio = writeIstio([
      { apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: 'bookinfo' },
        spec: { jwtRules: [{ issuer: ISSUER, jwksUri: `http://127.0.0.1:${idp.port}/jwks`, audiences: ['reviews'] }] } },
      { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-admin', namespace: 'bookinfo' },
        spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] } },
      { apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'tier', namespace: 'bookinfo' },
        spec: { metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT' }, tagOverrides: { user_tier: { value: "has(request.headers['x-tier']) ? request.headers['x-tier'] : 'free'" } } }] }] } },
    ]);
    const config = await writeSidecarYaml({
      listen: '127.0.0.1:0', admin: '127.0.0.1:0',
      clusters: { 'inbound|9080||': upstream.url, down: `http://127.0.0.1:${down}` },
      routes: [
        { match: { prefix: '/down' }, cluster: 'down' },
        { match: { prefix: '/slow' }, cluster: 'inbound|9080||', timeout: '0.2s' },
        { match: { prefix: '/ok' }, cluster: 'inbound|9080||' },
        { match: { prefix: '/admin' }, cluster: 'inbound|9080||' },
        { match: { prefix: '/big' }, cluster: 'inbound|9080||' },
        { match: { prefix: '/bookinfo.Reviews/' }, cluster: 'inbound|9080||' },
      ],
    });
    sidecar = await runSidecarCommand({
      config, accessLog: '/dev/null', logLevel: 'error', istio, namespace: 'bookinfo', workloadLabels: 'app=reviews,version=v2',
      workloadName: 'reviews-v2', clusterId: 'east',
    });
    const auth = () => ({ authorization: `Bearer ${token()}` });
    const results = [
      await request1(`${sidecar.url}/ok`, { headers: { ...auth(), 'x-tier': 'gold' } }),
      await request1(`${sidecar.url}/ok`, { headers: auth() }),
      await request1(`${sidecar.url}/ok`, { headers: { authorization: 'Bearer not.a.jwt' } }),
      await request1(`${sidecar.url}/admin/users`, { headers: auth() }),
      await request1(`${sidecar.url}/nowhere`, { headers: auth() }),
      await request1(`${sidecar.url}/down`, { headers: auth() }),
      await request1(`${sidecar.url}/slow`, { headers: auth() }),
      await request1(`${sidecar.url}/big`, { method: 'POST', headers: auth(), body: 'x'.repeat(BIG_REQUEST) }),
    ];
    expect(results.map((r) => r.status)).toEqual([200, 200, 401, 403, 404, 503, 504, 200]);
    const unary = await grpcCall(sidecar.url, '/bookinfo.Reviews/Get', [15], auth());
    const stream = await grpcCall(sidecar.url, '/bookinfo.Reviews/Stream', [1, 2, 3], auth());
    expect([unary.status, unary.grpcStatus, stream.status, stream.grpcStatus]).toEqual([200, '0', 200, '5']);
    families = await scrape(sidecar);
  }, 60_000);
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
    await idp?.close();
  });

  it('metrics: onLog counts every outcome with its response code and Envoy\'s flags', () => {
    const requests = family(families, 'istio_requests_total');
    expect(count(requests, {})).toBe(10);
    expect([
      count(requests, { response_code: '200', response_flags: '-', request_protocol: 'http' }),
      count(requests, { response_code: '401', response_flags: '-' }),
      count(requests, { response_code: '403', response_flags: '-' }),
      count(requests, { response_code: '404', response_flags: 'NR' }),
      count(requests, { response_code: '503', response_flags: 'UF' }),
      count(requests, { response_code: '504', response_flags: 'UT' }),
    ]).toEqual([3, 1, 1, 1, 1, 1]);
  });

  it('metrics: onLog labels carry the local workload from the run flags and Istio\'s value rules', () => {
    const sample = family(families, 'istio_requests_total').find((s) => s.labels?.response_code === '403')!;
    expect(sample.labels).toMatchObject({
      reporter: 'destination', destination_workload: 'reviews-v2', destination_workload_namespace: 'bookinfo', destination_app: 'reviews',
      destination_version: 'v2', destination_cluster: 'east', destination_canonical_service: 'reviews-v2', destination_canonical_revision: 'latest',
      source_workload: 'unknown', connection_security_policy: 'none', grpc_response_status: '', user_tier: 'free',
    });
    expect(count(family(families, 'istio_requests_total'), { user_tier: 'gold' })).toBe(1);
  });

  it('metrics: onLog gRPC unary and streaming: protocol, grpc-status and message counts', () => {
    const requests = family(families, 'istio_requests_total');
    expect(count(requests, { request_protocol: 'grpc', grpc_response_status: '0' })).toBe(1);
    expect(count(requests, { request_protocol: 'grpc', grpc_response_status: '5' })).toBe(1);
    expect(count(family(families, 'istio_request_messages_total'), { grpc_response_status: '0' })).toBe(1);
    expect(count(family(families, 'istio_request_messages_total'), { grpc_response_status: '5' })).toBe(3);
    expect(count(family(families, 'istio_response_messages_total'), { grpc_response_status: '5' })).toBe(4);
  });

  it('metrics: onLog histograms: bucket counts match _count, sizes include the large bodies', () => {
    const duration = histogram(families, 'istio_request_duration_milliseconds');
    expect(duration.reduce((n, s) => n + s.count, 0)).toBe(10);
    for (const series of duration) expect(series.buckets['+Inf']).toBe(series.count);
    const slow = duration.find((s) => s.labels.response_code === '504')!;
    // Timed out after 200 ms: not in the ≤100 ms bucket, within ≤1000 ms.
    expect([slow.buckets['100'], slow.buckets['1000']]).toEqual([0, 1]);
    const httpOk = (s: HistogramSeries) => s.labels.response_code === '200' && s.labels.request_protocol === 'http';
    const requestBytes = histogram(families, 'istio_request_bytes').filter(httpOk);
    expect(requestBytes.reduce((n, s) => n + s.sum, 0)).toBeGreaterThan(BIG_REQUEST);
    const responseBytes = histogram(families, 'istio_response_bytes').filter(httpOk);
    expect(responseBytes.reduce((n, s) => n + s.count, 0)).toBe(3);
    expect(responseBytes.reduce((n, s) => n + s.sum, 0)).toBeGreaterThan(BIG_RESPONSE);
    // The 500 kB response falls in the (300000, 600000] bucket.
    const bucket = (le: string) => responseBytes.reduce((n, s) => n + (s.buckets[le] ?? 0), 0);
    expect([bucket('300000'), bucket('600000')]).toEqual([2, 3]);
  });
});

describe('e2e: two deployer run sidecars exchange workload metadata (reporter=source → reporter=destination)', () => {
  let upstream: TestUpstream;
  let server: RunningSidecar;
  let client: RunningSidecar;
  const seen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => { seen.push(req.headers); app(req, res); });
    const telemetry = writeIstio([{ apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'mesh-default', namespace: 'istio-system' }, spec: { metrics: [{ providers: [{ name: 'prometheus' }] }] } }]);
    server = await runSidecarCommand({
      config: await writeSidecarYaml({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { 'inbound|9080||': upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'inbound|9080||' }] }),
      accessLog: '/dev/null', logLevel: 'error', istio: telemetry, namespace: 'bookinfo', workloadLabels: 'app=reviews,version=v2', workloadName: 'reviews-v2', clusterId: 'east',
    });
    const upstreamCluster = 'outbound|9080||reviews.bookinfo.svc.cluster.local';
    client = await runSidecarCommand({
      config: await writeSidecarYaml({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { [upstreamCluster]: server.url }, routes: [{ match: { prefix: '/' }, cluster: upstreamCluster }] }),
      accessLog: '/dev/null', logLevel: 'error', istio: telemetry, namespace: 'default', workloadLabels: 'app=productpage,version=v1,service.istio.io/canonical-revision=v1',
      workloadName: 'productpage-v1', clusterId: 'west', direction: 'outbound',
    });
    for (let i = 0; i < 3; i++) {
      const res = await request1(`${client.url}/ok`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.headers).filter((h) => h.startsWith('x-envoy-peer-metadata'))).toEqual([]);
    }
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await server?.close();
    await upstream?.close();
  });

  it('metrics: onRequestHeaders exchange headers never reach the application', () => {
    expect(seen).toHaveLength(3);
    for (const headers of seen) expect(Object.keys(headers).filter((h) => h.startsWith('x-envoy-peer-metadata'))).toEqual([]);
  });

  it('metrics: onLog client side reports as source with the server\'s workload', async () => {
    const [sample] = family(await scrape(client), 'istio_requests_total');
    expect(sample!.value).toBe('3');
    expect(sample!.labels).toMatchObject({
      reporter: 'source', source_workload: 'productpage-v1', source_workload_namespace: 'default', source_canonical_revision: 'v1', source_cluster: 'west',
      destination_workload: 'reviews-v2', destination_workload_namespace: 'bookinfo', destination_app: 'reviews', destination_cluster: 'east',
      destination_service: 'reviews.bookinfo.svc.cluster.local', destination_service_name: 'reviews', destination_service_namespace: 'bookinfo',
      connection_security_policy: 'unknown', response_code: '200',
    });
  });

  it('metrics: onLog server side reports as destination with the client\'s workload', async () => {
    const [sample] = family(await scrape(server), 'istio_requests_total');
    expect(sample!.value).toBe('3');
    expect(sample!.labels).toMatchObject({
      reporter: 'destination', source_workload: 'productpage-v1', source_workload_namespace: 'default', source_app: 'productpage',
      source_version: 'v1', source_canonical_revision: 'v1', source_cluster: 'west', destination_workload: 'reviews-v2', destination_cluster: 'east',
    });
  });
});

import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import path from 'node:path';
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { builtFilter, builtTestFilter } from '../setup/paths.js';
import { echoHandler, request1, request2, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from './helpers.js';

const ACCESS_LOG_LINE = /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "(GET|POST) (\S+) (HTTP\/1\.1|HTTP\/2)" (\d{3}) (\S+) (\d+) (\d+) (\d+) (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"$/;

function family(families: readonly PromFamily[], name: string): PromFamily {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`metric ${name} not exported; have: ${families.map((f) => f.name).join(', ')}`);
  return found;
}

describe('e2e: deployer run (in-process) → built example filter → real upstream', () => {
  let upstream: TestUpstream;
  let sidecar: RunningSidecar;
  let accessLogFile: string;

  beforeAll(async () => {
    upstream = await startUpstream(echoHandler('app'));
    const configFile = await writeSidecarYaml({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      workers: 2,
      filters: [
        { name: 'conformance', root_id: 'conformance', vm_config: { code: { local: { filename: builtTestFilter('conformance') } } }, fail_open: false },
        { name: 'example', root_id: 'example', vm_config: { code: { local: { filename: builtFilter('example') } } }, configuration: { request_headers: { 'x-tenant': 'blue' }, response_headers: { 'x-wasmesh-example': 'hello' } } },
      ],
      clusters: { app: upstream.url },
      routes: [{ name: 'all', match: { prefix: '/' }, cluster: 'app' }],
    });
    accessLogFile = path.join(path.dirname(configFile), 'access.log');
    sidecar = await runSidecarCommand({ config: configFile, accessLog: accessLogFile, logLevel: 'warn', namespace: 'default' });
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it.each([
    { protocol: 'HTTP/1.1', get: (url: string) => request1(`${url}/hello?q=1`) },
    { protocol: 'h2c', get: (url: string) => request2(url, { path: '/hello?q=1' }) },
  ])('example: on_response_headers adds x-wasmesh-example over $protocol', async ({ get }) => {
    const res = await get(sidecar.url);
    expect(res.status).toBe(200);
    expect(res.headers['x-wasmesh-example']).toBe('hello');
    const echoed = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    expect(echoed.url).toBe('/hello?q=1');
    // The conformance filter ran first: it sets x-header-count on the request it forwards.
    expect(echoed.headers['x-header-count']).toMatch(/^[0-9]+$/);
    // example: on_request_headers added its configured request header before routing.
    expect(echoed.headers['x-tenant']).toBe('blue');
  });

  it('example: a streamed request body reaches the upstream whole', async () => {
    const body = 'x'.repeat(256 * 1024);
    const res = await request1(`${sidecar.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { body: string }).body.length).toBe(body.length);
  });

  it('admin /ready answers LIVE', async () => {
    const res = await fetch(`${sidecar.adminUrl}/ready`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('LIVE\n');
  });

  it('admin /stats/prometheus has the proxy stats and every metric the filters defined', async () => {
    await request1(`${sidecar.url}/metrics`, { headers: { 'x-action': 'metrics', 'x-value': '42' } });
    const res = await fetch(`${sidecar.adminUrl}/stats/prometheus`);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const families = parsePrometheusTextFormat(await res.text());
    const rqTotal = family(families, 'envoy_http_downstream_rq_total');
    expect(rqTotal.type).toBe('COUNTER');
    expect(Number(rqTotal.metrics[0]!.value)).toBeGreaterThanOrEqual(4);
    const twoXx = family(families, 'envoy_http_downstream_rq_xx').metrics.find((m) => m.labels?.envoy_response_code_class === '2');
    expect(Number(twoXx?.value)).toBeGreaterThanOrEqual(4);
    expect(family(families, 'envoy_cluster_upstream_rq_total').metrics[0]!.labels).toEqual({ envoy_cluster_name: 'app' });
    expect(Number(family(families, 'conformance_requests').metrics[0]!.value)).toBeGreaterThanOrEqual(4);
    expect(family(families, 'conformance_gauge')).toMatchObject({ type: 'GAUGE', metrics: [{ value: '42' }] });
    const histogram = family(families, 'conformance_latency');
    expect(histogram.type).toBe('HISTOGRAM');
    expect(Number(histogram.metrics[0]!.count)).toBeGreaterThanOrEqual(1);
    expect(Number(family(families, 'wasmesh_example_requests_total').metrics[0]!.value)).toBeGreaterThanOrEqual(4);
  });

  it('admin /config_dump lists the filters and routes', async () => {
    const dump = (await (await fetch(`${sidecar.adminUrl}/config_dump`)).json()) as { filters: { name: string; vm_config: { sha256: string } }[]; routes: { name: string; cluster: string }[] };
    expect(dump.filters.map((f) => f.name)).toEqual(['conformance', 'example']);
    expect(dump.filters[1]!.vm_config.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(dump.routes).toEqual([expect.objectContaining({ name: 'all', cluster: 'app', match: { prefix: '/' } })]);
  });

  it('writes one Envoy default-format access log line per request', async () => {
    await request1(`${sidecar.url}/logged`, { headers: { 'user-agent': 'e2e-agent', 'x-request-id': 'req-123' } });
    let line: string | undefined;
    for (let attempt = 0; attempt < 100 && line === undefined; attempt++) {
      line = (await readFile(accessLogFile, 'utf8')).split('\n').find((l) => l.includes('req-123'));
      if (line === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    expect(line).toBeDefined();
    const match = ACCESS_LOG_LINE.exec(line!);
    expect(match, line).not.toBeNull();
    const [, method, pathField, protocol, code, flags, , bytesSent, , upstreamTime, xff, agent, requestId, authority, upstreamHost] = match!;
    expect({ method, pathField, protocol, code, flags, xff, agent, requestId, upstreamHost }).toEqual({
      method: 'GET', pathField: '/logged', protocol: 'HTTP/1.1', code: '200', flags: '-', xff: '-', agent: 'e2e-agent', requestId: 'req-123', upstreamHost: `127.0.0.1:${upstream.port}`,
    });
    expect(Number(bytesSent)).toBeGreaterThan(0);
    expect(upstreamTime).toMatch(/^[0-9]+$/);
    expect(authority).toBe(`127.0.0.1:${sidecar.listen.port}`);
  });
});

describe('e2e: deployer run resets the downstream stream when a filter calls proxy_close_stream', () => {
  let upstream: TestUpstream;
  let sidecar: RunningSidecar;
  let upstreamRequests = 0;

  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => { upstreamRequests++; res.end('should not be reached'); });
    const configFile = await writeSidecarYaml({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      workers: 1,
      filters: [{ name: 'conformance', root_id: 'conformance', vm_config: { code: { local: { filename: builtTestFilter('conformance') } } }, fail_open: false }],
      clusters: { app: upstream.url },
      routes: [{ name: 'all', match: { prefix: '/' }, cluster: 'app' }],
    });
    sidecar = await runSidecarCommand({ config: configFile, accessLog: path.join(path.dirname(configFile), 'access.log'), logLevel: 'warn', namespace: 'default' });
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it('conformance: proxy_close_stream on request headers closes the HTTP/1.1 connection without a response', async () => {
    await expect(request1(`${sidecar.url}/x`, { headers: { 'x-action': 'close' } })).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(upstreamRequests).toBe(0);
  });

  it('conformance: proxy_close_stream on request headers resets the h2c stream (RST_STREAM, no response headers)', async () => {
    const session = http2.connect(sidecar.url);
    try {
      const outcome = await new Promise<{ gotResponse: boolean; rstCode: number }>((resolve) => {
        const stream = session.request({ ':method': 'GET', ':path': '/x', 'x-action': 'close' });
        let gotResponse = false;
        stream.on('response', () => { gotResponse = true; });
        stream.on('error', () => undefined);
        stream.on('close', () => resolve({ gotResponse, rstCode: stream.rstCode ?? 0 }));
        stream.resume();
      });
      // The stream closes without response headers. Envoy's HTTP/2 codec resets a local reset with
      // NGHTTP2_NO_ERROR (source/common/http/http2/codec_impl.cc), and so does this sidecar.
      expect(outcome.gotResponse).toBe(false);
      expect(outcome.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
    } finally {
      session.close();
    }
    expect(upstreamRequests).toBe(0);
  });
});

describe('e2e: deployer run re-matches the route after a wasm filter changes request headers', () => {
  let blue: TestUpstream;
  let app: TestUpstream;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    blue = await startUpstream(echoHandler('blue'));
    app = await startUpstream(echoHandler('app'));
    const configFile = await writeSidecarYaml({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      workers: 1,
      filters: [{ name: 'example', root_id: 'example', vm_config: { code: { local: { filename: builtFilter('example') } } }, configuration: { request_headers: { 'x-tenant': 'blue' } } }],
      clusters: { blue: blue.url, app: app.url },
      // Before the filter runs the request matches only "all"; the header it adds selects "tenant".
      routes: [
        { name: 'tenant', match: { prefix: '/', headers: [{ name: 'x-tenant', string_match: { exact: 'blue' } }] }, cluster: 'blue' },
        { name: 'all', match: { prefix: '/' }, cluster: 'app' },
      ],
    });
    sidecar = await runSidecarCommand({ config: configFile, accessLog: path.join(path.dirname(configFile), 'access.log'), logLevel: 'warn', namespace: 'default' });
  });
  afterAll(async () => {
    await sidecar?.close();
    await blue?.close();
    await app?.close();
  });

  it('example: on_request_headers adds x-tenant and the request is routed by it (route cache cleared, as Envoy)', async () => {
    const res = await request1(`${sidecar.url}/orders`);
    expect(res.status).toBe(200);
    expect(blue.requests.length).toBe(1);
    expect(app.requests.length).toBe(0);
  });
});

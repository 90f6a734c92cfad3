import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilterChain, StreamInfo } from '../../deployer/src/host/api.js';
import {
  closedPort, echoHandler, eventually, fakeChain, localReply, request1, request2, sidecarConfig, startTestSidecar, startUpstream,
  type StartedSidecar, type TestUpstream,
} from './helpers.js';

const protocols = [
  { name: 'HTTP/1.1', send: request1 as typeof request2, pathInUrl: true },
  { name: 'h2c', send: request2, pathInUrl: false },
] as const;

/** Sends to `path` whichever the protocol: HTTP/1 via the URL, h2c via :path. */
function send(protocol: (typeof protocols)[number], base: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return protocol.pathInUrl ? protocol.send(base + path, options) : protocol.send(base, { ...options, path });
}

describe('sidecar proxying (fake filter chain)', () => {
  let app: TestUpstream;
  let api: TestUpstream;
  let sidecar: StartedSidecar;
  const chain = fakeChain({
    onRequestHeaders: (headers) => {
      const path = headers.find(([n]) => n === ':path')?.[1] ?? '';
      if (path === '/deny') return localReply(403, 'denied by test filter', [['x-denied', 'yes']]);
      if (path.startsWith('/rewrite-to-api')) {
        // A filter that changes :path: Envoy re-matches the route (route cache cleared).
        return { action: 'continue', headers: headers.map(([n, v]) => [n, n === ':path' ? '/api/rewritten' : v] as const), endOfStream: false, routeCacheCleared: true };
      }
      return undefined;
    },
    onResponseHeaders: (headers) => ({ action: 'continue', headers: [...headers, ['x-fake-filter', 'seen']], endOfStream: false, routeCacheCleared: false }),
  });

  beforeAll(async () => {
    app = await startUpstream(echoHandler('app'));
    api = await startUpstream(echoHandler('api'));
    sidecar = await startTestSidecar(sidecarConfig({
      clusters: { app: app.url, api: api.url },
      routes: [
        { match: { prefix: '/api/', headers: [{ name: 'x-tenant', string_match: { exact: 'blocked' }, invert_match: true }] }, cluster: 'api' },
        { match: { path: '/only-exact' }, cluster: 'app' },
        { match: { safe_regex: { regex: '/v[0-9]+/items' } }, cluster: 'api' },
        { match: { prefix: '/app' }, cluster: 'app' },
        { match: { prefix: '/deny' }, cluster: 'app' },
        { match: { prefix: '/rewrite-to-api' }, cluster: 'app' },
      ],
    }), { chain });
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
    await api?.close();
  });

  describe.each(protocols)('$name', (protocol) => {
    it.each([
      { path: '/app/hello?x=1', upstream: 'app' },
      { path: '/api/users', upstream: 'api' },
      { path: '/only-exact?q=1', upstream: 'app' },
      { path: '/v2/items', upstream: 'api' },
      { path: '/rewrite-to-api/x', upstream: 'api' },
    ])('routes $path to $upstream (first match on path and headers)', async ({ path, upstream }) => {
      const res = await send(protocol, sidecar.url, path);
      expect(res.status).toBe(200);
      const echoed = JSON.parse(res.body) as { upstream: string; headers: Record<string, string> };
      expect(echoed.upstream).toBe(upstream);
      expect(echoed.headers['x-forwarded-proto']).toBe('http');
      expect(echoed.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['x-fake-filter']).toBe('seen');
      expect(res.headers['x-envoy-upstream-service-time']).toMatch(/^[0-9]+$/);
      expect(res.headers.server).toBe('envoy');
    });

    it.each([
      { path: '/only-exact/more', why: 'path match is exact' },
      { path: '/nothing', why: 'no route prefix matches' },
      { path: '/v2/items/extra', why: 'safe_regex must match the whole path' },
    ])('answers 404 NR for $path ($why)', async ({ path }) => {
      const before = sidecar.accessLog.length;
      const res = await send(protocol, sidecar.url, path);
      expect(res.status).toBe(404);
      expect(res.body).toBe('');
      await eventually(() => sidecar.accessLog.length > before);
      expect(sidecar.accessLog.at(-1)).toMatch(/" 404 NR /);
    });

    it('skips a route whose inverted header matcher matches', async () => {
      const res = await send(protocol, sidecar.url, '/api/users', { headers: { 'x-tenant': 'blocked' } });
      expect(res.status).toBe(404);
    });

    it("sends a filter's local reply without reaching the upstream", async () => {
      const appRequests = app.requests.length;
      const res = await send(protocol, sidecar.url, '/deny');
      expect(res.status).toBe(403);
      expect(res.body).toBe('denied by test filter');
      expect(res.headers['x-denied']).toBe('yes');
      expect(res.headers['content-type']).toBe('text/plain');
      expect(app.requests.length).toBe(appRequests);
    });

    it('forwards a request body and the method', async () => {
      const res = await send(protocol, sidecar.url, '/app/post', { method: 'POST', body: 'hello body', headers: { 'content-type': 'text/plain' } });
      const echoed = JSON.parse(res.body) as { method: string; body: string };
      expect(echoed).toMatchObject({ method: 'POST', body: 'hello body' });
    });
  });

  it('tells the chain the protocol and the connection', async () => {
    await request2(sidecar.url, { path: '/app/h2' });
    const info = chain.infos.at(-1)!;
    expect(info.protocol).toBe('HTTP/2');
    expect(info.connection).toMatchObject({ sourceAddress: '127.0.0.1', destinationAddress: '127.0.0.1', destinationPort: sidecar.listen.port });
    expect(info.connection.tls).toBeUndefined();
    await request1(`${sidecar.url}/app/h1`);
    expect(chain.infos.at(-1)!.protocol).toBe('HTTP/1.1');
  });

  it('completes every stream with the response code, flags and cluster', async () => {
    const before = chain.completions.length;
    await request1(`${sidecar.url}/app/complete`);
    await eventually(() => chain.completions.length > before);
    expect(chain.completions.at(-1)).toMatchObject({ responseCode: 200, responseFlags: '-', clusterName: 'app', responseCodeDetails: 'via_upstream' });
  });
});

describe('sidecar upstream failures', () => {
  it.each([
    { name: 'connection refused', status: 503, flag: 'UF', body: /^upstream connect error or disconnect\/reset before headers\. reset reason: connection failure, transport failure reason: delayed connect error: 111$/ },
  ])('answers $status $flag on $name', async ({ status, flag, body }) => {
    const port = await closedPort();
    const chain = fakeChain();
    const sidecar = await startTestSidecar(sidecarConfig({ clusters: { app: `http://127.0.0.1:${port}` }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }), { chain });
    try {
      const res = await request1(`${sidecar.url}/x`);
      expect(res.status).toBe(status);
      expect(res.body).toMatch(body);
      await eventually(() => sidecar.accessLog.length > 0);
      expect(sidecar.accessLog[0]).toContain(`" ${status} ${flag} `);
      expect(chain.calls).toContain('responseHeaders eos=false');
      expect(chain.completions[0]).toMatchObject({ responseFlags: flag, responseCodeDetails: 'upstream_reset_before_response_started{connection_failure}' });
      expect(sidecar.stats.cluster('app').upstreamCxConnectFail).toBe(1);
    } finally {
      await sidecar.close();
    }
  });

  it('answers 503 UC when the upstream closes the connection before headers', async () => {
    const upstream = await startUpstream((req) => req.socket.destroy());
    const sidecar = await startTestSidecar(sidecarConfig({ clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }));
    try {
      const res = await request1(`${sidecar.url}/x`);
      expect(res.status).toBe(503);
      expect(res.body).toBe('upstream connect error or disconnect/reset before headers. reset reason: connection termination');
      await eventually(() => sidecar.accessLog.length > 0);
      expect(sidecar.accessLog[0]).toContain('" 503 UC ');
    } finally {
      await sidecar.close();
      await upstream.close();
    }
  });

  it('answers 504 UT when the route timeout passes before the upstream answers', async () => {
    const upstream = await startUpstream(() => undefined);
    const sidecar = await startTestSidecar(sidecarConfig({ clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app', timeout: '0.2s' }] }));
    try {
      const res = await request1(`${sidecar.url}/slow`);
      expect(res.status).toBe(504);
      expect(res.body).toBe('upstream request timeout');
      await eventually(() => sidecar.accessLog.length > 0);
      expect(sidecar.accessLog[0]).toContain('" 504 UT ');
      expect(sidecar.stats.cluster('app').upstreamRqTimeout).toBe(1);
    } finally {
      await sidecar.close();
      await upstream.close();
    }
  });
});

describe('sidecar resilience', () => {
  const rejectingHeaders = (): FilterChain => ({
    plugins: [],
    newStream: (info: StreamInfo) => ({ ...fakeChain().newStream(info), requestHeaders: () => Promise.reject(new Error('boom')) }),
  });
  const throwingNewStream = (): FilterChain => ({
    plugins: [],
    newStream: () => { throw new Error('no stream'); },
  });
  it.each([
    { name: 'rejects in requestHeaders', chain: rejectingHeaders },
    { name: 'throws in newStream', chain: throwingNewStream },
  ])('answers 503 and keeps serving when the chain $name', async ({ chain }) => {
    const upstream = await startUpstream(echoHandler('app'));
    const errors: unknown[] = [];
    const broken = chain();
    let useBroken = true;
    const switching: FilterChain = { plugins: [], newStream: (info: StreamInfo) => (useBroken ? broken.newStream(info) : fakeChain().newStream(info)) };
    const sidecar = await startTestSidecar(sidecarConfig({ clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }), { chain: switching, onError: (e) => errors.push(e) });
    try {
      const failed = await request1(`${sidecar.url}/x`);
      expect(failed.status).toBe(503);
      expect(errors.length).toBeGreaterThan(0);
      useBroken = false;
      const next = await request1(`${sidecar.url}/y`);
      expect(next.status).toBe(200);
    } finally {
      await sidecar.close();
      await upstream.close();
    }
  });
});

/**
 * deployer run against clients that misbehave on purpose (issue #16): raw sockets and raw HTTP/2
 * frames. Every case ends by checking that other clients are still served and the admin `/ready`
 * answers, so one bad client never takes the sidecar down.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HeaderList } from '../../../deployer/src/host/api.js';
import { echoHandler, eventually, fakeChain, localReply, request1, request2, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from '../helpers.js';
import { clientPreface, Flags, frame, framesIn, FrameType, hpack, parseHttp1, rawExchange, requestHeaders, rstStream } from './wire.js';

interface MalformedCase { readonly name: string; readonly request: string; readonly status: number; readonly body: string; readonly details: string }
const malformed = (JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'http1-malformed.json'), 'utf8')) as { cases: MalformedCase[] }).cases;

function expand(request: string): Buffer {
  const text = request
    .replace(/\{big:(\d+)\}/g, (_m, n: string) => 'a'.repeat(Number(n)))
    .replace(/\{headers:(\d+)\}/g, (_m, n: string) => Array.from({ length: Number(n) }, (_, i) => `X-H${i}: v\r\n`).join(''));
  return Buffer.from(text, 'latin1');
}

const pathOf = (headers: HeaderList) => headers.find(([n]) => n === ':path')?.[1] ?? '';

/** Stands for jwt-auth: its rule is picked from the :path the filter sees (requires a token under /api). */
const seenPaths: string[] = [];
const chain = fakeChain({
  onRequestHeaders: (headers) => {
    seenPaths.push(pathOf(headers));
    if (pathOf(headers).startsWith('/api') && !headers.some(([n]) => n === 'authorization')) return localReply(401, 'Jwt is missing');
    return undefined;
  },
});

async function stillServing(sidecar: StartedSidecar): Promise<void> {
  expect((await request1(`${sidecar.url}/ok`)).status).toBe(200);
  expect((await request2(sidecar.url, { path: '/ok' })).status).toBe(200);
  const ready = await request1(`${sidecar.adminUrl}/ready`);
  expect([ready.status, ready.body.trim()]).toEqual([200, 'LIVE']);
}

const gauge = (sidecar: StartedSidecar) => sidecar.stats.downstreamCxActive;

// Floods and timeouts wait for the server to act; on the shared 2-core machine that can take seconds.
vi.setConfig({ testTimeout: 30_000 });

describe('hostile clients', () => {
  let app: TestUpstream;
  let sidecar: StartedSidecar;
  let port: number;

  beforeAll(async () => {
    app = await startUpstream((req, res) => {
      if (req.url === '/reset-mid-body') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      echoHandler('app')(req, res);
    });
    sidecar = await startTestSidecar(sidecarConfig({
      access_log_format: 'istio',
      clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }), { chain });
    port = sidecar.listen.port;
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
  });

  describe('finding 1: paths are normalized before any filter runs', () => {
    it.each(['/x/../api/orders', '/%2e%2e/api/orders', '/healthz/../api/orders', '/api/./orders', '/healthz/%2E%2E/api/orders'])(
      'HTTP/1.1 %s reaches the filters as /api/orders and is refused', async (requestPath) => {
        const before = app.requests.length;
        const result = parseHttp1((await rawExchange(port, Buffer.from(`GET ${requestPath} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n`))).data);
        expect(result.status).toBe(401);
        expect(seenPaths.at(-1)).toBe('/api/orders');
        expect(app.requests.length).toBe(before);
        // The access log shows the path Envoy's would: the normalized :path.
        await eventually(() => sidecar.accessLog.some((l) => l.includes('"GET /api/orders HTTP/1.1" 401')));
      });

    it('h2c /x/../api/orders is refused the same way', async () => {
      expect((await request2(sidecar.url, { path: '/x/../api/orders' })).status).toBe(401);
      expect(seenPaths.at(-1)).toBe('/api/orders');
    });

    it('the upstream receives the normalized path', async () => {
      const reply = await request1(`${sidecar.url}/a/b/../c`);
      expect(JSON.parse(reply.body).url).toBe('/a/c');
    });
  });

  describe('finding 5 and 6: malformed HTTP/1 gets the reply Envoy sends', () => {
    it.each(malformed)('$name → $status $details', async (testCase) => {
      const closes = testCase.body === 'Bad Request' || testCase.status === 431 || testCase.status === 501;
      const { data, closed } = await rawExchange(port, expand(testCase.request), { waitMs: closes ? 2000 : 300 });
      const reply = parseHttp1(data);
      expect(reply.status).toBe(testCase.status);
      expect(reply.body).toBe(testCase.body);
      expect(reply.headers).toContain('server: envoy');
      if (closes) {
        expect(reply.headers).toContain('connection: close');
        expect(closed).toBe(true);
      }
      await eventually(() => sidecar.accessLog.some((l) => l.includes(` ${testCase.status} `) && l.includes(` ${testCase.details} `)));
      await stillServing(sidecar);
    });

    it('accepts a 30 KB header, which Envoy accepts under max_request_headers_kb 60', async () => {
      const before = app.requests.length;
      await request1(`${sidecar.url}/big`, { headers: { 'x-big': 'a'.repeat(30_000) } });
      // Forwarded (the test upstream, node's 16 KB default, may refuse it itself).
      expect(app.requests.length + (sidecar.accessLog.some((l) => l.includes('"GET /big ') && l.includes('127.0.0.1:')) ? 1 : 0)).toBeGreaterThan(before);
      expect(sidecar.accessLog.find((l) => l.includes('"GET /big '))).toContain('via_upstream');
    });

    it.each(['x@internal.example.com', 'internal.example.com..', 'internal.example.com,a'])(
      'Host %s has only characters Envoy accepts in an authority and is forwarded', async (host) => {
        const reply = await request1(`${sidecar.url}/host`, { headers: { host } });
        expect(reply.status).toBe(200);
      });

    it('h2 :authority with a slash gets RST_STREAM PROTOCOL_ERROR', async () => {
      const { data } = await rawExchange(port, Buffer.concat([
        clientPreface(),
        frame(FrameType.HEADERS, Flags.END_HEADERS | Flags.END_STREAM, 1, requestHeaders('/', [], 'GET', 'internal.example.com/x')),
      ]), { waitMs: 500 });
      const reset = framesIn(data.subarray(0)).find((f) => f.type === FrameType.RST_STREAM && f.streamId === 1);
      expect(reset?.payload.readUInt32BE(0)).toBe(0x1);
      await stillServing(sidecar);
    });
  });

  describe('finding 2: nothing a client sends throws out of a handler', () => {
    it('h2c HEADERS and RST_STREAM for the same stream in one write', async () => {
      const bytes = Buffer.concat([
        clientPreface(),
        frame(FrameType.HEADERS, Flags.END_HEADERS | Flags.END_STREAM, 1, requestHeaders('/ok')),
        rstStream(1),
      ]);
      for (let i = 0; i < 20; i++) await rawExchange(port, bytes, { waitMs: 50 });
      await stillServing(sidecar);
    });

    it('h2c DATA beyond content-length resets the stream', async () => {
      const { data } = await rawExchange(port, Buffer.concat([
        clientPreface(),
        frame(FrameType.HEADERS, Flags.END_HEADERS, 1, requestHeaders('/upload', [['content-length', '2']], 'POST')),
        frame(FrameType.DATA, Flags.END_STREAM, 1, Buffer.from('far more than two bytes')),
      ]), { waitMs: 500 });
      expect(framesIn(data).some((f) => (f.type === FrameType.RST_STREAM && f.streamId === 1) || f.type === FrameType.GOAWAY)).toBe(true);
      await stillServing(sidecar);
    });

    it('HTTP/1 body beyond content-length is not forwarded as a second request', async () => {
      const before = app.requests.length;
      await rawExchange(port, Buffer.from('POST /upload HTTP/1.1\r\nHost: app\r\nContent-Length: 2\r\n\r\nabGARBAGE\r\n\r\n'), { waitMs: 300 });
      expect(app.requests.length - before).toBeLessThanOrEqual(1);
      await stillServing(sidecar);
    });
  });

  describe('HTTP/2 floods', () => {
    it('rapid reset (CVE-2023-44487): the connection is closed, others are served', async () => {
      const frames: Buffer[] = [clientPreface()];
      for (let id = 1; id < 4000; id += 2) frames.push(frame(FrameType.HEADERS, Flags.END_HEADERS | Flags.END_STREAM, id, requestHeaders('/ok')), rstStream(id));
      // Resolves as soon as the server closes; the long wait only matters on a loaded machine.
      const { data, closed } = await rawExchange(port, Buffer.concat(frames), { waitMs: 20_000 });
      expect(closed || framesIn(data).some((f) => f.type === FrameType.GOAWAY)).toBe(true);
      await stillServing(sidecar);
    });

    it.each([
      ['SETTINGS', () => frame(FrameType.SETTINGS, 0, 0)],
      ['PING', () => frame(FrameType.PING, 0, 0, Buffer.alloc(8))],
    ])('%s flood from a client that never reads: the connection is closed', async (_name, make) => {
      const one = make();
      const flood = Buffer.concat([clientPreface(), ...Array.from({ length: 50_000 }, () => one)]);
      const { data, closed } = await rawExchange(port, flood, { waitMs: 20_000 });
      expect(closed || framesIn(data).some((f) => f.type === FrameType.GOAWAY)).toBe(true);
      await stillServing(sidecar);
    });

    it('CONTINUATION flood: HEADERS never ended', async () => {
      const continuation = frame(FrameType.CONTINUATION, 0, 1, hpack([['x-flood', 'a'.repeat(100)]]));
      const flood = Buffer.concat([clientPreface(), frame(FrameType.HEADERS, 0, 1, requestHeaders('/ok')), ...Array.from({ length: 20_000 }, () => continuation)]);
      const { data, closed } = await rawExchange(port, flood, { waitMs: 20_000 });
      expect(closed || framesIn(data).some((f) => f.type === FrameType.GOAWAY)).toBe(true);
      await stillServing(sidecar);
    });
  });

  describe('finding 10: an upstream reset mid-body', () => {
    it('is logged UC, not DC', async () => {
      await new Promise<void>((resolve) => {
        const req = http.get(`${sidecar.url}/reset-mid-body`, { agent: false }, (res) => {
          res.on('data', () => undefined);
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        });
        req.on('error', () => resolve());
      });
      await eventually(() => sidecar.accessLog.some((l) => l.includes('/reset-mid-body')));
      const line = sidecar.accessLog.find((l) => l.includes('/reset-mid-body'))!;
      expect(line).toContain(' 200 UC upstream_reset_after_response_started{connection_termination} ');
      await stillServing(sidecar);
    });
  });

  describe('finding 4: downstream_cx_active balances', () => {
    it('connections closed before the preface check are counted and uncounted', async () => {
      await eventually(() => gauge(sidecar) === 0);
      await Promise.all(Array.from({ length: 30 }, () => rawExchange(port, Buffer.alloc(0), { waitMs: 1 })));
      await Promise.all(Array.from({ length: 30 }, () => rawExchange(port, Buffer.from('PRI * HT'), { waitMs: 1 })));
      await eventually(() => gauge(sidecar) === 0);
      expect(gauge(sidecar)).toBe(0);
    });
  });
});

describe('hostile clients: timeouts and the connection cap', () => {
  let app: TestUpstream;
  let sidecar: StartedSidecar;
  let port: number;

  beforeAll(async () => {
    app = await startUpstream((req, res) => {
      if (req.url === '/hang') return; // never answers
      echoHandler('app')(req, res);
    });
    sidecar = await startTestSidecar(sidecarConfig({
      access_log_format: 'istio',
      http_connection_manager: {
        request_headers_timeout: '0.3s',
        stream_idle_timeout: '0.6s',
        common_http_protocol_options: { idle_timeout: '0.5s' },
      },
      overload: { max_active_downstream_connections: 6 },
      clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }), { chain });
    port = sidecar.listen.port;
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
  });

  it('trickled headers get 408 request_header_timeout and the connection is closed', async () => {
    const chunks = ['GET / HTTP/1.1\r\n', 'Host: app\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n'].map((c) => Buffer.from(c));
    const { data, closed } = await rawExchange(port, chunks, { gapMs: 150, waitMs: 2000 });
    expect(parseHttp1(data).status).toBe(408);
    expect(closed).toBe(true);
    await eventually(() => sidecar.accessLog.some((l) => l.includes(' 408 ') && l.includes('request_header_timeout')));
    await stillServing(sidecar);
  });

  it('a partial h2c preface is closed by the idle timeout', async () => {
    const { closed } = await rawExchange(port, Buffer.from('PRI * HTTP/2.0\r\n'), { waitMs: 2000 });
    expect(closed).toBe(true);
  });

  it('an idle h2c connection gets GOAWAY after idle_timeout', async () => {
    const { data, closed } = await rawExchange(port, clientPreface(), { waitMs: 2000 });
    expect(closed || framesIn(data).some((f) => f.type === FrameType.GOAWAY)).toBe(true);
  });

  it('an idle HTTP/1.1 keep-alive connection is closed after idle_timeout', async () => {
    const { data, closed } = await rawExchange(port, Buffer.from('GET /ok HTTP/1.1\r\nHost: app\r\n\r\n'), { waitMs: 2000 });
    expect(parseHttp1(data).status).toBe(200);
    expect(closed).toBe(true);
  });

  it('an upstream that never answers: 408 stream_idle_timeout (SI)', async () => {
    const reply = await request1(`${sidecar.url}/hang`);
    expect([reply.status, reply.body]).toEqual([408, 'stream timeout']);
    await eventually(() => sidecar.accessLog.some((l) => l.includes('/hang') && l.includes(' 408 SI stream_idle_timeout ')));
  });

  it('past max_active_downstream_connections new connections are refused; existing ones and /ready are served', async () => {
    const held = await Promise.all(Array.from({ length: 6 }, () => http2.connect(sidecar.url)));
    try {
      await Promise.all(held.map((session) => new Promise<void>((resolve) => session.once('connect', () => resolve()))));
      await eventually(() => gauge(sidecar) === 6);
      const refused = await rawExchange(port, Buffer.from('GET /ok HTTP/1.1\r\nHost: app\r\n\r\n'), { waitMs: 1000 });
      expect(refused.closed).toBe(true);
      expect(refused.data.length).toBe(0);
      expect(sidecar.stats.downstreamGlobalCxOverflow).toBeGreaterThan(0);
      // Existing connections keep working.
      const stream = held[0]!.request({ ':path': '/ok' });
      const status = await new Promise<number>((resolve) => stream.on('response', (h) => resolve(Number(h[':status']))));
      stream.resume();
      expect(status).toBe(200);
      const ready = await request1(`${sidecar.adminUrl}/ready`);
      expect(ready.status).toBe(200);
    } finally {
      for (const session of held) session.destroy();
    }
    await eventually(() => gauge(sidecar) === 0);
    await stillServing(sidecar);
    await eventually(() => gauge(sidecar) === 0);
    expect(gauge(sidecar)).toBe(0);
  });
});

/**
 * Issue #16: body a filter buffers is bounded as Envoy bounds it. The filter manager's buffer
 * limit is the downstream stream's (the listener's per_connection_buffer_limit_bytes on HTTP/1,
 * http2_protocol_options.initial_stream_window_size on HTTP/2); a StopIterationAndBuffer body past
 * it is answered 413 `request_payload_too_large`, a buffered response past it resets the stream
 * with `response_payload_too_large` (its headers already went out). Runs the built conformance
 * filter (test/fixtures/filters/conformance: `x-action: body-buffer` / `response-body-buffer`).
 */
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../setup/paths.js';
import { echoHandler, eventually, request1, request2, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from './helpers.js';
import { parseHttp1, rawExchange } from './hostile/wire.js';

const conformance = path.join(repoRoot, 'build', 'test-filters', 'conformance.wasm');
const LIMIT = 1024;

function stat(sidecar: StartedSidecar, name: string): number {
  return sidecar.stats.samples().find((s) => s.name === name)?.value ?? -1;
}

describe('sidecar: buffered body past the stream buffer limit', () => {
  let upstream: TestUpstream;
  let sidecar: StartedSidecar;

  beforeAll(async () => {
    const echo = echoHandler();
    upstream = await startUpstream((req, res) => {
      if (req.url === '/chunked') {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain' }).end('small');
        return;
      }
      if (req.url !== '/big') return echo(req, res);
      req.resume();
      // 3 KiB in three writes: the buffering filter sees the body grow past 1 KiB.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a'.repeat(1024));
      setTimeout(() => { res.write('b'.repeat(1024)); setTimeout(() => res.end('c'.repeat(1024)), 20); }, 20);
    });
    sidecar = await startTestSidecar(sidecarConfig({
      per_connection_buffer_limit_bytes: LIMIT,
      access_log_format: 'istio',
      http_connection_manager: { http2_protocol_options: { initial_stream_window_size: 65535 } },
      filters: [{ name: 'conformance', root_id: 'conformance', vm_config: { code: { local: { filename: conformance } } } }],
      clusters: { app: upstream.url },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }));
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it('HTTP/1.1: a buffered request body within the limit reaches the upstream whole, as the filter rewrote it', async () => {
    // Chunked: the filter changes the body's length, so a content-length would no longer hold.
    const res = await request1(`${sidecar.url}/small`, { method: 'POST', headers: { 'x-action': 'body-buffer', 'transfer-encoding': 'chunked' }, body: 'x'.repeat(LIMIT) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).body).toBe(`[${'X'.repeat(LIMIT)}]`);
  });

  it('HTTP/1.1: one byte past per_connection_buffer_limit_bytes gets 413 Payload Too Large with connection: close, logged request_payload_too_large', async () => {
    const before = stat(sidecar, 'envoy_http_downstream_rq_too_large');
    const body = 'y'.repeat(LIMIT + 1);
    // Two writes: the filter buffers the first, the second takes the buffer past the limit.
    const raw = await rawExchange(sidecar.listen.port, [
      Buffer.from(`POST /upload HTTP/1.1\r\nhost: app\r\nx-action: body-buffer\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 600)}`),
      Buffer.from(body.slice(600)),
    ], { gapMs: 30 });
    const reply = parseHttp1(raw.data);
    expect(reply.status).toBe(413);
    expect(reply.body).toBe('Payload Too Large');
    expect(reply.headers).toContain('content-type: text/plain');
    expect(reply.headers).toContain('connection: close');
    // Envoy's encoder filters see a local reply too.
    expect(reply.headers).toContain('x-conformance-response: 413');
    expect(raw.closed).toBe(true);
    await eventually(() => sidecar.accessLog.some((l) => l.includes('/upload')));
    expect(sidecar.accessLog.find((l) => l.includes('/upload'))).toMatch(/"POST \/upload HTTP\/1\.1" 413 - request_payload_too_large /);
    expect(stat(sidecar, 'envoy_http_downstream_rq_too_large')).toBe(before + 1);
    expect(stat(sidecar, 'envoy_http_downstream_rq_response_before_rq_complete')).toBeGreaterThanOrEqual(1);
  });

  it('HTTP/1.1: a client still uploading a large body reads the 413 (delayed close), and the sidecar keeps serving', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${sidecar.url}/large`, { method: 'POST', agent: false, headers: { 'x-action': 'body-buffer', 'content-length': String(256 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(Buffer.alloc(256 * 1024, 0x7a));
    });
    expect(status).toBe(413);
    expect((await request1(`${sidecar.url}/ok`)).status).toBe(200);
  });

  it('HTTP/2: the limit is initial_stream_window_size; past it the stream gets 413 and the connection stays up', async () => {
    const session = http2.connect(sidecar.url);
    try {
      const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/h2-upload', 'x-action': 'body-buffer' });
        let status = 0;
        let body = '';
        stream.on('response', (h) => { status = Number(h[':status']); });
        stream.on('data', (c: Buffer) => { body += c.toString(); });
        stream.on('close', () => resolve({ status, body }));
        stream.on('error', reject);
        stream.end(Buffer.alloc(100_000, 0x61));
      });
      expect(result).toEqual({ status: 413, body: 'Payload Too Large' });
      expect(session.destroyed).toBe(false);
      const again = await new Promise<number>((resolve) => {
        const stream = session.request({ ':path': '/after' });
        stream.on('response', (h) => resolve(Number(h[':status'])));
        stream.resume();
      });
      expect(again).toBe(200);
    } finally {
      session.close();
    }
  });

  it('a buffered response body past the limit resets the stream after its headers (response_payload_too_large, rs_too_large)', async () => {
    const before = stat(sidecar, 'envoy_http_rs_too_large');
    const outcome = await new Promise<{ status: number; aborted: boolean }>((resolve) => {
      const req = http.request(`${sidecar.url}/big`, { agent: false, headers: { 'x-action': 'response-body-buffer' } }, (res) => {
        let aborted = false;
        res.on('aborted', () => { aborted = true; });
        res.on('error', () => { aborted = true; });
        res.on('close', () => resolve({ status: res.statusCode ?? 0, aborted: aborted || !res.complete }));
        res.resume();
      });
      req.on('error', () => resolve({ status: 0, aborted: true }));
      req.end();
    });
    expect(outcome).toEqual({ status: 200, aborted: true });
    await eventually(() => sidecar.accessLog.some((l) => l.includes('/big')));
    // Envoy keeps the status it sent, names the reason, and sets no downstream flag (it reset, not the client).
    expect(sidecar.accessLog.find((l) => l.includes('/big'))).toMatch(/"GET \/big HTTP\/1\.1" 200 - response_payload_too_large /);
    expect(stat(sidecar, 'envoy_http_rs_too_large')).toBe(before + 1);
  });

  it('a response body within the limit passes whole through the buffering filter', async () => {
    const res = await request2(sidecar.url, { path: '/chunked', headers: { 'x-action': 'response-body-buffer' } });
    expect([res.status, res.body]).toEqual([200, 'small|5']);
  });
});

describe('sidecar config: the buffer limit fields', () => {
  it.each([
    ['per_connection_buffer_limit_bytes', { per_connection_buffer_limit_bytes: 0 }, /per_connection_buffer_limit_bytes/],
    ['initial_stream_window_size below HTTP/2\'s minimum', { http_connection_manager: { http2_protocol_options: { initial_stream_window_size: 1000 } } }, /initial_stream_window_size/],
    ['initial_connection_window_size above HTTP/2\'s maximum', { http_connection_manager: { http2_protocol_options: { initial_connection_window_size: 2 ** 31 } } }, /initial_connection_window_size/],
  ])('refuses %s out of range, naming the field', (_name, fields, message) => {
    expect(() => sidecarConfig({ ...fields, clusters: { app: 'http://127.0.0.1:1' }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] })).toThrow(message);
  });

  it('defaults to Envoy\'s: 1 MiB per connection, 256 MiB HTTP/2 stream window', () => {
    const config = sidecarConfig({ clusters: { app: 'http://127.0.0.1:1' }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] });
    expect(config.perConnectionBufferLimitBytes).toBe(1024 * 1024);
    expect(config.hcm.http2InitialStreamWindowSize).toBe(268_435_456);
    expect(config.hcm.http2InitialConnectionWindowSize).toBe(268_435_456);
  });
});

describe('sidecar: StopIterationAndWatermark past the buffer limit is flow control', () => {
  let upstream: TestUpstream;
  let sidecar: StartedSidecar;
  beforeAll(async () => {
    upstream = await startUpstream(echoHandler());
    sidecar = await startTestSidecar(sidecarConfig({
      per_connection_buffer_limit_bytes: LIMIT,
      // The filter holds the body (watermark) until its next tick continues the stream.
      filters: [{ name: 'conformance', root_id: 'conformance', configuration: 'tick:20', vm_config: { code: { local: { filename: conformance } } } }],
      clusters: { app: upstream.url },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }));
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it('HTTP/1.1: a body well past the limit is not refused; it reaches the upstream whole once the filter continues', async () => {
    const body = 'w'.repeat(4 * LIMIT);
    const res = await request1(`${sidecar.url}/watermark`, { method: 'POST', headers: { 'x-action': 'body-watermark' }, body });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).body).toBe(body);
    expect(stat(sidecar, 'envoy_http_downstream_rq_too_large')).toBe(0);
  });
});

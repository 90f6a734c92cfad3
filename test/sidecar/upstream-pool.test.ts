import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, request1, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from './helpers.js';

/**
 * The cluster pool's two clients (deployer/src/sidecar/upstream.ts): requests without a body go
 * through undici's Pool, requests with one through node's http client. What each must keep:
 * response trailers, backpressure on large bodies, Expect, and body-carrying requests alongside.
 */
const BIG = Buffer.alloc(8 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz');
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');

describe('sidecar upstream pool', () => {
  let upstream: TestUpstream;
  let sidecar: StartedSidecar;
  const seen: { method: string; expect?: string; host?: string; body: string }[] = [];

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, expect: req.headers.expect, host: req.headers.host, body: Buffer.concat(chunks).toString() });
        if (req.url === '/trailers') {
          res.writeHead(200, { 'content-type': 'application/grpc', trailer: 'grpc-status' });
          res.write('x');
          res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'fine' });
          res.end();
        } else if (req.url === '/big') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end(BIG);
        } else {
          res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url}`);
        }
      });
    });
    sidecar = await startTestSidecar(sidecarConfig({ clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }));
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it('forwards response trailers of a bodyless request to an h2c client', async () => {
    const session = http2.connect(sidecar.url);
    try {
      const result = await new Promise<{ status: number; body: string; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
        const stream = session.request({ ':method': 'GET', ':path': '/trailers' });
        let status = 0;
        let body = '';
        let trailers: http2.IncomingHttpHeaders = {};
        stream.on('response', (headers) => { status = Number(headers[':status']); });
        stream.on('trailers', (t) => { trailers = t; });
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => { body += c; });
        stream.on('end', () => resolve({ status, body, trailers }));
        stream.on('error', reject);
      });
      expect(result).toMatchObject({ status: 200, body: 'x', trailers: { 'grpc-status': '0', 'grpc-message': 'fine' } });
    } finally {
      session.close();
    }
  });

  it('streams an 8 MiB response to a slow reader intact (backpressure, not loss)', async () => {
    const hash = createHash('sha256');
    let size = 0;
    await new Promise<void>((resolve, reject) => {
      http.get(`${sidecar.url}/big`, { agent: false }, (res) => {
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          size += chunk.length;
          // A slow client: the sidecar must pause the upstream instead of buffering everything.
          res.pause();
          setTimeout(() => res.resume(), 1);
        });
        res.on('end', resolve);
        res.on('error', reject);
      }).on('error', reject);
    });
    expect(size).toBe(BIG.length);
    expect(hash.digest('hex')).toBe(BIG_SHA);
  });

  it('drops Expect: 100-continue (Envoy answers it itself) and keeps the Host', async () => {
    const res = await request1(`${sidecar.url}/expect`, { headers: { expect: '100-continue', host: 'shop.example:8080' } });
    expect(res.status).toBe(200);
    await eventually(() => seen.some((s) => s.host === 'shop.example:8080'));
    expect(seen.find((s) => s.host === 'shop.example:8080')).toMatchObject({ method: 'GET', expect: undefined });
  });

  it.each(['POST', 'PUT'])('forwards a %s body next to bodyless requests on the same cluster', async (method) => {
    const [withBody, without] = await Promise.all([
      request1(`${sidecar.url}/body`, { method, body: `payload-${method}` }),
      request1(`${sidecar.url}/nobody`),
    ]);
    expect(withBody).toMatchObject({ status: 200, body: `${method} /body` });
    expect(without).toMatchObject({ status: 200, body: 'GET /nobody' });
    expect(seen.some((s) => s.method === method && s.body === `payload-${method}`)).toBe(true);
  });
});

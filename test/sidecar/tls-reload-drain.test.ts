/**
 * Issue #16 on the mTLS listener (one TLS server for HTTP/2 and HTTP/1.1 by ALPN): HCM settings
 * reload for new requests without dropping the open connection, and the drain sends GOAWAY on
 * HTTP/2 and closes an idle HTTP/1.1 connection.
 */
import http2 from 'node:http2';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintPki, type MintedPki } from '../e2e/mtls-certs.js';
import { echoHandler, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from './helpers.js';

describe('sidecar over mTLS: reload of HCM settings and drain', () => {
  let pki: MintedPki;
  let app: TestUpstream;
  let sidecar: StartedSidecar;
  const config = (hcm: Record<string, unknown> = {}) => sidecarConfig({
    tls: { cert: pki.serverCertFile, key: pki.serverKeyFile, client_ca: pki.caFile },
    http_connection_manager: hcm,
    clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
  });
  beforeAll(async () => {
    pki = await mintPki();
    app = await startUpstream(echoHandler('app'));
    sidecar = await startTestSidecar(config());
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
  });

  it('reloads max_request_headers_kb and normalize_path for the next request on an open HTTP/2 connection, then drains it with GOAWAY', async () => {
    const session = http2.connect(sidecar.url, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost' });
    const get = (path: string, headers: Record<string, string> = {}) => new Promise<{ status: number; body: string }>((resolve) => {
      const stream = session.request({ ':path': path, ...headers });
      let status = 0;
      let body = '';
      stream.on('response', (h) => { status = Number(h[':status']); });
      stream.on('data', (c: Buffer) => { body += c.toString(); });
      stream.on('close', () => resolve({ status, body }));
      stream.on('error', () => undefined);
    });
    try {
      const before = await get('/a/../b', { 'x-big': 'v'.repeat(2048) });
      expect([before.status, JSON.parse(before.body).url]).toEqual([200, '/b']);
      const result = await sidecar.reload(config({ normalize_path: false, max_request_headers_kb: 1 }));
      expect(result.listenerChanges).toHaveLength(2);
      const after = await get('/a/../b');
      expect([after.status, JSON.parse(after.body).url]).toEqual([200, '/a/../b']);
      // HTTP/2 headers past the limit: RST_STREAM, no response (the HCM stage's check).
      expect((await get('/c', { 'x-big': 'v'.repeat(2048) })).status).toBe(0);
      expect(session.destroyed).toBe(false);

      const h1 = await new Promise<tls.TLSSocket>((resolve) => {
        const socket = tls.connect({ port: sidecar.listen.port, host: '127.0.0.1', ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, ALPNProtocols: ['http/1.1'], servername: 'localhost' }, () => resolve(socket));
        socket.on('error', () => undefined);
      });
      h1.write('GET /warm HTTP/1.1\r\nhost: app\r\n\r\n');
      await new Promise<void>((resolve) => h1.once('data', () => resolve()));
      const h1Closed = new Promise<void>((resolve) => h1.once('close', () => resolve()));
      const goaway = new Promise<number>((resolve) => session.once('goaway', (code) => resolve(code)));
      const drained = sidecar.drain(5_000);
      expect(await goaway).toBe(0);
      await h1Closed;
      expect(await drained).toBe(0);
    } finally {
      session.destroy();
    }
  });
});

/** HTTP/1.1 over the mTLS listener (ALPN http/1.1): malformed requests get Envoy's codec reply too. */
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintPki, type MintedPki } from '../../e2e/mtls-certs.js';
import { echoHandler, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from '../helpers.js';
import { parseHttp1 } from './wire.js';

function tlsExchange(port: number, pki: MintedPki, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ port, host: '127.0.0.1', ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, ALPNProtocols: ['http/1.1'], servername: 'localhost' }, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', () => undefined);
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}

describe('hostile clients over mTLS', () => {
  let pki: MintedPki;
  let app: TestUpstream;
  let sidecar: StartedSidecar;
  beforeAll(async () => {
    pki = await mintPki();
    app = await startUpstream(echoHandler('app'));
    sidecar = await startTestSidecar(sidecarConfig({
      tls: { cert: pki.serverCertFile, key: pki.serverKeyFile, client_ca: pki.caFile },
      clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }));
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
  });

  it.each([
    ['lower-case method', 'get / HTTP/1.1\r\nHost: app\r\n\r\n', 400, 'Bad Request'],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'Bad Request'],
  ])('%s → %i', async (_name, request, status, body) => {
    const reply = parseHttp1(Buffer.from(await tlsExchange(sidecar.listen.port, pki, request), 'latin1'));
    expect([reply.status, reply.body]).toEqual([status, body]);
    expect(reply.headers).toContain('server: envoy');
  });
});

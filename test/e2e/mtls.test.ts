import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { builtTestFilter } from '../setup/paths.js';
import { echoHandler, sidecarConfig, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { mintPki, type MintedPki } from './mtls-certs.js';

interface TlsResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly alpn: string | false | null;
}

function requestTls(url: string, pki: MintedPki, client: { cert: string; key: string } | undefined): Promise<TlsResult> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}/peer`, { ca: pki.ca, cert: client?.cert, key: client?.key, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, alpn: (res.socket as import('node:tls').TLSSocket).alpnProtocol }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('e2e: mTLS listener → peer certificate → filter', () => {
  let pki: MintedPki;
  let upstream: TestUpstream;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    pki = await mintPki();
    upstream = await startUpstream(echoHandler('app'));
    sidecar = await startSidecar(sidecarConfig({
      tls: { cert: pki.serverCertFile, key: pki.serverKeyFile, client_ca: pki.caFile },
      filters: [{ name: 'peer', root_id: 'sidecar-peer', vm_config: { code: { local: { filename: builtTestFilter('sidecar-peer') } } } }],
      clusters: { app: upstream.url },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }), { accessLog: () => undefined, onLog: () => undefined });
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it('sidecar-peer: on_request_headers reads the client URI SAN and subject (connection.*)', async () => {
    const res = await requestTls(sidecar.url, pki, { cert: pki.clientCert, key: pki.clientKey });
    expect(res.status).toBe(200);
    expect(res.headers['x-peer-uri-san']).toBe(pki.clientSpiffeId);
    // RFC 2253: RDNs in reverse DER order, as Envoy's subject_peer_certificate. The minted
    // certificate's DER holds CN, OU, O in that order; `openssl x509 -nameopt RFC2253` prints this.
    expect(res.headers['x-peer-subject']).toBe('O=wasmesh,OU=shop,CN=cart');
    expect(res.headers['x-peer-mtls']).toBe('true');
  });

  it('sidecar-peer: HTTP/2 negotiated by ALPN sees the same peer', async () => {
    const http2 = await import('node:http2');
    const session = http2.connect(sidecar.url, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        session.on('error', reject);
        const stream = session.request({ ':path': '/peer' });
        stream.on('response', (h) => resolve(h));
        stream.on('error', reject);
        stream.resume();
      });
      expect(headers[':status']).toBe(200);
      expect(headers['x-peer-uri-san']).toBe(pki.clientSpiffeId);
    } finally {
      session.close();
    }
  });

  it.each([
    { name: 'no client certificate', client: () => undefined },
    { name: 'a certificate from another CA', client: () => ({ cert: pki.rogueClientCert, key: pki.rogueClientKey }) },
  ])('refuses the connection with $name (fail closed)', async ({ client }) => {
    const before = upstream.requests.length;
    await expect(requestTls(sidecar.url, pki, client())).rejects.toThrow();
    expect(upstream.requests.length).toBe(before);
  });
});

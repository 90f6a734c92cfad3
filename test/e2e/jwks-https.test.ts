/**
 * `deployer run --istio` with an https jwksUri and no --cluster mapping: the sidecar builds the
 * TLS cluster istiod would (SNI = host) and jwt-auth fetches its keys over TLS from a real JWKS
 * server on loopback, whose certificate is minted by the test (test/e2e/mtls-certs.ts). Trusted
 * through NODE_EXTRA_CA_CERTS (a real `deployer run` process) tokens verify; with the CA not
 * trusted the fetch fails and every token is refused (fail closed).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import { jwks, makeKey, mint } from '../filters/jwt-auth/tokens.js';
import { echoHandler, request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { runCli, writeSidecarYaml, type RunningCli } from './helpers.js';
import { mintPki, type MintedPki } from './mtls-certs.js';

const ISSUER = 'https://idp.wasmesh.test';
const key = makeKey('ES256', 'tls-1');

describe('run: an https jwksUri is fetched over TLS', () => {
  let pki: MintedPki;
  let idp: https.Server;
  let app: TestUpstream;
  let jwksUri: string;
  let policy: string;
  let config: string;
  let sni: string[];
  let refusedHandshakes: string[];
  let cli: RunningCli | undefined;

  beforeAll(async () => {
    pki = await mintPki();
    sni = [];
    refusedHandshakes = [];
    const body = jwks(key);
    idp = https.createServer({ cert: readFileSync(pki.serverCertFile), key: readFileSync(pki.serverKeyFile) }, (req, res) => {
      if (req.url !== '/.well-known/jwks.json') res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
    idp.on('secureConnection', (socket: { servername?: string | false }) => { sni.push(String(socket.servername)); });
    idp.on('tlsClientError', (error: Error) => { refusedHandshakes.push(error.message); });
    idp.listen(0, '127.0.0.1');
    await once(idp, 'listening');
    // localhost: /etc/hosts maps it to 127.0.0.1 only; the certificate names it (and 127.0.0.1).
    jwksUri = `https://localhost:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
    app = await startUpstream(echoHandler('app'));
    const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-jwks-https-'));
    policy = path.join(dir, 'jwt.yaml');
    await writeFile(policy, stringify({
      apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: 'shop' },
      spec: { jwtRules: [{ issuer: ISSUER, jwksUri, forwardOriginalToken: true }] },
    }));
    config = await writeSidecarYaml({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] });
  });

  afterAll(async () => {
    cli?.child.kill('SIGTERM');
    if (cli) await cli.exited();
    await app?.close();
    idp?.close();
  });

  const bearer = (sub: string) => ({ authorization: `Bearer ${mint(key, { iss: ISSUER, sub, exp: Math.floor(Date.now() / 1000) + 300 })}` });

  it('jwt-auth: with the CA trusted (NODE_EXTRA_CA_CERTS), tokens verify against keys fetched over TLS with SNI = the jwksUri host', async () => {
    cli = await runCli(['--config', config, '--istio', policy, '--namespace', 'shop', '--access-log', '/dev/null'], { NODE_EXTRA_CA_CERTS: pki.caFile });
    expect(cli.stderr()).toContain(`cluster outbound|${new URL(jwksUri).port}||localhost → https://localhost:${new URL(jwksUri).port} (TLS, SNI localhost`);
    const ok = await request1(`${cli.url}/cart`, { headers: bearer('alice') });
    expect(ok.status).toBe(200);
    expect(sni).toContain('localhost');
    const forged = await request1(`${cli.url}/cart`, { headers: { authorization: `${bearer('alice').authorization.split('.').slice(0, 2).join('.')}.${'A'.repeat(86)}` } });
    expect(forged.status).toBe(401);
    expect(refusedHandshakes).toEqual([]);
  });

  it('jwt-auth: with the CA not trusted, the fetch fails and a valid token is refused (fail closed)', async () => {
    const sidecar = await runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'error', istio: policy, namespace: 'shop' });
    try {
      const res = await request1(`${sidecar.url}/cart`, { headers: bearer('alice') });
      expect(res.status).toBe(401);
      // The keys were sought over TLS and the sidecar walked out of the handshake (the trusted run had none).
      expect(refusedHandshakes.length).toBeGreaterThan(0);
    } finally {
      await sidecar.close();
    }
  });
});

/**
 * End to end through `deployer run --istio` (the sidecar with the built jwt-auth module): a real
 * JWKS server on loopback, a RequestAuthentication translated by the deployer, an echo upstream.
 * Rotation (new kid accepted after refetch), JWKS server down (cached keys keep working, a new
 * kid gets 401), spoofed output headers stripped.
 */
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyIstioChain } from '../../../deployer/src/sidecar/istio-chain.js';
import { echoHandler, request1, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from '../../sidecar/helpers.js';
import { repoRoot } from '../../setup/paths.js';
import { jwks, makeKey, mint, type TestKey } from './tokens.js';

const ISSUER = 'https://idp.loopback.test';

interface JwksServer { readonly port: number; keys: TestKey[]; down: boolean; fetches: number; close(): Promise<void> }

async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const state = { keys, down: false, fetches: 0 };
  const server = http.createServer((req, res) => {
    state.fetches++;
    if (state.down || req.url !== '/.well-known/jwks.json') {
      res.writeHead(state.down ? 503 : 404).end('unavailable');
      return;
    }
    const body = jwks(...state.keys);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  }) as JwksServer;
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('jwt-auth: end to end through deployer run --istio', () => {
  const k1 = makeKey('ES256', 'k1');
  const k2 = makeKey('RS256', 'k2');
  const k3 = makeKey('EdDSA', 'k3');
  let idp: JwksServer;
  let app: TestUpstream;
  let sidecar: StartedSidecar;
  const now = (): number => Math.floor(Date.now() / 1000);
  const token = (key: TestKey, sub: string): string => mint(key, { iss: ISSUER, sub, aud: 'httpbin', exp: now() + 300 });
  const get = (headers: Record<string, string> = {}) => request1(`${sidecar.url}/anything`, { headers });
  const seen = (body: string): Record<string, string> => (JSON.parse(body) as { headers: Record<string, string> }).headers;

  beforeAll(async () => {
    idp = await startJwksServer([k1]);
    app = await startUpstream(echoHandler('httpbin'));
    const dir = mkdtempSync(path.join(tmpdir(), 'jwt-e2e-'));
    const policy = path.join(dir, 'requestauthentication.yaml');
    writeFileSync(policy, [
      'apiVersion: security.istio.io/v1',
      'kind: RequestAuthentication',
      'metadata: { name: httpbin-jwt, namespace: foo }',
      'spec:',
      '  selector: { matchLabels: { app: httpbin } }',
      '  jwtRules:',
      `  - issuer: "${ISSUER}"`,
      `    jwksUri: "http://127.0.0.1:${idp.port}/.well-known/jwks.json"`,
      '    audiences: [httpbin]',
      '    outputPayloadToHeader: x-jwt-payload',
      '    outputClaimToHeaders: [{ header: x-jwt-sub, claim: sub }]',
      '',
    ].join('\n'));
    const base = sidecarConfig({
      clusters: { app: app.url, [`outbound|${idp.port}||127.0.0.1`]: `http://127.0.0.1:${idp.port}` },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    });
    const config = applyIstioChain(base, { source: policy, namespace: 'foo', workloadLabels: { app: 'httpbin' }, filtersDir: path.join(repoRoot, 'build', 'filters') });
    expect(config.filters.map((f) => f.name)).toEqual(['jwt-auth']);
    sidecar = await startTestSidecar(config);
    await eventually(() => idp.fetches > 0);
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
    await idp?.close();
  });

  it('jwt-auth: e2e accepts a valid token and forwards the verified claims, not the spoofed ones', async () => {
    const res = await get({ authorization: `Bearer ${token(k1, 'alice')}`, 'x-jwt-sub': 'root' });
    expect(res.status).toBe(200);
    const headers = seen(res.body);
    expect(headers['x-jwt-sub']).toBe('alice');
    expect(headers['authorization']).toBeUndefined();
    expect(JSON.parse(Buffer.from(headers['x-jwt-payload']!, 'base64url').toString())).toMatchObject({ sub: 'alice' });
  });

  it('jwt-auth: e2e lets a request without token through with spoofed output headers stripped', async () => {
    const res = await get({ 'x-jwt-sub': 'root', 'x-jwt-payload': 'eyJzdWIiOiJyb290In0', 'x-wasmesh-jwt-payload': 'eyJzdWIiOiJyb290In0' });
    expect(res.status).toBe(200);
    const headers = seen(res.body);
    expect(headers['x-jwt-sub']).toBeUndefined();
    expect(headers['x-jwt-payload']).toBeUndefined();
    expect(headers['x-wasmesh-jwt-payload']).toBeUndefined();
  });

  it('jwt-auth: e2e strips output and token headers smuggled in request trailers (finding 9)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${sidecar.url}/upload`, {
        method: 'POST', agent: false,
        headers: { authorization: `Bearer ${token(k1, 'erin')}`, 'transfer-encoding': 'chunked', trailer: 'x-jwt-sub, x-jwt-payload, authorization, x-checksum' },
      }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
      req.on('error', reject);
      req.write('body');
      req.addTrailers({ 'x-jwt-sub': 'root', 'x-jwt-payload': 'eyJzdWIiOiJyb290In0', authorization: 'Bearer forged', 'x-checksum': 'abc' });
      req.end();
    });
    expect(status).toBe(200);
    const upstreamRequest = app.requests.at(-1)!;
    expect(upstreamRequest.url).toBe('/upload');
    expect(upstreamRequest.trailers).toEqual({ 'x-checksum': 'abc' });
    expect(upstreamRequest.headers['x-jwt-sub']).toBe('erin');
  });

  it('jwt-auth: e2e rejects a forged token with 401 and Envoy\'s challenge', async () => {
    const [h, p] = token(k1, 'alice').split('.');
    const res = await get({ authorization: `Bearer ${h}.${p}.${'A'.repeat(86)}` });
    expect(res.status).toBe(401);
    expect(res.body).toBe('Jwt verification fails');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/anything", error="invalid_token"$/);
  });

  it('jwt-auth: e2e accepts a rotated key after the JWKS server publishes it (unknown kid → refetch)', async () => {
    idp.keys = [k1, k2];
    const before = idp.fetches;
    const res = await get({ authorization: `Bearer ${token(k2, 'bob')}` });
    expect(res.status).toBe(200);
    expect(seen(res.body)['x-jwt-sub']).toBe('bob');
    expect(idp.fetches).toBe(before + 1);
  });

  it('jwt-auth: e2e keeps cached keys working while the JWKS server is down; a new kid gets 401', async () => {
    idp.down = true;
    idp.keys = [k1, k2, k3];
    const ok = await get({ authorization: `Bearer ${token(k1, 'carol')}` });
    expect(ok.status).toBe(200);
    expect(seen(ok.body)['x-jwt-sub']).toBe('carol');
    const rejected = await get({ authorization: `Bearer ${token(k3, 'dave')}` });
    expect(rejected.status).toBe(401);
    expect(rejected.body).toBe("Jwks doesn't have key to match kid or alg from Jwt");
  });
});

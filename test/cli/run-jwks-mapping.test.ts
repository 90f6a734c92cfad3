import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import { parseClusterFlag } from '../../deployer/src/sidecar/config/cluster-flag.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { jwks, makeKey, mint } from '../filters/jwt-auth/tokens.js';
import { echoHandler, request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from '../e2e/helpers.js';

/**
 * `deployer run --cluster name=http://host:port/path`: a remote https jwksUri served by a local
 * endpoint at another path; the fetch and the filter's JWKS warnings name the mapped endpoint.
 */
const ISSUER = 'https://idp.example.com';
const REMOTE = 'https://idp.example.com/.well-known/jwks.json';
const CLUSTER = 'outbound|443||idp.example.com';
const key = makeKey('ES256', 'k1');

describe('run: --cluster keeps the URL path for a remote jwksUri', () => {
  let idp: TestUpstream;
  let app: TestUpstream;
  const running: RunningSidecar[] = [];
  const policy = (() => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'wasmesh-jwks-map-')), 'jwt.yaml');
    writeFileSync(file, stringify({
      apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: 'shop' },
      spec: { jwtRules: [{ issuer: ISSUER, jwksUri: REMOTE }] },
    }));
    return file;
  })();
  const start = async (mapping: string, notes: string[]) => {
    const config = await writeSidecarYaml({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { notes.push(String(chunk)); return true; });
    try {
      const sidecar = await runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'warn', istio: policy, namespace: 'shop', cluster: [`${CLUSTER}=${mapping}`] });
      running.push(sidecar);
      return sidecar;
    } finally {
      err.mockRestore();
    }
  };
  const bearer = () => ({ authorization: `Bearer ${mint(key, { iss: ISSUER, sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300 })}` });

  beforeAll(async () => {
    idp = await startUpstream((req, res) => {
      const body = jwks(key);
      if (req.url !== '/keys/jwks.json') res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
    app = await startUpstream(echoHandler('app'));
  });
  afterAll(async () => {
    for (const sidecar of running) await sidecar.close();
    await app?.close();
    await idp?.close();
  });

  it.each([
    ['http://127.0.0.1:9000/keys/jwks.json', 'http://127.0.0.1:9000/keys/jwks.json'],
    ['http://127.0.0.1:9000', 'http://127.0.0.1:9000/'],
    ['http://127.0.0.1:9000/', 'http://127.0.0.1:9000/'],
  ])('run: --cluster name=%s keeps its path', (target, href) => {
    expect(parseClusterFlag(`${CLUSTER}=${target}`).url.href).toBe(href);
  });

  it('run: a query in a --cluster URL is still refused', () => {
    expect(() => parseClusterFlag(`${CLUSTER}=http://127.0.0.1:9000/keys?x=1`)).toThrow(/--cluster .*expected scheme:\/\/host:port without a path/);
  });

  it('jwt-auth: a token verifies against keys fetched from the mapped path, and the run log says where they come from', async () => {
    const notes: string[] = [];
    const sidecar = await start(`${idp.url}/keys/jwks.json`, notes);
    expect(notes.join('')).toContain(`jwt-auth: providers.shop/jwt/0: jwksUri ${REMOTE} is fetched from ${idp.url}/keys/jwks.json (--cluster ${CLUSTER})`);
    expect((await request1(`${sidecar.url}/x`, { headers: bearer() })).status).toBe(200);
  });

  it('jwt-auth: a failing JWKS fetch is logged naming the mapped endpoint, not the remote URI', async () => {
    const logs: string[] = [];
    const sidecar = await start(`${idp.url}/missing.json`, logs);
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { logs.push(String(chunk)); return true; });
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { logs.push(String(chunk)); return true; });
    try {
      expect((await request1(`${sidecar.url}/x`, { headers: bearer() })).status).toBe(401);
      await vi.waitFor(() => expect(logs.join('')).toMatch(/JWKS fetch from http:\/\/127\.0\.0\.1:\d+\/missing\.json answered status 404/), { timeout: 5000 });
    } finally {
      write.mockRestore();
      out.mockRestore();
    }
    expect(logs.join('')).not.toContain(`JWKS fetch from ${REMOTE}`);
  });
});

/**
 * mTLS end to end through `deployer run --istio`: real client certificates minted at test time,
 * the sidecar's mTLS listener hands the peer URI SAN to the built rbac filter
 * (connection.uri_san_peer_certificate), which enforces the translated AuthorizationPolicies.
 */
import https from 'node:https';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../../deployer/src/sidecar/sidecar.js';
import { echoHandler, startUpstream, type TestUpstream } from '../../sidecar/helpers.js';
import { fixtureDir } from './harness.js';
import { mintPki, type TestPki } from './pki.js';

const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';
const OTHER = 'spiffe://cluster.local/ns/foo/sa/other';
const BAR_SLEEP = 'spiffe://cluster.local/ns/bar/sa/sleep';

interface Reply { readonly status: number; readonly body: string }

function mtlsRequest(url: string, pki: TestPki, identity: string, method: string, requestPath: string): Promise<Reply> {
  const client = pki.clients.get(identity)!;
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}${requestPath}`, { method, ca: pki.ca, cert: client.cert, key: client.key, agent: false, servername: 'localhost' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rbac: mTLS end to end through deployer run --istio', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    pki = await mintPki([SLEEP, OTHER, BAR_SLEEP]);
    upstream = await startUpstream(echoHandler('httpbin'));
    const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-rbac-run-'));
    const configFile = path.join(dir, 'sidecar.yaml');
    await writeFile(configFile, stringify({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      workers: 1,
      tls: { cert: pki.serverCertFile, key: pki.serverKeyFile, client_ca: pki.caFile },
      filters: [],
      clusters: { httpbin: upstream.url },
      routes: [{ name: 'all', match: { prefix: '/' }, cluster: 'httpbin' }],
    }));
    sidecar = await runSidecarCommand({
      config: configFile, accessLog: path.join(dir, 'access.log'), logLevel: 'error',
      istio: path.join(fixtureDir, 'istio', 'mesh-policies.yaml'), namespace: 'foo', workloadLabels: 'app=httpbin',
    });
  }, 60_000);
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it.each([
    ['foo/sleep GET /headers → 200 from the upstream', SLEEP, 'GET', '/headers', 200],
    ['foo/sleep GET /status/418 → 200 (dry-run DENY only counted)', SLEEP, 'GET', '/status/418', 200],
    ['foo/sleep POST /headers → 403', SLEEP, 'POST', '/headers', 403],
    ['foo/other GET /headers → 403', OTHER, 'GET', '/headers', 403],
    ['bar/sleep GET /headers → 403 (principal includes the namespace)', BAR_SLEEP, 'GET', '/headers', 403],
    ['foo/sleep GET /public/../headers → normalized, 200', SLEEP, 'GET', '/public/../headers', 200],
  ])('rbac: onRequestHeaders with a client certificate: %s', async (_name, identity, method, requestPath, status) => {
    const reply = await mtlsRequest(sidecar.url, pki, identity, method, requestPath);
    expect(reply.status).toBe(status);
    if (status === 403) expect(reply.body).toBe('RBAC: access denied');
    if (status === 200) expect(JSON.parse(reply.body)).toMatchObject({ upstream: 'httpbin', method });
  });
});

/**
 * End to end through `deployer run --istio --mesh-config` (built rbac module, real sockets):
 * an ext_authz HTTP server on loopback reached through the Istio cluster name the translator
 * writes (`outbound|8000||ext-authz.foo.svc.cluster.local`, mapped with --cluster), and
 * DECODE_AND_MERGE_SLASHES closing the `%2F` bypass of a DENY path rule (CVE-2021-31920).
 */
import type http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { repoRoot } from '../setup/paths.js';
import { echoHandler, request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from './helpers.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'istio-mesh');
const policies = path.join(fixtures, 'policies');
const meshConfig = path.join(fixtures, 'valid', 'configmap.yaml');
const EXT_AUTHZ_CLUSTER = 'outbound|8000||ext-authz.foo.svc.cluster.local';

/** Allows `x-ext-authz: allow` (telling the upstream who it is), denies anything else with its own body. */
function extAuthzHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.headers['x-ext-authz'] === 'allow') {
    res.writeHead(200, { 'x-user': 'alice', 'content-length': '0' }).end();
    return;
  }
  res.writeHead(403, { 'content-type': 'text/plain', 'content-length': '19' }).end('denied by ext-authz');
}

async function startRun(extra: { readonly istio?: string; readonly meshConfig?: string; readonly cluster?: readonly string[]; readonly allowEmpty?: boolean }, app: TestUpstream): Promise<RunningSidecar> {
  const config = await writeSidecarYaml({
    listen: '127.0.0.1:0', admin: '127.0.0.1:0',
    clusters: { app: app.url },
    routes: [{ match: { prefix: '/' }, cluster: 'app' }],
  });
  return runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'error', namespace: 'shop', workloadLabels: 'app=cart', ...extra });
}

describe('e2e: deployer run --istio --mesh-config with a loopback ext_authz server', () => {
  let app: TestUpstream;
  let authz: TestUpstream;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    app = await startUpstream(echoHandler('cart'));
    authz = await startUpstream(extAuthzHandler);
    sidecar = await startRun({ istio: policies, meshConfig, cluster: [`${EXT_AUTHZ_CLUSTER}=${authz.url}`] }, app);
  });
  afterAll(async () => {
    await sidecar?.close();
    await authz?.close();
    await app?.close();
  });

  it('rbac: onConfigure gets the mesh settings and the ext_authz cluster maps to the --cluster endpoint', () => {
    expect(sidecar.config.filters.map((f) => f.name)).toEqual(['rbac', 'metrics']);
    expect(JSON.parse(sidecar.config.filters[0]!.configuration)).toMatchObject({ pathNormalization: 'DECODE_AND_MERGE_SLASHES', remoteIpTrustedHops: 2 });
    expect(sidecar.config.clusters.get(EXT_AUTHZ_CLUSTER)?.url.href).toBe(`${authz.url}/`);
  });

  it.each<{ name: string; path: string; headers: Record<string, string>; status: number; body: string | undefined }>([
    { name: 'authorizer allows', path: '/api/items', headers: { 'x-ext-authz': 'allow' }, status: 200, body: undefined },
    { name: 'authorizer denies', path: '/api/items', headers: { 'x-ext-authz': 'deny' }, status: 403, body: 'denied by ext-authz' },
    { name: 'authorizer denies (no header)', path: '/api/items', headers: {}, status: 403, body: 'denied by ext-authz' },
    { name: 'not under the CUSTOM rule', path: '/products', headers: {}, status: 200, body: undefined },
    { name: 'DENY path', path: '/admin/users', headers: {}, status: 403, body: 'RBAC: access denied' },
    { name: '%2F decoded before matching', path: '/admin%2Fusers', headers: {}, status: 403, body: 'RBAC: access denied' },
    { name: '%2f (lower case) decoded too', path: '/admin%2fusers', headers: {}, status: 403, body: 'RBAC: access denied' },
    { name: 'merged slashes', path: '//admin//users', headers: {}, status: 403, body: 'RBAC: access denied' },
  ])('rbac: onRequestHeaders $path → $status ($name)', async ({ path: requestPath, headers, status, body }) => {
    const before = app.requests.length;
    const res = await request1(`${sidecar.url}${requestPath}`, { headers });
    expect(res.status).toBe(status);
    if (body !== undefined) expect(res.body).toBe(body);
    expect(app.requests.length).toBe(before + (status === 200 ? 1 : 0));
  });

  it('rbac: onRequestHeaders forwards the authorizer\'s headersToUpstreamOnAllow and asks it with the normalized path', async () => {
    const asked = authz.requests.length;
    const res = await request1(`${sidecar.url}/api//items%2Fone`, { headers: { 'x-ext-authz': 'allow', 'x-user': 'mallory' } });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    expect(seen.headers['x-user']).toBe('alice');
    expect(seen.url).toBe('/api/items/one');
    expect(authz.requests[asked]?.url).toBe('/api/items/one');
  });
});

describe('e2e: deployer run --istio --mesh-config without a reachable authorizer', () => {
  let app: TestUpstream;

  beforeAll(async () => { app = await startUpstream(echoHandler('cart')); });
  afterAll(async () => { await app?.close(); });

  it('rbac: onRequestHeaders denies (fail closed) when the Kubernetes service name is not mapped', async () => {
    const sidecar = await startRun({ istio: policies, meshConfig }, app);
    try {
      // The cluster the filter calls is added from the provider, under the name Istio gives it.
      expect(sidecar.config.clusters.get(EXT_AUTHZ_CLUSTER)?.url.href).toBe('http://ext-authz.foo.svc.cluster.local:8000/');
      const res = await request1(`${sidecar.url}/api/items`, { headers: { 'x-ext-authz': 'allow' } });
      expect(res.status).toBe(403);
      expect(app.requests.length).toBe(0);
    } finally {
      await sidecar.close();
    }
  });

  it('rbac: without --mesh-config (BASE normalization) %2F slips past the DENY rule, which --mesh-config closes', async () => {
    const sidecar = await startRun({ istio: path.join(policies, 'deny-admin.yaml') }, app);
    try {
      expect((await request1(`${sidecar.url}/admin%2Fusers`)).status).toBe(200);
      expect((await request1(`${sidecar.url}/admin/users`)).status).toBe(403);
    } finally {
      await sidecar.close();
    }
  });

  it('run: a CUSTOM policy without --mesh-config is refused at start (no provider)', async () => {
    await expect(startRun({ istio: policies }, app)).rejects.toThrow('CUSTOM provider "ext-authz-http" is not defined');
  });

  it.each([
    { cluster: ['no-equals-sign'], error: '--cluster "no-equals-sign": expected name=http://host:port' },
    { cluster: ['x=ftp://127.0.0.1:9000'], error: '--cluster "x=ftp://127.0.0.1:9000": unsupported scheme "ftp:"' },
    { cluster: ['x=http://127.0.0.1:1', 'x=http://127.0.0.1:2'], error: '--cluster: "x" is given twice' },
  ])('run: --cluster $cluster is refused', async ({ cluster, error }) => {
    await expect(startRun({ istio: policies, meshConfig, cluster }, app)).rejects.toThrow(error);
  });

  it('run: --cluster replaces a cluster of the sidecar config, also without --istio', async () => {
    const other = await startUpstream(echoHandler('other'));
    const sidecar = await startRun({ cluster: [`app=${other.url}`] }, app);
    const before = app.requests.length;
    try {
      const res = await request1(`${sidecar.url}/anything`);
      expect((JSON.parse(res.body) as { upstream: string }).upstream).toBe('other');
      expect(app.requests.length).toBe(before);
    } finally {
      await sidecar.close();
      await other.close();
    }
  });

  it.each([
    // Nothing applies then: run refuses that unless --allow-empty (issue #10), so it is given here.
    { meshConfig: undefined, status: 200, why: 'istio-system is the root namespace: the mesh-root policy is for another namespace' },
    { meshConfig: path.join(fixtures, 'valid', 'mesh-key-nested.yaml'), status: 403, why: 'rootNamespace: mesh-root makes it mesh-wide' },
  ])('rbac: a policy in namespace mesh-root → $status ($why)', async ({ meshConfig: mesh, status }) => {
    const sidecar = await startRun({ istio: path.join(fixtures, 'root-namespace'), ...(mesh ? { meshConfig: mesh } : { allowEmpty: true }) }, app);
    try {
      expect((await request1(`${sidecar.url}/admin/users`)).status).toBe(status);
    } finally {
      await sidecar.close();
    }
  });
});

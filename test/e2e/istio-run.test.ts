import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import { appliesToWorkload, parseWorkloadLabels } from '../../deployer/src/sidecar/istio-chain.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import type { IstioResource } from '../../deployer/src/translate/index.js';
import { builtFilter, repoRoot } from '../setup/paths.js';
import { echoHandler, request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { jwks, makeKey, mint } from '../filters/jwt-auth/tokens.js';
import { writeSidecarYaml } from './helpers.js';

const policies = path.join(repoRoot, 'test', 'fixtures', 'sidecar', 'istio');

const resource = (namespace: string | undefined, spec: Record<string, unknown>): IstioResource => ({
  apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace }, spec: spec as IstioResource['spec'],
});

describe('Istio workload selection for deployer run --istio', () => {
  it.each([
    { name: 'same namespace, matching selector', r: resource('shop', { selector: { matchLabels: { app: 'cart' } } }), applies: true },
    { name: 'same namespace, no selector', r: resource('shop', {}), applies: true },
    { name: 'root namespace (mesh-wide)', r: resource('istio-system', {}), applies: true },
    { name: 'no namespace (taken as the workload\'s)', r: resource(undefined, {}), applies: true },
    { name: 'other namespace', r: resource('billing', {}), applies: false },
    { name: 'selector for another workload', r: resource('shop', { selector: { matchLabels: { app: 'payments' } } }), applies: false },
    { name: 'selector needing a label the workload lacks', r: resource('shop', { selector: { matchLabels: { app: 'cart', tier: 'gold' } } }), applies: false },
    { name: 'targetRefs (gateways/waypoints only)', r: resource('shop', { targetRefs: [{ kind: 'Gateway', name: 'gw' }] }), applies: false },
  ])('$name → $applies', ({ r, applies }) => {
    expect(appliesToWorkload(r, 'shop', { app: 'cart', version: 'v1' }, 'istio-system')).toBe(applies);
  });

  it.each([
    ['app=cart,version=v1', { app: 'cart', version: 'v1' }],
    [' app = cart ', { 'app ': ' cart' }],
    ['', {}],
  ])('parses --workload-labels %j', (text, labels) => {
    expect(parseWorkloadLabels(text)).toEqual(labels);
  });

  it('refuses a label without =', () => {
    expect(() => parseWorkloadLabels('app=cart,broken')).toThrow('--workload-labels: "broken" is not key=value; expected e.g. app=cart,version=v1');
  });
});

describe('e2e: deployer run --istio builds the chain from AuthorizationPolicy resources', () => {
  let upstream: TestUpstream;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    upstream = await startUpstream(echoHandler('cart'));
    const config = await writeSidecarYaml({
      listen: '127.0.0.1:0', admin: '127.0.0.1:0',
      filters: [{ name: 'example', root_id: 'example', vm_config: { code: { local: { filename: builtFilter('example') } } } }],
      clusters: { app: upstream.url },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    });
    sidecar = await runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'error', istio: policies, namespace: 'shop', workloadLabels: 'app=cart,version=v1' });
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it('puts the translated rbac filter before the config\'s own filters, and the metrics filter last', () => {
    expect(sidecar.config.filters.map((f) => f.name)).toEqual(['rbac', 'example', 'metrics']);
  });

  it.each([
    { path: '/admin/users', status: 403, why: 'denied by shop/deny-admin (selects app=cart)' },
    { path: '/products', status: 200, why: 'policies for app=payments and namespace billing do not apply' },
  ])('rbac: $path → $status ($why)', async ({ path: requestPath, status }) => {
    const res = await request1(`${sidecar.url}${requestPath}`);
    expect(res.status).toBe(status);
    expect(res.headers['x-wasmesh-example']).toBe('hello');
  });
});

describe('e2e: deployer run --istio with a wrong or missing --namespace (issue #10)', () => {
  let upstream: TestUpstream;
  let config: string;
  let stderr: string[];
  let restore: () => void;

  beforeAll(async () => {
    upstream = await startUpstream(echoHandler('cart'));
    config = await writeSidecarYaml({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] });
  });
  afterAll(async () => { await upstream?.close(); });
  beforeEach(() => {
    stderr = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { stderr.push(String(chunk)); return true; });
    restore = () => spy.mockRestore();
  });
  afterEach(() => restore());

  it.each([
    { name: 'a wrong --namespace', namespace: 'shopp' },
    { name: 'no --namespace (default)', namespace: 'default' },
  ])('run: $name with resources read and none applying refuses to start, saying what was read and why', async ({ namespace }) => {
    await expect(runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'error', istio: policies, namespace, workloadLabels: 'app=cart' }))
      .rejects.toThrow(new RegExp(`3 resources read; 0 apply to ${namespace}/app=cart; 3 skipped: namespace shop .*shop/deny-admin.*namespace billing .*--allow-empty`));
  });

  it('run: --allow-empty starts anyway, and prints what was read and what applies', async () => {
    const sidecar = await runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'error', istio: policies, namespace: 'shopp', workloadLabels: 'app=cart', allowEmpty: true });
    try {
      // No policy filter; metrics still reports, as every Istio sidecar does (--no-metrics leaves it out).
      expect(sidecar.config.filters.map((f) => f.name)).toEqual(['metrics']);
      expect(stderr.join('')).toContain('deployer run: --istio ' + policies + ': 3 resources read; 0 apply to shopp/app=cart; 3 skipped: namespace shop');
    } finally {
      await sidecar.close();
    }
  });

  it('run: a Gateway API gateway workload takes the policies whose targetRefs name it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'istio-run-gateway-'));
    writeFileSync(path.join(dir, 'gateway.yaml'), readFileSync(path.join(repoRoot, 'test', 'fixtures', 'istio-scope', 'gateway-and-sidecar.yaml'), 'utf8'));
    const sidecar = await runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'error', istio: dir, namespace: 'bookinfo', workloadLabels: 'gateway.networking.k8s.io/gateway-name=bookinfo-gateway' });
    try {
      expect(sidecar.config.filters.map((f) => f.name)).toEqual(['rbac', 'metrics']);
      expect((await request1(`${sidecar.url}/debug/vars`)).status).toBe(403);
      expect((await request1(`${sidecar.url}/productpage`)).status).toBe(200);
    } finally {
      await sidecar.close();
    }
  });

  it('run: the right namespace prints what applies and what was left out', async () => {
    const sidecar = await runSidecarCommand({ config, accessLog: '/dev/null', logLevel: 'error', istio: policies, namespace: 'shop', workloadLabels: 'app=cart' });
    try {
      expect(stderr.join('')).toContain('3 resources read; 1 applies to shop/app=cart (AuthorizationPolicy shop/deny-admin); 2 skipped: selector app=payments (AuthorizationPolicy shop/deny-everything-payments); namespace billing (AuthorizationPolicy billing/deny-all-elsewhere)');
    } finally {
      await sidecar.close();
    }
  });
});

describe('e2e: deployer run --istio adds the JWKS cluster of a RequestAuthentication', () => {
  const ISSUER = 'https://idp.loopback.test';
  const key = makeKey('ES256', 'k1');
  let idp: TestUpstream;
  let app: TestUpstream;
  let sidecar: RunningSidecar;
  let clusterName: string;

  const writePolicy = (jwksUri: string): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'istio-run-jwks-'));
    const file = path.join(dir, 'request-authentication.yaml');
    writeFileSync(file, stringify({
      apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'cart-jwt', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'cart' } }, jwtRules: [{ issuer: ISSUER, jwksUri, audiences: ['cart'], outputClaimToHeaders: [{ header: 'x-jwt-sub', claim: 'sub' }] }] },
    }));
    return file;
  };
  const sidecarYaml = (clusters: Record<string, string>) => writeSidecarYaml({
    listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
  });
  const token = (sub: string): string => mint(key, { iss: ISSUER, sub, aud: 'cart', exp: Math.floor(Date.now() / 1000) + 300 });

  beforeAll(async () => {
    idp = await startUpstream((req, res) => {
      const body = jwks(key);
      if (req.url !== '/.well-known/jwks.json') res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
    app = await startUpstream(echoHandler('cart'));
    clusterName = `outbound|${idp.port}||127.0.0.1`;
    // The sidecar config declares only the app cluster: the JWKS one comes from the jwksUri.
    sidecar = await runSidecarCommand({
      config: await sidecarYaml({ app: app.url }), accessLog: '/dev/null', logLevel: 'error',
      istio: writePolicy(`http://127.0.0.1:${idp.port}/.well-known/jwks.json`), namespace: 'shop', workloadLabels: 'app=cart',
    });
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
    await idp?.close();
  });

  it('jwt-auth: onConfigure\'s jwks_cluster is a cluster of the sidecar, pointing at the jwksUri host and port', () => {
    expect(sidecar.config.filters.map((f) => f.name)).toEqual(['jwt-auth', 'metrics']);
    expect(sidecar.config.clusters.get(clusterName)?.url.href).toBe(`${idp.url}/`);
  });

  it.each([
    { name: 'a valid token', authorization: () => `Bearer ${token('alice')}`, status: 200, sub: 'alice' },
    { name: 'no token (Istio: optional)', authorization: () => undefined, status: 200, sub: undefined },
    { name: 'a forged signature', authorization: () => `Bearer ${token('alice').split('.').slice(0, 2).join('.')}.${'A'.repeat(86)}`, status: 401, sub: undefined },
  ])('jwt-auth: onRequestHeaders with $name → $status, keys fetched through the added cluster', async ({ authorization, status, sub }) => {
    const value = authorization();
    const res = await request1(`${sidecar.url}/cart`, { headers: value === undefined ? {} : { authorization: value } });
    expect(res.status).toBe(status);
    if (status === 200) expect((JSON.parse(res.body) as { headers: Record<string, string> }).headers['x-jwt-sub']).toBe(sub);
  });

  it('jwt-auth: an unmapped https jwksUri gets a TLS cluster to its host with SNI, as istiod builds it', async () => {
    // Loopback port 1: nothing listens, so the filter's fetch fails at once and goes nowhere else.
    const uri = 'https://localhost:1/.well-known/jwks.json';
    const tlsSidecar = await runSidecarCommand({
      config: await sidecarYaml({ app: app.url }), accessLog: '/dev/null', logLevel: 'error', istio: writePolicy(uri), namespace: 'shop', workloadLabels: 'app=cart',
    });
    try {
      const cluster = tlsSidecar.config.clusters.get('outbound|1||localhost');
      expect(cluster?.url.href).toBe('https://localhost:1/');
      expect(cluster?.tls).toEqual({ sni: 'localhost' });
    } finally {
      await tlsSidecar.close();
    }
  });

  it.each([
    { name: '--cluster', declared: {}, cluster: (url: string) => [`outbound|443||idp.example.com=${url}`] },
    { name: 'a cluster declared in the sidecar config', declared: (url: string) => ({ 'outbound|443||idp.example.com': url }), cluster: () => [] },
  ])('jwt-auth: an https jwksUri mapped with $name verifies tokens against the local endpoint', async ({ declared, cluster }) => {
    const mapped = await runSidecarCommand({
      config: await sidecarYaml({ app: app.url, ...(typeof declared === 'function' ? declared(idp.url) : declared) }),
      accessLog: '/dev/null', logLevel: 'error', istio: writePolicy('https://idp.example.com/.well-known/jwks.json'), namespace: 'shop', workloadLabels: 'app=cart',
      cluster: cluster(idp.url),
    });
    try {
      expect(mapped.config.clusters.get('outbound|443||idp.example.com')?.url.href).toBe(`${idp.url}/`);
      const res = await request1(`${mapped.url}/cart`, { headers: { authorization: `Bearer ${token('bob')}` } });
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as { headers: Record<string, string> }).headers['x-jwt-sub']).toBe('bob');
    } finally {
      await mapped.close();
    }
  });
});

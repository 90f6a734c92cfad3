/**
 * CUSTOM against a real HTTP authorizer on loopback, through the host's real
 * HttpClusterDispatcher (proxy_http_call → node:http), including the provider timeout.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilterChain, HeadersOutcome } from '../../../deployer/src/host/api.js';
import { HttpClusterDispatcher, createProxyWasmHost, type WasmProxyHost } from '../../../deployer/src/host/host.js';
import { builtFilter } from '../../setup/paths.js';
import { connectionFor, headersFor, readFixture, type DecisionFixture, type RequestSpec } from './harness.js';

const fixture = readFixture<DecisionFixture>('custom-ext-authz.json');
const CLUSTER = 'outbound|8000||ext-authz.foo.svc.cluster.local';

/** The sample ext-authz server's contract (istio samples/extauthz): x-ext-authz: allow → 200. */
function startAuthorizer(): Promise<{ server: http.Server; url: string; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ ...req.headers, ':path': req.url ?? '' });
    const verdict = req.headers['x-ext-authz'];
    if (verdict === 'slow') { setTimeout(() => { res.writeHead(200); res.end(); }, 2_000).unref(); return; }
    if (verdict === 'allow') { res.writeHead(200, { 'x-ext-authz-check-result': 'allowed' }); res.end(); return; }
    res.writeHead(403, { 'x-ext-authz-check-result': 'denied', 'content-type': 'text/plain' });
    res.end('denied by ext_authz for header `x-ext-authz: allow`');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen });
  }));
}

describe('rbac: CUSTOM ext_authz against a real loopback authorizer', () => {
  let authorizer: Awaited<ReturnType<typeof startAuthorizer>>;
  let host: WasmProxyHost;
  let chain: FilterChain;

  beforeAll(async () => {
    authorizer = await startAuthorizer();
    host = createProxyWasmHost({ clusters: new HttpClusterDispatcher({ clusters: { [CLUSTER]: authorizer.url } }), logLevel: 'warn', onLog: () => undefined });
    const plugin = await host.loadPlugin({ name: 'rbac', rootId: 'rbac', wasm: new Uint8Array(readFileSync(builtFilter('rbac'))), configuration: JSON.stringify(fixture.config), failOpen: false });
    chain = host.newFilterChain([plugin]);
  });
  afterAll(async () => {
    await host.close();
    await new Promise((resolve) => authorizer.server.close(resolve));
  });

  function send(request: RequestSpec): Promise<HeadersOutcome> {
    const stream = chain.newStream({ connection: connectionFor(request), protocol: 'HTTP/1.1' });
    return stream.requestHeaders(headersFor(request), true);
  }

  it('rbac: onHttpCallResponse 200 from the authorizer allows and forwards its header', async () => {
    const outcome = await send({ path: '/secure/a', headers: { 'x-ext-authz': 'allow' } });
    expect(outcome.action).toBe('continue');
    if (outcome.action !== 'continue') return;
    expect(outcome.headers).toContainEqual(['x-ext-authz-check-result', 'allowed']);
    const seen = authorizer.seen.at(-1)!;
    expect(seen[':path']).toBe('/check/secure/a');
    expect(seen['x-ext-authz-source']).toBe('wasmesh');
  });

  it('rbac: onHttpCallResponse 403 from the authorizer denies with its body', async () => {
    const outcome = await send({ path: '/secure/a', headers: { 'x-ext-authz': 'deny' } });
    expect(outcome.action).toBe('localReply');
    if (outcome.action !== 'localReply') return;
    expect(outcome.reply.status).toBe(403);
    expect(new TextDecoder().decode(outcome.reply.body)).toContain('denied by ext_authz');
    expect(outcome.reply.headers).toContainEqual(['x-ext-authz-check-result', 'denied']);
  });

  it('rbac: onHttpCallResponse timeout (authorizer slower than 0.25s) denies: fail closed', async () => {
    const started = Date.now();
    const outcome = await send({ path: '/secure/a', headers: { 'x-ext-authz': 'slow' } });
    expect(outcome.action).toBe('localReply');
    if (outcome.action !== 'localReply') return;
    expect(outcome.reply.status).toBe(403);
    expect(Date.now() - started).toBeLessThan(1_900);
  });

  it('rbac: onHttpCallResponse unreachable authorizer denies: fail closed', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = http.createServer().listen(0, '127.0.0.1', () => {
        const port = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    const deadHost = createProxyWasmHost({ clusters: new HttpClusterDispatcher({ clusters: { [CLUSTER]: `http://127.0.0.1:${closedPort}` } }), logLevel: 'error', onLog: () => undefined });
    const plugin = await deadHost.loadPlugin({ name: 'rbac', rootId: 'rbac', wasm: new Uint8Array(readFileSync(builtFilter('rbac'))), configuration: JSON.stringify(fixture.config), failOpen: false });
    const stream = deadHost.newFilterChain([plugin]).newStream({ connection: connectionFor({}), protocol: 'HTTP/1.1' });
    const outcome = await stream.requestHeaders(headersFor({ path: '/secure/a', headers: { 'x-ext-authz': 'allow' } }), true);
    expect(outcome.action).toBe('localReply');
    if (outcome.action === 'localReply') expect(outcome.reply.status).toBe(403);
    await deadHost.close();
  });
});

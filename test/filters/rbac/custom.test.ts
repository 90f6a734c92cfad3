/**
 * CUSTOM action through proxy_dispatch_http_call: the check request, 2xx → allow (and copy the
 * allowed headers upstream), anything else → deny with that status, failure/timeout → deny
 * (fail closed); the emulator answers the calls (scripted cluster).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { type DecisionFixture, headersFor, loadRbac, readFixture, connectionFor, type RequestSpec } from './harness.js';

const fixture = readFixture<DecisionFixture>('custom-ext-authz.json');
const CLUSTER = 'outbound|8000||ext-authz.foo.svc.cluster.local';

describe('rbac: CUSTOM ext_authz (scripted authorizer)', () => {
  let emulator: HostEmulator;
  beforeAll(async () => { emulator = await loadRbac(fixture.config); });
  afterAll(async () => { await emulator.close(); });

  function start(request: RequestSpec): { id: number; action: string } {
    const id = emulator.initializeHttpContext({ streamInfo: { connection: connectionFor(request) } });
    const action = emulator.callOnRequestHeaders(id, headersFor(request), true);
    return { id, action };
  }
  const lastCall = () => emulator.getHttpCalls().at(-1)!;

  it('rbac: onRequestHeaders pauses and sends the ext_authz check request', () => {
    const { id, action } = start({ path: '/secure/doc?x=1', headers: { 'x-ext-authz': 'allow', authorization: 'Bearer t', cookie: 'secret' } });
    expect(action).toBe('Pause');
    const call = lastCall();
    expect(call.cluster).toBe(CLUSTER);
    expect(call.timeoutMs).toBe(250);
    const headers = Object.fromEntries(call.headers);
    expect(headers).toMatchObject({ ':method': 'GET', ':path': '/check/secure/doc?x=1', ':authority': 'httpbin.foo.svc.cluster.local',
      'x-ext-authz': 'allow', authorization: 'Bearer t', 'x-ext-authz-source': 'wasmesh', 'content-length': '0' });
    expect(headers['cookie']).toBeUndefined();
    emulator.respondToHttpCall(call.token, [[':status', '200'], ['x-ext-authz-check-result', 'allowed'], ['x-user-id', 'alice'], ['x-other', 'no']]);
    expect(emulator.getCurrentHttpStreamAction(id)).toBe('Continue');
    const forwarded = Object.fromEntries(emulator.getCurrentRequestHeaders(id));
    expect(forwarded['x-ext-authz-check-result']).toBe('allowed');
    expect(forwarded['x-user-id']).toBe('alice');
    expect(forwarded['x-other']).toBeUndefined();
    expect(emulator.getCounterMetric('wasmesh_rbac.policy.foo.ext-authz.allowed')).toBe(1);
    emulator.completeHttpContext(id);
  });

  it.each([
    ['403 with body and selected headers', 403],
    ['401', 401],
    ['503 from the authorizer', 503],
  ])('rbac: onHttpCallResponse non-2xx (%s) denies with that status', (_label, status) => {
    const { id } = start({ path: '/secure/doc', headers: { 'x-ext-authz': 'deny' } });
    emulator.respondToHttpCall(lastCall().token, [[':status', String(status)], ['x-ext-authz-check-result', 'denied'], ['x-internal', 'hidden']], 'denied by ext_authz');
    const reply = emulator.getSentLocalResponse(id)!;
    expect(reply.status).toBe(status);
    expect(new TextDecoder().decode(reply.body)).toBe('denied by ext_authz');
    expect(reply.headers).toContainEqual(['x-ext-authz-check-result', 'denied']);
    expect(reply.headers.find(([n]) => n === 'x-internal')).toBeUndefined();
    emulator.completeHttpContext(id);
  });

  it('rbac: onHttpCallResponse failure (reset or timeout) denies with 403: fail closed', () => {
    const before = emulator.getCounterMetric('wasmesh_rbac.ext_authz_error') ?? 0;
    const { id } = start({ path: '/secure/doc' });
    emulator.failHttpCall(lastCall().token);
    expect(emulator.getSentLocalResponse(id)?.status).toBe(403);
    expect(emulator.getCounterMetric('wasmesh_rbac.ext_authz_error')).toBe(before + 1);
    emulator.completeHttpContext(id);
  });

  it('rbac: onRequestHeaders does not call the authorizer when no CUSTOM rule matches', () => {
    const calls = emulator.getHttpCalls().length;
    const { id, action } = start({ path: '/public' });
    expect(action).toBe('Continue');
    expect(emulator.getHttpCalls().length).toBe(calls);
    emulator.completeHttpContext(id);
  });

  it('rbac: onHttpCallResponse 2xx still goes through DENY policies', () => {
    const { id } = start({ path: '/secure/doc', method: 'DELETE' });
    emulator.respondToHttpCall(lastCall().token, [[':status', '200']]);
    const reply = emulator.getSentLocalResponse(id)!;
    expect(reply.status).toBe(403);
    expect(reply.details).toContain('policy[deny-secure-delete]');
    emulator.completeHttpContext(id);
  });
});

describe('rbac: CUSTOM ext_authz with an unknown cluster', () => {
  it('rbac: onRequestHeaders denies when the ext_authz cluster does not exist', async () => {
    const { HostEmulator } = await import('../../../deployer/src/host/testing/emulator.js');
    const { builtFilter } = await import('../../setup/paths.js');
    const emulator = await HostEmulator.load({ wasm: builtFilter('rbac'), rootId: 'rbac', configuration: JSON.stringify(fixture.config), clusters: ['some-other-cluster'] });
    const id = emulator.initializeHttpContext();
    emulator.callOnRequestHeaders(id, headersFor({ path: '/secure/x' }), true);
    expect(emulator.getSentLocalResponse(id)?.status).toBe(403);
    await emulator.close();
  });
});

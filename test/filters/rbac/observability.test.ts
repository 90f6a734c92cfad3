/**
 * Denial response, debug log naming policy and rule, per-policy and global counters, dry-run
 * shadow counters and AUDIT counters; and the jwt-auth identity hand-over through properties.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { builtFilter } from '../../setup/paths.js';
import { type DecisionFixture, finish, headersFor, loadRbac, readFixture, runRequest } from './harness.js';

describe('rbac: decisions are observable', () => {
  const config = {
    policies: [
      { metadata: { name: 'deny-admin', namespace: 'foo' }, spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/other'] } }] }, { to: [{ operation: { paths: ['/admin*'] } }] }] } },
      { metadata: { name: 'allow-get', namespace: 'foo' }, spec: { action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] } },
      { metadata: { name: 'audit-post', namespace: 'foo' }, spec: { action: 'AUDIT', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] } },
      { metadata: { name: 'dry-deny-get', namespace: 'foo', annotations: { 'istio.io/dry-run': 'true' } }, spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/shadow'] } }] }] } },
    ],
  };
  let emulator: HostEmulator;
  beforeAll(async () => { emulator = await loadRbac(config); });
  afterAll(async () => { await emulator.close(); });

  it("rbac: onRequestHeaders denial is 403 'RBAC: access denied' with Envoy's details and a debug line naming policy and rule", () => {
    const outcome = runRequest(emulator, { path: '/admin/x' });
    expect(outcome.status).toBe(403);
    expect(outcome.body).toBe('RBAC: access denied');
    expect(outcome.details).toBe('rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[1]]');
    expect(emulator.getLogs('debug')).toContain('rbac: denied by ns[foo]-policy[deny-admin]-rule[1]');
    finish(emulator, outcome.id);
  });

  it('rbac: onRequestHeaders counts per policy and globally', () => {
    const before = (name: string) => emulator.getCounterMetric(name) ?? 0;
    const counters = ['wasmesh_rbac.allowed', 'wasmesh_rbac.denied', 'wasmesh_rbac.policy.foo.allow-get.allowed', 'wasmesh_rbac.policy.foo.deny-admin.denied',
      'wasmesh_rbac.policy.foo.audit-post.audited', 'wasmesh_rbac.policy.foo.dry-deny-get.shadow_denied', 'wasmesh_rbac.shadow_allowed', 'wasmesh_rbac.shadow_denied'];
    const start = Object.fromEntries(counters.map((c) => [c, before(c)]));
    for (const request of [{ path: '/ok' }, { path: '/admin' }, { method: 'POST', path: '/x' }, { path: '/shadow' }]) finish(emulator, runRequest(emulator, request).id);
    const delta = Object.fromEntries(counters.map((c) => [c, (emulator.getCounterMetric(c) ?? 0) - start[c]!]));
    expect(delta).toEqual({
      'wasmesh_rbac.allowed': 2, // /ok and /shadow (the DENY on /shadow is dry-run)
      'wasmesh_rbac.denied': 2, // /admin (DENY) and POST (no ALLOW matches)
      'wasmesh_rbac.policy.foo.allow-get.allowed': 2,
      'wasmesh_rbac.policy.foo.deny-admin.denied': 1,
      'wasmesh_rbac.policy.foo.audit-post.audited': 1,
      'wasmesh_rbac.policy.foo.dry-deny-get.shadow_denied': 1,
      'wasmesh_rbac.shadow_allowed': 1, // /ok would still be allowed with the dry-run policy enforced
      'wasmesh_rbac.shadow_denied': 3, // /admin, POST, and /shadow (the dry-run DENY)
    });
  });

  it('rbac: onRequestHeaders dry-run DENY is evaluated but not enforced', () => {
    const outcome = runRequest(emulator, { path: '/shadow' });
    expect(outcome.status).toBe(200);
    finish(emulator, outcome.id);
  });
});

describe('rbac: identity handed over by jwt-auth through properties', () => {
  const fixture = readFixture<DecisionFixture>('decisions-jwt.json');

  it.each([
    ['payload property', { 'wasmesh.jwt.principal': 'testing@secure.istio.io/testing@secure.istio.io', 'wasmesh.jwt.payload': JSON.stringify({ iss: 'testing@secure.istio.io', sub: 'testing@secure.istio.io', groups: ['group1'] }) }, 200],
    ['principal without group claim', { 'wasmesh.jwt.principal': 'testing@secure.istio.io/testing@secure.istio.io', 'wasmesh.jwt.payload': JSON.stringify({ iss: 'testing@secure.istio.io', sub: 'testing@secure.istio.io' }) }, 403],
  ])('rbac: onRequestHeaders reads the JWT identity from the %s', async (_label, properties, status) => {
    const emulator = await HostEmulator.load({ wasm: builtFilter('rbac'), rootId: 'rbac', configuration: JSON.stringify(fixture.config) });
    for (const [key, value] of Object.entries(properties)) emulator.setProperty(key, value);
    const id = emulator.initializeHttpContext();
    emulator.callOnRequestHeaders(id, headersFor({}), true);
    expect(emulator.getSentLocalResponse(id)?.status ?? 200).toBe(status);
    await emulator.close();
  });

  it('rbac: onRequestHeaders prefers the property over the internal header fallback', async () => {
    const emulator = await HostEmulator.load({ wasm: builtFilter('rbac'), rootId: 'rbac', configuration: JSON.stringify(fixture.config) });
    emulator.setProperty('wasmesh.jwt.principal', 'other/other');
    emulator.setProperty('wasmesh.jwt.payload', JSON.stringify({ iss: 'other', sub: 'other' }));
    const id = emulator.initializeHttpContext();
    // A forged header with the allowed identity must not win over what jwt-auth verified.
    emulator.callOnRequestHeaders(id, headersFor({ jwt: { iss: 'testing@secure.istio.io', sub: 'testing@secure.istio.io', groups: ['group1'] } }), true);
    expect(emulator.getSentLocalResponse(id)?.status).toBe(403);
    await emulator.close();
  });
});

describe('rbac: iss and sub from the principal and issuer properties', () => {
  // Istio splits a requestPrincipals value at its last "/": iss "https://issuer.example/team", sub "alice".
  const config = {
    policies: [{ metadata: { name: 'allow-alice', namespace: 'foo' }, spec: { action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: ['https://issuer.example/team/alice'] } }] }] } }],
  };
  const teamAlice = { iss: 'https://issuer.example/team', sub: 'alice' };
  const subWithSlash = { iss: 'https://issuer.example', sub: 'team/alice' };
  it.each([
    ['the issuer property splits the principal exactly (sub with a "/")', { 'wasmesh.jwt.principal': 'https://issuer.example/team/alice', 'wasmesh.jwt.issuer': 'https://issuer.example' }, 403],
    ['the issuer property matches the policy\'s iss', { 'wasmesh.jwt.principal': 'https://issuer.example/team/alice', 'wasmesh.jwt.issuer': 'https://issuer.example/team' }, 200],
    ['an issuer that does not start the principal falls back to the payload', { 'wasmesh.jwt.principal': 'https://issuer.example/team/alice', 'wasmesh.jwt.issuer': 'https://other.example', 'wasmesh.jwt.payload': JSON.stringify(subWithSlash) }, 403],
    ['no issuer property: the payload gives iss and sub', { 'wasmesh.jwt.principal': 'https://issuer.example/team/alice', 'wasmesh.jwt.payload': JSON.stringify(teamAlice) }, 200],
    ['no issuer property: the payload with a "/" in sub', { 'wasmesh.jwt.principal': 'https://issuer.example/team/alice', 'wasmesh.jwt.payload': JSON.stringify(subWithSlash) }, 403],
  ])('rbac: onRequestHeaders with %s', async (_label, properties, status) => {
    const emulator = await loadRbac(config);
    for (const [key, value] of Object.entries(properties)) emulator.setProperty(key, value);
    const id = emulator.initializeHttpContext();
    emulator.callOnRequestHeaders(id, headersFor({}), true);
    expect(emulator.getSentLocalResponse(id)?.status ?? 200).toBe(status);
    await emulator.close();
  });

  it('rbac: onRequestHeaders reads the internal payload header when no property is set (pseudo-header reads otherwise)', async () => {
    const emulator = await loadRbac(config);
    const id = emulator.initializeHttpContext();
    emulator.callOnRequestHeaders(id, headersFor({ jwt: teamAlice }), true);
    expect(emulator.getSentLocalResponse(id)?.status ?? 200).toBe(200);
    const other = emulator.initializeHttpContext();
    emulator.callOnRequestHeaders(other, headersFor({ jwt: subWithSlash }), true);
    expect(emulator.getSentLocalResponse(other)?.status).toBe(403);
    await emulator.close();
  });
});

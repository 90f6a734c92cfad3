/**
 * Workload-scoped jwt-auth configs through the built module: a mesh-wide RequestAuthentication
 * (root namespace) and one for productpage only, rendered as one object, make each proxy accept
 * the issuers of every RequestAuthentication istiod applies to it (pilot/pkg/model/
 * authentication.go getConfigsForWorkload: root and own namespace, selector subset of the labels;
 * pilot/pkg/security/authn/policy_applier.go: their jwtRules merged, token optional).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { nodeForWorkload } from '../../../deployer/src/push/scoped-check.js';
import { parseIstioResources } from '../../../deployer/src/translate/index.js';
import { translateScoped } from '../../../deployer/src/translate/scoped.js';
import { repoRoot } from '../../setup/paths.js';
import { b64url } from './tokens.js';
import { bearer, loadJwtAuth, NOW_S, send } from './filter-harness.js';

const file = path.join(repoRoot, 'test', 'fixtures', 'istio-scope', 'request-authentication-mesh-and-app.yaml');
const resources = parseIstioResources(readFileSync(file, 'utf8'), file);
const [translation] = translateScoped(resources, {}).translations;
const config = translation!.config;

/** An HS256 token signed with the `k` of the fixture's inline JWKS for that issuer. */
function token(issuer: string, kid: string): string {
  const ra = resources.find((r) => (r.spec['jwtRules'] as { issuer: string }[])[0]!.issuer === issuer)!;
  const jwks = JSON.parse((ra.spec['jwtRules'] as { jwks: string }[])[0]!.jwks) as { keys: { k: string }[] };
  const header = b64url(JSON.stringify({ alg: 'HS256', kid }));
  const payload = b64url(JSON.stringify({ iss: issuer, sub: 'alice', exp: NOW_S + 600 }));
  const signature = createHmac('sha256', Buffer.from(jwks.keys[0]!.k, 'base64url')).update(`${header}.${payload}`).digest();
  return `${header}.${payload}.${b64url(signature)}`;
}
const MESH = token('https://idp.mesh.example', 'mesh');
const PARTNER = token('https://idp.partner.example', 'partner');

const emulators: HostEmulator[] = [];
afterAll(async () => { await Promise.all(emulators.map((e) => e.close())); });

async function statusOn(namespace: string, labels: Record<string, string>, jwt: string | undefined): Promise<number> {
  const emu = await loadJwtAuth(config, { node: nodeForWorkload({ namespace, labels }) });
  emulators.push(emu);
  return send(emu, '/', jwt === undefined ? [] : bearer(jwt)).status ?? 200;
}

describe('jwt-auth: workload-scoped config (RequestAuthentication mesh-wide + workload-specific)', () => {
  it('jwt-auth: translate renders one root object whose providers keep their namespace and selector, with no rules', () => {
    expect(translation!.scope).toEqual({ namespace: 'istio-system', selector: {} });
    expect(config['root_namespace']).toBe('istio-system');
    expect(config['rules']).toBeUndefined();
    expect(Object.entries(config['providers'] as Record<string, { namespace: string; selector?: unknown }>).map(([name, p]) => [name, p.namespace, p.selector]))
      .toEqual([['istio-system/mesh-idp/0', 'istio-system', undefined], ['bookinfo/partner-idp/0', 'bookinfo', { app: 'productpage' }]]);
  });

  it.each([
    { w: 'bookinfo/app=productpage', ns: 'bookinfo', labels: { app: 'productpage' }, jwt: PARTNER, status: 200 },
    { w: 'bookinfo/app=productpage', ns: 'bookinfo', labels: { app: 'productpage' }, jwt: MESH, status: 200 },
    { w: 'bookinfo/app=reviews', ns: 'bookinfo', labels: { app: 'reviews' }, jwt: MESH, status: 200 },
    // The partner RequestAuthentication does not apply to reviews: its issuer is unknown there.
    { w: 'bookinfo/app=reviews', ns: 'bookinfo', labels: { app: 'reviews' }, jwt: PARTNER, status: 401 },
    { w: 'other/app=productpage', ns: 'other', labels: { app: 'productpage' }, jwt: PARTNER, status: 401 },
    { w: 'other/app=productpage', ns: 'other', labels: { app: 'productpage' }, jwt: MESH, status: 200 },
    { w: 'bookinfo/app=reviews', ns: 'bookinfo', labels: { app: 'reviews' }, jwt: undefined, status: 200 },
  ])('jwt-auth: onRequestHeaders on $w with a $status token decision', async ({ ns, labels, jwt, status }) => {
    expect(await statusOn(ns, labels, jwt)).toBe(status);
  });

  it('jwt-auth: onRequestHeaders with no applying provider does no JWT processing (istiod adds no jwt filter)', async () => {
    const scoped = { root_namespace: 'istio-system', providers: { 'bookinfo/partner/0': { ...(config['providers'] as Record<string, object>)['bookinfo/partner-idp/0'] } } };
    const emu = await loadJwtAuth(scoped, { node: nodeForWorkload({ namespace: 'bookinfo', labels: { app: 'reviews' } }) });
    emulators.push(emu);
    expect(send(emu, '/', bearer('not-even-a-jwt')).status).toBeUndefined();
  });

  it.each([
    ['no node metadata', undefined, "configuration.root_namespace: a workload-scoped configuration needs the proxy's identity: node metadata NAMESPACE and LABELS"],
  ])('jwt-auth: onConfigure refuses a workload-scoped config with %s (fail closed: every request denied)', async (_name, node, message) => {
    await expect(loadJwtAuth(config, node ? { node } : {})).rejects.toThrow(message);
  });

  it.each([
    ['namespace without root_namespace', { providers: { a: { issuer: 'i', jwks: '{"keys":[]}', namespace: 'ns' } } }, 'providers.a: namespace and selector need root_namespace'],
    ['rules with root_namespace', { ...config, rules: [{ requires: ['istio-system/mesh-idp/0'] }] }, 'configuration.rules: not allowed with root_namespace'],
    ['a provider without namespace', { root_namespace: 'istio-system', providers: { a: { issuer: 'i', jwks: '{"keys":[]}' } } }, 'providers.a.namespace: required string is missing'],
    ['a bad selector', { root_namespace: 'istio-system', providers: { a: { issuer: 'i', jwks: '{"keys":[]}', namespace: 'ns', selector: ['app'] } } }, 'providers.a.selector: expected an object of label name to string value'],
  ])('jwt-auth: onConfigure refuses %s', async (_name, bad, message) => {
    await expect(loadJwtAuth(bad, { node: nodeForWorkload({ namespace: 'ns', labels: { app: 'x' } }) })).rejects.toThrow(message);
  });
});

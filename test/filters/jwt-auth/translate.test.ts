/**
 * deployer translate: RequestAuthentication (v1, v1beta1) → jwt-auth config, checked against
 * Istio semantics, then loaded into the built filter to prove the config is accepted and enforced.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIstioResources, translateResources } from '../../../deployer/src/translate/index.js';
import { requiredJwksClusters, translateRequestAuthentication } from '../../../deployer/src/translate/request-authentication.js';
import { repoRoot } from '../../setup/paths.js';
import { bearer, loadJwtAuth, NOW_S, send } from './filter-harness.js';
import { makeKey, mint, type TestKey } from './tokens.js';

const fixture = (name: string): string => readFileSync(path.join(repoRoot, 'test/fixtures/jwt/istio', name), 'utf8');

describe('jwt-auth: translate RequestAuthentication', () => {
  const [translation] = translateResources(parseIstioResources(fixture('request-authentication-v1.yaml')));

  it('jwt-auth: translate merges every jwtRule of every resource into providers with one allow-missing rule', () => {
    expect(translation?.filter).toBe('jwt-auth');
    expect(translation?.sources).toEqual(['foo/jwt-example', 'foo/inline']);
    expect(translation?.config).toEqual({
      providers: {
        'foo/jwt-example/0': {
          issuer: 'https://idp.example.com',
          audiences: ['httpbin', 'api'],
          jwks_uri: 'https://idp.example.com:8443/.well-known/jwks.json',
          jwks_cluster: 'outbound|8443||idp.example.com',
          jwks_timeout_ms: 2000,
          from_headers: [{ name: 'x-jwt-assertion', value_prefix: 'Bearer ' }],
          from_params: ['token'],
          forward_original_token: true,
          output_payload_to_header: 'x-jwt-payload',
          output_claim_to_headers: [{ header: 'x-jwt-sub', claim: 'sub' }, { header: 'x-jwt-tenant', claim: 'org.tenant' }],
        },
        'foo/inline/0': {
          issuer: 'testing@secure.istio.io',
          jwks: '{"keys":[{"kty":"oct","kid":"k","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}',
          from_cookies: ['session'],
        },
      },
      rules: [{ match: { prefix: '/' }, requires: ['foo/jwt-example/0', 'foo/inline/0'], allow_missing: true }],
    });
  });

  it('jwt-auth: translate lists the JWKS clusters the sidecar must provide', () => {
    expect(requiredJwksClusters(translation!.config)).toEqual([
      { name: 'outbound|8443||idp.example.com', url: 'https://idp.example.com:8443/.well-known/jwks.json', host: 'idp.example.com', port: 8443, tls: true },
    ]);
  });

  it.each([
    ['request-authentication-no-jwks.yaml', 'neither jwks nor jwksUri is set'],
    ['request-authentication-target-ref.yaml', 'targetRef/targetRefs select gateways or waypoints'],
    ['request-authentication-bad-jwks.yaml', 'jwtRules[0].jwks: not valid JSON'],
    ['request-authentication-space-delimited.yaml', 'spaceDelimitedClaims: not supported'],
  ])('jwt-auth: translate refuses %s', (file, message) => {
    expect(() => translateResources(parseIstioResources(fixture(file)))).toThrow(message);
  });

  it.each([
    ['a jwtRule without issuer', 'spec: {jwtRules: [{audiences: [a], jwksUri: "https://i/j"}]}', 'jwtRules[0].issuer: required'],
    ['a field the CRD does not know', 'spec: {jwtRules: [{issuer: i, jwksUri: "https://i/j", jwksUrl: x}]}', 'RequestAuthentication "x" is invalid'],
  ])('jwt-auth: translate rejects %s', (_name, spec, message) => {
    const yaml = `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: x, namespace: y}\n${spec}\n`;
    expect(() => translateResources(parseIstioResources(yaml))).toThrow(message);
  });

  it('jwt-auth: the translated config is accepted by the built filter and follows Istio semantics', async () => {
    const key: TestKey = makeKey('HS256', 'k');
    const secret = Buffer.from('AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow', 'base64url');
    const istioKey: TestKey = { ...key, secret };
    const config = translateRequestAuthentication(parseIstioResources(fixture('request-authentication-v1.yaml')).filter((r) => r.metadata.name === 'inline'));
    const emu = await loadJwtAuth(config);
    const token = mint(istioKey, { iss: 'testing@secure.istio.io', sub: 'u', exp: NOW_S + 60 });
    expect(send(emu, '/').action).toBe('Continue'); // no token: passes unauthenticated
    expect(send(emu, '/', [['cookie', `session=${token}`]]).principal).toBe('testing@secure.istio.io/u');
    expect(send(emu, '/', [['cookie', 'session=bad.token.here']]).status).toBe(401); // invalid token: rejected
    expect(send(emu, '/', bearer(token)).action).toBe('Continue'); // not a configured location: unauthenticated
  });
});

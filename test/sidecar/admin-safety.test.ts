/**
 * Issue #16 finding 8: `/config_dump` answers without authentication, so secret material in the
 * configuration is redacted as Envoy redacts sensitive fields ("[redacted]"); the admin listener
 * binds loopback by default and warns when bound elsewhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { validateSidecarConfig } from '../../deployer/src/sidecar/config/validate.js';
import { REDACTED, redactSecrets } from '../../deployer/src/sidecar/redact.js';
import { isLoopback } from '../../deployer/src/sidecar/sidecar.js';
import { builtFilter, repoRoot } from '../setup/paths.js';
import { sidecarConfig, startTestSidecar, type StartedSidecar } from './helpers.js';

const HMAC_K = 'c2VjcmV0LWhtYWMta2V5LXRoYXQtaXMtMzItYnl0ZXMhIQ';
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

describe('redactSecrets', () => {
  it.each([
    ['the k of an oct JWK', { keys: [{ kty: 'oct', kid: 'a', alg: 'HS256', k: HMAC_K }] }, { keys: [{ kty: 'oct', kid: 'a', alg: 'HS256', k: REDACTED }] }],
    ['the private members of an RSA JWK, not its public ones', { kty: 'RSA', n: 'nnn', e: 'AQAB', d: 'ddd', p: 'ppp', q: 'qqq', dp: 'x', dq: 'y', qi: 'z' },
      { kty: 'RSA', n: 'nnn', e: 'AQAB', d: REDACTED, p: REDACTED, q: REDACTED, dp: REDACTED, dq: REDACTED, qi: REDACTED }],
    ['a JWKS given as JSON text (kept as text)', { jwks: JSON.stringify({ keys: [{ kty: 'oct', k: HMAC_K }] }) }, { jwks: JSON.stringify({ keys: [{ kty: 'oct', k: REDACTED }] }) }],
    ['fields named as secrets, whole subtrees included', { client_secret: 's', api_key: 'k', password: 'p', credentials: { user: 'u', pass: 'p' }, headers: { authorization: 'Bearer abc', cookie: 'sid=1', accept: '*/*' } },
      { client_secret: REDACTED, api_key: REDACTED, password: REDACTED, credentials: { user: REDACTED, pass: REDACTED }, headers: { authorization: REDACTED, cookie: REDACTED, accept: '*/*' } }],
    ['a PEM private key wherever it is', { tls: { key_pem: PEM, note: 'x' }, list: [PEM] }, { tls: { key_pem: REDACTED, note: 'x' }, list: [REDACTED] }],
    ['nothing that is not a secret (numbers, booleans, header names, "k" outside a JWK)', { max_token_bytes: 8192, forward_original_token: false, from_headers: [{ name: 'authorization', value_prefix: 'Bearer ' }], k: 'v', issuer: 'https://idp' },
      { max_token_bytes: 8192, forward_original_token: false, from_headers: [{ name: 'authorization', value_prefix: 'Bearer ' }], k: 'v', issuer: 'https://idp' }],
  ])('redacts %s', (_name, input, expected) => {
    expect(redactSecrets(input)).toEqual(expected);
  });
});

describe('admin listener safety', () => {
  let sidecar: StartedSidecar | undefined;
  afterEach(async () => { await sidecar?.close(); sidecar = undefined; });

  it('/config_dump shows "[redacted]" for an inline HS256 JWKS k (finding 8), keeps the rest', async () => {
    const jwtConfig = {
      providers: {
        corp: { issuer: 'https://idp.example', jwks: { keys: [{ kty: 'oct', kid: 'h1', alg: 'HS256', k: HMAC_K }] } },
        text: { issuer: 'https://other.example', jwks: JSON.stringify({ keys: [{ kty: 'oct', kid: 'h2', alg: 'HS256', k: HMAC_K }] }) },
      },
      max_token_bytes: 4096,
    };
    sidecar = await startTestSidecar(sidecarConfig({
      filters: [{ name: 'jwt-auth', root_id: 'jwt-auth', vm_config: { code: { local: { filename: builtFilter('jwt-auth') } } }, configuration: jwtConfig }],
      clusters: { app: 'http://127.0.0.1:9' },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }));
    const text = await (await fetch(`${sidecar.adminUrl}/config_dump`)).text();
    expect(text).not.toContain(HMAC_K);
    const dump = JSON.parse(text) as { filters: { configuration: typeof jwtConfig }[] };
    const configuration = dump.filters[0]!.configuration;
    expect(configuration.providers.corp.jwks.keys[0]).toEqual({ kty: 'oct', kid: 'h1', alg: 'HS256', k: REDACTED });
    expect(JSON.parse(configuration.providers.text.jwks).keys[0].k).toBe(REDACTED);
    expect(configuration.max_token_bytes).toBe(4096);
    expect(configuration.providers.corp.issuer).toBe('https://idp.example');
  });

  it('binds the admin listener to 127.0.0.1:15000 by default', () => {
    const config = validateSidecarConfig({ listen: '127.0.0.1:0', clusters: { app: 'http://127.0.0.1:9' }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }, { source: '<test>', baseDir: repoRoot });
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 15000 });
  });

  it('warns when the admin listener is bound to a non-loopback address, not when on loopback', async () => {
    const warnings: string[] = [];
    const base = { clusters: { app: 'http://127.0.0.1:9' }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] };
    sidecar = await startTestSidecar(sidecarConfig(base), { onWarning: (line) => warnings.push(line) });
    expect(warnings).toEqual([]);
    await sidecar.close();
    sidecar = await startTestSidecar(sidecarConfig({ ...base, admin: '0.0.0.0:0' }), { onWarning: (line) => warnings.push(line) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: the admin listener is bound to 0\.0\.0\.0:\d+, not loopback: \/config_dump, \/stats and \/ready answer anyone/);
  });

  it.each([
    ['127.0.0.1', true], ['127.1.2.3', true], ['::1', true], ['[::1]', true], ['localhost', true], ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false], ['::', false], ['10.0.0.1', false], ['128.0.0.1', false], ['::ffff:10.0.0.1', false],
  ])('isLoopback(%s) is %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

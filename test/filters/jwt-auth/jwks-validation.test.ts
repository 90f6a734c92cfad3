/**
 * Issue #16 finding 9, through the built module: a JWKS is validated as a whole (unusable keys
 * dropped with a warning, a JWKS with none refused, the previous keys kept), its size and key
 * count are capped before it is parsed, and the filter's output headers cannot be smuggled in
 * request trailers.
 */
import { describe, expect, it } from 'vitest';
import type { HeaderList } from '../../../deployer/src/host/api.js';
import { jwks, makeKey, mint, type TestKey } from './tokens.js';
import { bearer, loadJwtAuth, NOW_S, send } from './filter-harness.js';

const ISSUER = 'https://idp.example';
const claims = { iss: ISSUER, sub: 'bob', exp: NOW_S + 3600 };
const remote = (extra: Record<string, unknown> = {}) => ({
  crypto: 'wasm',
  providers: { idp: { issuer: ISSUER, jwks_uri: 'https://idp.example/jwks.json', jwks_cluster: 'idp', cache_duration_seconds: 300 } },
  rules: [{ requires: ['idp'] }],
  ...extra,
});
const inline = (keys: unknown, extra: Record<string, unknown> = {}) => ({
  crypto: 'wasm',
  providers: { idp: { issuer: ISSUER, jwks: typeof keys === 'string' ? keys : JSON.stringify(keys), output_claim_to_headers: [{ header: 'x-jwt-sub', claim: 'sub' }], output_payload_to_header: 'x-jwt-payload' } },
  rules: [{ requires: ['idp'] }],
  ...extra,
});
const ok = (body: string): [[string, string][], string] => [[[':status', '200']], body];
const jwkOf = (key: TestKey) => key.jwk;

/** Keys each unusable for what they declare: HMAC shorter than the hash, EC off the curve, unknown kty, RSA under 2048 bits. */
const UNUSABLE: readonly [string, Record<string, string>, RegExp][] = [
  ['an oct key of 3 bytes (the finding: {"kty":"oct","k":"AAAA"})', { kty: 'oct', k: 'AAAA' }, /\[k\] is 3 bytes, shorter than the 256-bit hash of HS256/],
  ['an HS512 key of 32 bytes', { kty: 'oct', alg: 'HS512', k: Buffer.alloc(32, 7).toString('base64url') }, /shorter than the 512-bit hash of HS512/],
  ['an oct key with alg HS1', { kty: 'oct', alg: 'HS1', k: Buffer.alloc(64, 7).toString('base64url') }, /\[alg\] is not HS256, HS384 or HS512/],
  ['an EC key not on the curve', { ...makeKey('ES256', 'ec').jwk, y: Buffer.alloc(32, 1).toString('base64url') }, /not on the curve/],
  ['a key of unknown kty', { kty: 'XYZ', k: 'AAAA' }, /\[kty\] "XYZ" is not supported/],
  ['an RSA key of 1024 bits', makeKey('RS256', 'rsa-1024-fresh', 1024).jwk, /1024|2048/],
  ['an RSA key with exponent 17 (jwt_verify_lib takes only 3 and 65537)', { ...makeKey('RS256', 'rsa').jwk, e: Buffer.from([17]).toString('base64url') }, /\[e\] is not 3 or 65537/],
];

describe('jwt-auth: JWKS validation', () => {
  it.each(UNUSABLE)('jwt-auth: onConfigure refuses an inline JWKS holding only %s, naming the key and why', async (_name, jwk, reason) => {
    const error = await loadJwtAuth(inline({ keys: [jwk] })).then(() => 'accepted', (e: Error) => e.message);
    expect(error).toMatch(/providers\.idp\.jwks: Jwks doesn't have any valid public key: keys\[0\]/);
    expect(error).toMatch(reason);
  });

  it.each(UNUSABLE)('jwt-auth: onConfigure drops %s with a warning and keeps the usable keys', async (_name, jwk, reason) => {
    const good = makeKey('HS256', 'good');
    const emu = await loadJwtAuth(inline({ keys: [jwk, good.jwk] }));
    expect(emu.getLogs('warn').join('\n')).toMatch(new RegExp(`providers\\.idp\\.jwks keys\\[0\\]: .*${reason.source}.*key skipped`));
    expect(send(emu, '/', bearer(mint(good, claims))).action).toBe('Continue');
  });

  it('jwt-auth: onHttpCallResponse keeps the previous keys when a fetched JWKS has no usable key (finding 9)', async () => {
    const emu = await loadJwtAuth(remote());
    const good = makeKey('ES256', 'good');
    emu.respondToHttpCall(emu.getHttpCalls()[0]!.token, ...ok(jwks(good)));
    expect(send(emu, '/', bearer(mint(good, claims))).action).toBe('Continue');
    emu.advanceTimeMs(301_000);
    emu.tick();
    const refresh = emu.getHttpCalls()[1]!;
    emu.respondToHttpCall(refresh.token, ...ok(JSON.stringify({ keys: [{ kty: 'oct', k: 'AAAA' }] })));
    expect(emu.getLogs('warn').join('\n')).toMatch(/providers\.idp: JWKS from https:\/\/idp\.example\/jwks\.json rejected: Jwks doesn't have any valid public key: keys\[0\]: \[k\] is 3 bytes.*keeping the previous keys/);
    expect(emu.getCounterMetric('jwt_authn.jwks_fetch_failed')).toBe(1);
    // A different token than before: verified against the keys, not served from the cache.
    expect(send(emu, '/', bearer(mint(good, { ...claims, sub: 'carol' }))).action).toBe('Continue');
  });
});

describe('jwt-auth: JWKS caps', () => {
  const manyKeys = (n: number) => JSON.stringify({ keys: Array.from({ length: n }, (_, i) => ({ kty: 'oct', kid: `k${i}`, k: Buffer.alloc(32, i).toString('base64url') })) });

  it('jwt-auth: onConfigure refuses an inline JWKS over max_jwks_keys, naming the limit and the provider', async () => {
    const error = await loadJwtAuth(inline(manyKeys(101))).then(() => 'accepted', (e: Error) => e.message);
    expect(error).toContain('providers.idp.jwks: Jwks has 101 keys, more than max_jwks_keys (100)');
    await expect(loadJwtAuth(inline(manyKeys(101), { max_jwks_keys: 200 }))).resolves.toBeDefined();
  });

  it('jwt-auth: onConfigure refuses an inline JWKS over max_jwks_bytes', async () => {
    const text = manyKeys(10);
    const error = await loadJwtAuth(inline(text, { max_jwks_bytes: 256 })).then(() => 'accepted', (e: Error) => e.message);
    expect(error).toContain(`providers.idp.jwks: Jwks has ${Buffer.byteLength(text)} bytes, more than max_jwks_bytes (256)`);
  });

  it.each([
    ['max_jwks_bytes', 63, 'configuration.max_jwks_bytes'],
    ['max_jwks_keys', 0, 'configuration.max_jwks_keys'],
  ])('jwt-auth: onConfigure refuses %s = %s', async (field, value, where) => {
    const error = await loadJwtAuth(inline({ keys: [makeKey('HS256').jwk] }, { [field]: value })).then(() => 'accepted', (e: Error) => e.message);
    expect(error).toContain(where);
  });

  it('jwt-auth: onHttpCallResponse refuses a 9.6 MB / 400k-key JWKS before parsing it and keeps the previous keys', async () => {
    const emu = await loadJwtAuth(remote());
    const good = makeKey('ES256', 'good');
    emu.respondToHttpCall(emu.getHttpCalls()[0]!.token, ...ok(jwks(good)));
    emu.advanceTimeMs(301_000);
    emu.tick();
    const huge = JSON.stringify({ keys: Array.from({ length: 400_000 }, (_, i) => ({ kty: 'oct', kid: `k${i}` })) });
    expect(huge.length).toBeGreaterThan(9_000_000);
    const pagesBefore = Math.max(...emu.getVmMemoryPages());
    emu.respondToHttpCall(emu.getHttpCalls()[1]!.token, ...ok(huge));
    expect(emu.getLogs('warn').join('\n')).toContain(`rejected: Jwks has ${huge.length} bytes, more than max_jwks_bytes (262144) (keeping the previous keys)`);
    // Not copied into the VM: its memory did not grow by the document's size.
    expect(Math.max(...emu.getVmMemoryPages()) - pagesBefore).toBeLessThan(16);
    expect(send(emu, '/', bearer(mint(good, { ...claims, sub: 'dave' }))).action).toBe('Continue');
  });

  it('jwt-auth: onHttpCallResponse refuses a fetched JWKS with more keys than max_jwks_keys', async () => {
    const emu = await loadJwtAuth(remote({ max_jwks_keys: 2 }));
    const keys = [makeKey('ES256', 'a'), makeKey('ES256', 'b'), makeKey('ES256', 'c')];
    emu.respondToHttpCall(emu.getHttpCalls()[0]!.token, ...ok(JSON.stringify({ keys: keys.map(jwkOf) })));
    expect(emu.getLogs('warn').join('\n')).toContain('rejected: Jwks has 3 keys, more than max_jwks_keys (2)');
    expect(send(emu, '/', bearer(mint(keys[0]!, claims))).body).toBe('Jwks remote fetch is failed');
  });
});

describe('jwt-auth: request trailers', () => {
  const key = makeKey('HS256', 'k');
  const trailersAfter = async (config: unknown, headers: HeaderList, trailers: HeaderList) => {
    const emu = await loadJwtAuth(config);
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, [[':method', 'POST'], [':path', '/'], [':authority', 'a'], [':scheme', 'http'], ...headers], false);
    emu.callOnRequestBody(id, 'x', false);
    expect(emu.callOnRequestTrailers(id, trailers)).toBe('Continue');
    return emu.getCurrentRequestTrailers(id).map(([n]) => n);
  };
  const smuggled: HeaderList = [['x-jwt-sub', 'admin'], ['x-jwt-payload', 'e30'], ['x-wasmesh-jwt-payload', 'e30'], ['authorization', 'Bearer forged'], ['x-checksum', 'abc']];

  it('jwt-auth: onRequestTrailers strips the output headers and the token header (forward_original_token false)', async () => {
    expect(await trailersAfter(inline({ keys: [key.jwk] }), bearer(mint(key, claims)), smuggled)).toEqual(['x-checksum']);
  });

  it('jwt-auth: onRequestTrailers keeps the token header when forward_original_token is true, still strips outputs', async () => {
    const config = inline({ keys: [key.jwk] });
    (config.providers.idp as Record<string, unknown>)['forward_original_token'] = true;
    expect(await trailersAfter(config, bearer(mint(key, claims)), smuggled)).toEqual(['authorization', 'x-checksum']);
  });

  it('jwt-auth: onRequestTrailers strips on skipped paths too', async () => {
    const config = { ...inline({ keys: [key.jwk] }), rules: [{ match: { prefix: '/' }, skip: true }] };
    expect(await trailersAfter(config, [], smuggled)).toEqual(['x-checksum']);
  });
});

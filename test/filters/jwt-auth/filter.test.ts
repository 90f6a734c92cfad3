/**
 * jwt-auth through the built module (build/filters/jwt-auth.wasm) in the host emulator:
 * every algorithm on both crypto paths, RFC 7515 examples, the adversarial table, rules,
 * outputs and spoofing, the verified-token cache, configuration refusal.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../setup/paths.js';
import { ALL_ALGS, b64url, jwks, makeKey, mint, signSegments, type JwsAlg, type TestKey } from './tokens.js';
import { bearer, header, loadJwtAuth, NOW_S, send } from './filter-harness.js';
import { loadVerifyHarness } from './harness.js';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';

const ISSUER = 'https://issuer.example';
const keys = new Map<JwsAlg, TestKey>(ALL_ALGS.map((alg) => [alg, makeKey(alg)]));
const key = (alg: JwsAlg): TestKey => keys.get(alg)!;
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ iss: ISSUER, sub: 'alice', aud: ['api', 'other'], exp: NOW_S + 600, iat: NOW_S - 10, org: { tenant: 't-42', size: 7 }, ...extra });

function config(crypto: 'auto' | 'wasm' | 'host', extra: Record<string, unknown> = {}): unknown {
  return {
    crypto,
    providers: {
      main: {
        issuer: ISSUER, audiences: ['api'], jwks: jwks(...keys.values()),
        output_payload_to_header: 'x-jwt-payload',
        output_claim_to_headers: [{ header: 'x-jwt-sub', claim: 'sub' }, { header: 'x-jwt-tenant', claim: 'org.tenant' }, { header: 'x-jwt-size', claim: 'org.size' }],
        ...extra,
      },
    },
    rules: [
      { match: { prefix: '/public' }, skip: true },
      { match: { path: '/optional' }, requires: ['main'], allow_missing: true },
      { match: { prefix: '/' }, requires: ['main'] },
    ],
  };
}

describe.each(['wasm', 'auto'] as const)('jwt-auth (crypto %s)', (crypto) => {
  let emu: HostEmulator;
  beforeAll(async () => { emu = await loadJwtAuth(config(crypto)); });

  it.each(ALL_ALGS)('jwt-auth: onRequestHeaders accepts a valid %s token and hands the identity over', (alg) => {
    const token = mint(key(alg), claims({ sub: `user-${alg}` }));
    const r = send(emu, '/api', bearer(token));
    expect(r.status).toBeUndefined();
    expect(r.action).toBe('Continue');
    expect(r.principal).toBe(`${ISSUER}/user-${alg}`);
    expect(r.issuer).toBe(ISSUER);
    expect(JSON.parse(r.payload ?? '{}')).toMatchObject({ sub: `user-${alg}`, iss: ISSUER });
    expect(header(r, 'x-jwt-payload')).toBe(token.split('.')[1]);
    expect(header(r, 'x-jwt-sub')).toBe(`user-${alg}`);
    expect(header(r, 'x-jwt-tenant')).toBe('t-42');
    expect(header(r, 'x-jwt-size')).toBe('7');
    expect(header(r, 'authorization')).toBeUndefined(); // forward_original_token: false
  });

  it.each(ALL_ALGS)('jwt-auth: onRequestHeaders rejects a %s token with a flipped signature bit', (alg) => {
    const token = mint(key(alg), claims());
    const [h, p, s] = token.split('.');
    const sig = Buffer.from(s!, 'base64url');
    sig[sig.length >> 1]! ^= 0x01;
    const r = send(emu, '/api', bearer(`${h}.${p}.${sig.toString('base64url')}`));
    expect(r.status).toBe(401);
    expect(r.body).toBe('Jwt verification fails');
  });
});

describe('jwt-auth: host crypto path', () => {
  it('jwt-auth: onRequestHeaders verifies RS256/ES256 through verify_signature when the host has it', async () => {
    const emu = await loadJwtAuth(config('host'));
    let calls = 0;
    const { verifySignature } = await import('../../../deployer/src/host/abi/foreign.js');
    emu.setForeignFunction('verify_signature', (args, ctx) => { calls++; return verifySignature(args, ctx); });
    for (const alg of ['RS256', 'RS512', 'ES256', 'ES384'] as const) {
      expect(send(emu, '/api', bearer(mint(key(alg), claims()))).action).toBe('Continue');
    }
    expect(calls).toBe(4);
    for (const alg of ['PS256', 'HS256', 'EdDSA'] as const) {
      expect(send(emu, '/api', bearer(mint(key(alg), claims()))).action).toBe('Continue');
    }
    expect(calls).toBe(4); // algorithms Envoy's verify_signature cannot do stay on the wasm path
  });

  it('jwt-auth: onRequestHeaders falls back to wasm in auto mode when the host lacks verify_signature', async () => {
    const emu = await loadJwtAuth(config('auto'));
    emu.host.services.foreignFunctions.delete('verify_signature');
    expect(send(emu, '/api', bearer(mint(key('RS256'), claims()))).action).toBe('Continue');
    expect(send(emu, '/api', bearer(mint(key('ES256'), claims({ sub: 'b' })))).action).toBe('Continue');
  });

  it('jwt-auth: onRequestHeaders fails closed in host mode when the host lacks verify_signature', async () => {
    const emu = await loadJwtAuth(config('host'));
    emu.host.services.foreignFunctions.delete('verify_signature');
    const r = send(emu, '/api', bearer(mint(key('RS256'), claims())));
    expect(r.status).toBe(401);
    expect(r.body).toBe('Jwt verification fails');
  });
});

interface RfcExample { readonly name: string; readonly jwk: Record<string, string>; readonly token: string }
const rfc = JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/jwt/rfc-examples.json'), 'utf8')) as { rfc7515: RfcExample[]; rfc8037: RfcExample };

describe('jwt-auth: RFC examples', () => {
  it.each(rfc.rfc7515)('jwt-auth: onRequestHeaders accepts $name', async ({ jwk, token }) => {
    // The examples expire at 1300819380: run the clock just before.
    const emu = await loadJwtAuth({ crypto: 'wasm', providers: { joe: { issuer: 'joe', jwks: { keys: [jwk] } } }, rules: [{ requires: ['joe'] }] }, { startTimeMs: 1300819000_000 });
    const r = send(emu, '/', bearer(token));
    expect(r.action).toBe('Continue');
    expect(r.principal).toBe('joe/');
    const late = await loadJwtAuth({ crypto: 'wasm', providers: { joe: { issuer: 'joe', jwks: { keys: [jwk] } } }, rules: [{ requires: ['joe'] }] }, { startTimeMs: (1300819380 + 61) * 1000 });
    expect(send(late, '/', bearer(token)).body).toBe('Jwt is expired');
  });

  it.each(['wasm', 'host'] as const)('jwt-auth: verify accepts RFC 8037 A.4 Ed25519 (%s path)', async (crypto) => {
    const harness = await loadVerifyHarness(crypto);
    const [h, p, s] = rfc.rfc8037.token.split('.');
    const hex = (b64: string): string => Buffer.from(b64, 'base64url').toString('hex');
    expect(harness.verify('EdDSA', JSON.stringify(rfc.rfc8037.jwk), Buffer.from(`${h}.${p}`).toString('hex'), hex(s!)).verdict).toBe('valid');
    expect(harness.verify('EdDSA', JSON.stringify(rfc.rfc8037.jwk), Buffer.from(`${h}.${p}x`).toString('hex'), hex(s!)).verdict).toBe('invalid');
  });
});

/** Adversarial and malformed tokens: [name, token builder, status, body]. */
const rsa = (): TestKey => key('RS256');
function withSegments(h: string, p: string, k: TestKey = rsa(), alg: JwsAlg = 'RS256'): string {
  return `${h}.${p}.${signSegments(k, alg, h, p)}`;
}
const hdr = (o: unknown): string => b64url(JSON.stringify(o));
const ADVERSARIAL: ReadonlyArray<readonly [string, () => string, number, string]> = [
  ['alg none', () => `${hdr({ alg: 'none' })}.${b64url(JSON.stringify(claims()))}.`, 401, 'Jwt header [alg] is not supported'],
  ['alg none with a signature', () => `${hdr({ alg: 'none' })}.${b64url(JSON.stringify(claims()))}.AAAA`, 401, 'Jwt header [alg] is not supported'],
  ['unknown alg', () => withSegments(hdr({ alg: 'RS1024', kid: 'rs256-1' }), b64url(JSON.stringify(claims()))), 401, 'Jwt header [alg] is not supported'],
  ['alg not a string', () => withSegments(hdr({ alg: 256 }), b64url(JSON.stringify(claims()))), 401, 'Jwt header [alg] field is required and must be a string'],
  ['crit header', () => withSegments(hdr({ alg: 'RS256', kid: 'rs256-1', crit: ['exp'], exp: 1 }), b64url(JSON.stringify(claims()))), 401, 'Jwt header [crit] field names an unsupported extension'],
  ['b64 false (RFC 7797)', () => withSegments(hdr({ alg: 'RS256', kid: 'rs256-1', b64: false }), b64url(JSON.stringify(claims()))), 401, 'Jwt header [crit] field names an unsupported extension'],
  ['non-canonical base64url signature', () => {
    const t = mint(rsa(), claims());
    const last = t.at(-1)!;
    // 256-byte signature: the last character carries 2 data bits; set one of the 4 unused ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    return t.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
  }, 401, 'Jwt signature is an invalid Base64url encoded'],
  ['padded payload', () => { const [h, p, s] = mint(rsa(), claims()).split('.'); return `${h}.${p}==.${s}`; }, 401, 'Jwt payload is an invalid Base64url encoded'],
  ['standard base64 alphabet in the header', () => { const [, p, s] = mint(rsa(), claims()).split('.'); return `eyJhbGciOiJSUzI1NiJ9+.${p}.${s}`; }, 401, 'Jwt header is an invalid Base64url encoded'],
  ['duplicate claim', () => withSegments(hdr({ alg: 'RS256', kid: 'rs256-1' }), b64url(`{"iss":"${ISSUER}","sub":"alice","sub":"admin","aud":"api","exp":${NOW_S + 600}}`)), 401, 'Jwt payload is an invalid JSON'],
  ['duplicate alg header', () => withSegments(b64url('{"alg":"RS256","kid":"rs256-1","alg":"none"}'), b64url(JSON.stringify(claims()))), 401, 'Jwt header is an invalid JSON'],
  ['payload not JSON', () => withSegments(hdr({ alg: 'RS256', kid: 'rs256-1' }), b64url('hello')), 401, 'Jwt payload is an invalid JSON'],
  ['payload a JSON array', () => withSegments(hdr({ alg: 'RS256', kid: 'rs256-1' }), b64url('[1]')), 401, 'Jwt payload is an invalid JSON'],
  ['non-numeric exp', () => mint(rsa(), claims({ exp: String(NOW_S + 600) })), 401, 'Jwt payload [exp] field is not an integer'],
  ['fractional exp', () => mint(rsa(), claims({ exp: NOW_S + 600.5 })), 401, 'Jwt payload [exp] field is not an integer'],
  ['iss not a string', () => mint(rsa(), claims({ iss: 7 })), 401, 'Jwt payload [iss] field is not a string'],
  ['aud of numbers', () => mint(rsa(), claims({ aud: [1] })), 401, 'Jwt payload [aud] field is not a string or string list'],
  ['RS/HS confusion: HS256 with the RSA public key as secret', () => {
    const pem = rsa().privateKey!.export({ format: 'pem', type: 'pkcs1' });
    const confused: TestKey = { alg: 'HS256', kid: 'rs256-1', jwk: {}, secret: Buffer.from(String(pem)) };
    return mint(confused, claims(), { header: { alg: 'HS256', kid: 'rs256-1' } });
  }, 401, "Jwks doesn't have key to match kid or alg from Jwt"],
  ['RS/HS confusion: HS256 with the JWK modulus as secret, no kid', () => {
    const confused: TestKey = { alg: 'HS256', kid: '', jwk: {}, secret: Buffer.from(rsa().jwk['n']!, 'base64url') };
    return mint(confused, claims(), { header: { alg: 'HS256' } });
  }, 401, 'Jwt verification fails'],
  ['kid pointing at another key type', () => mint(key('ES256'), claims(), { header: { alg: 'ES256', kid: 'rs256-1' } }), 401, "Jwks doesn't have key to match kid or alg from Jwt"],
  ['unknown kid (inline JWKS)', () => mint(key('ES256'), claims(), { header: { alg: 'ES256', kid: 'nope' } }), 401, "Jwks doesn't have key to match kid or alg from Jwt"],
  ['expired by 1 s beyond the 60 s skew', () => mint(rsa(), claims({ exp: NOW_S - 61 })), 401, 'Jwt is expired'],
  ['not yet valid by 1 s beyond the skew', () => mint(rsa(), claims({ nbf: NOW_S + 61 })), 401, 'Jwt not yet valid'],
  ['aud array without a match', () => mint(rsa(), claims({ aud: ['web', 'mobile'] })), 403, 'Audiences in Jwt are not allowed'],
  ['aud missing', () => mint(rsa(), claims({ aud: undefined })), 403, 'Audiences in Jwt are not allowed'],
  ['unknown issuer', () => mint(rsa(), claims({ iss: 'https://evil.example' })), 401, 'Jwt issuer is not configured'],
  ['tampered payload', () => { const [h, , s] = mint(rsa(), claims()).split('.'); return `${h}.${b64url(JSON.stringify(claims({ sub: 'admin' })))}.${s}`; }, 401, 'Jwt verification fails'],
  ['two segments', () => mint(rsa(), claims()).split('.').slice(0, 2).join('.'), 401, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'],
  ['four segments', () => `${mint(rsa(), claims())}.x`, 401, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections'],
  ['EdDSA signature of 63 bytes', () => { const [h, p, s] = mint(key('EdDSA'), claims()).split('.'); return `${h}.${p}.${Buffer.from(s!, 'base64url').subarray(1).toString('base64url')}`; }, 401, 'Jwt ED25519 signature is wrong length'],
  ['ES256 signature in DER instead of r‖s', () => {
    const t = mint(key('ES256'), claims());
    const [h, p, s] = t.split('.');
    const raw = Buffer.from(s!, 'base64url');
    const int = (b: Buffer): Buffer => { let i = 0; while (i < b.length - 1 && b[i] === 0) i++; const v = b.subarray(i); return v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v; };
    const r = int(raw.subarray(0, 32)), q = int(raw.subarray(32));
    const der = Buffer.concat([Buffer.from([0x30, r.length + q.length + 4, 2, r.length]), r, Buffer.from([2, q.length]), q]);
    return `${h}.${p}.${der.toString('base64url')}`;
  }, 401, 'Jwt verification fails'],
  ['100 KB token', () => mint(rsa(), claims({ pad: 'x'.repeat(100 * 1024) })), 401, 'Jwt is larger than the configured maximum size'],
];

describe('jwt-auth: adversarial tokens', () => {
  let emu: HostEmulator;
  beforeAll(async () => { emu = await loadJwtAuth(config('auto')); });

  it.each(ADVERSARIAL)('jwt-auth: onRequestHeaders rejects %s', (_name, build, status, body) => {
    const r = send(emu, '/api?x=1', bearer(build()));
    expect({ status: r.status, body: r.body }).toEqual({ status, body });
    expect(r.wwwAuthenticate).toBe('Bearer realm="https://api.example/api?x=1", error="invalid_token"');
    expect(r.principal).toBeUndefined();
  });

  it('jwt-auth: onRequestHeaders accepts exp exactly at the skew boundary (Envoy: now > exp + skew expires)', () => {
    expect(send(emu, '/api', bearer(mint(rsa(), claims({ exp: NOW_S - 60 })))).action).toBe('Continue');
  });

  it('jwt-auth: the VM survives the whole table (no trap)', () => {
    expect(emu.isVmFailed()).toBe(false);
    expect(send(emu, '/api', bearer(mint(rsa(), claims()))).action).toBe('Continue');
  });
});

describe('jwt-auth: rules, outputs and spoofing', () => {
  let emu: HostEmulator;
  beforeAll(async () => { emu = await loadJwtAuth(config('auto')); });
  const spoofed: [string, string][] = [['x-jwt-sub', 'root'], ['x-jwt-payload', 'e30'], ['x-jwt-tenant', 'evil'], ['x-wasmesh-jwt-payload', 'e30']];

  it('jwt-auth: onRequestHeaders answers 401 Jwt is missing without error= on a required path', () => {
    const r = send(emu, '/api');
    expect(r.status).toBe(401);
    expect(r.body).toBe('Jwt is missing');
    expect(r.wwwAuthenticate).toBe('Bearer realm="https://api.example/api"');
  });

  it.each([
    ['/optional', 'allow_missing'],
    ['/public/index.html', 'skip'],
  ])('jwt-auth: onRequestHeaders passes %s without a token (%s) and strips spoofed outputs', (p) => {
    const r = send(emu, p, spoofed);
    expect(r.action).toBe('Continue');
    for (const [name] of spoofed) expect(header(r, name)).toBeUndefined();
    expect(r.principal).toBeUndefined();
  });

  it('jwt-auth: onRequestHeaders rejects an invalid token on an allow_missing path', () => {
    expect(send(emu, '/optional', bearer('a.b.c')).status).toBe(401);
  });

  it('jwt-auth: onRequestHeaders replaces spoofed output headers with the verified values', () => {
    const r = send(emu, '/api', [...spoofed, ...bearer(mint(rsa(), claims()))]);
    expect(r.action).toBe('Continue');
    expect(header(r, 'x-jwt-sub')).toBe('alice');
    expect(header(r, 'x-jwt-tenant')).toBe('t-42');
    expect(header(r, 'x-wasmesh-jwt-payload')).toBeUndefined(); // filter state worked: no fallback header
  });

  it('jwt-auth: onRequestHeaders answers 401 when the token is not in the configured location', () => {
    expect(send(emu, '/api', [['authorization', `Basic ${mint(rsa(), claims())}`]]).body).toBe('Jwt is missing');
  });
});

describe('jwt-auth: token locations and forwarding', () => {
  it.each([
    ['from_headers with prefix', { from_headers: [{ name: 'x-token', value_prefix: 'JWT ' }] }, (t: string) => [['x-token', `JWT ${t}`]] as [string, string][], '/api'],
    ['from_params', { from_params: ['access_token'] }, () => [] as [string, string][], '/api?access_token=TOKEN&y=2'],
    ['from_cookies', { from_cookies: ['session'] }, (t: string) => [['cookie', `a=b; session=${t}; c=d`]] as [string, string][], '/api'],
  ])('jwt-auth: onRequestHeaders reads the token %s', async (_name, extra, headers, p) => {
    const emu = await loadJwtAuth(config('wasm', extra));
    const token = mint(rsa(), claims());
    const r = send(emu, p.replace('TOKEN', token), headers(token));
    expect(r.action).toBe('Continue');
    expect(send(emu, '/api').body).toBe('Jwt is missing');
  });

  it('jwt-auth: onRequestHeaders keeps the Authorization header with forward_original_token', async () => {
    const emu = await loadJwtAuth(config('wasm', { forward_original_token: true }));
    const token = mint(rsa(), claims());
    expect(header(send(emu, '/api', bearer(token)), 'authorization')).toBe(`Bearer ${token}`);
  });
});

describe('jwt-auth: verified-token cache', () => {
  it('jwt-auth: onRequestHeaders serves a repeated token from the cache and honours its exp', async () => {
    const emu = await loadJwtAuth(config('wasm'));
    const token = mint(rsa(), claims({ exp: NOW_S + 5 }));
    expect(send(emu, '/api', bearer(token)).action).toBe('Continue');
    const again = send(emu, '/api', bearer(token));
    expect(again.action).toBe('Continue');
    expect(again.principal).toBe(`${ISSUER}/alice`);
    expect(emu.getCounterMetric('jwt_authn.cache_hit')).toBe(1);
    emu.advanceTimeMs(66_000); // exp + skew passed
    expect(send(emu, '/api', bearer(token)).body).toBe('Jwt is expired');
    expect(emu.getCounterMetric('jwt_authn.allowed')).toBe(2);
    expect(emu.getCounterMetric('jwt_authn.denied')).toBe(1);
  });
});

describe('jwt-auth: configuration', () => {
  it.each([
    ['not JSON', '{', 'configuration is not valid JSON'],
    ['no providers', {}, 'configuration.providers: expected an object with at least one provider'],
    ['missing issuer', { providers: { a: { jwks: { keys: [] } } } }, 'providers.a.issuer: required string is missing'],
    ['both jwks and jwks_uri', { providers: { a: { issuer: 'i', jwks: '{}', jwks_uri: 'https://x/j', jwks_cluster: 'c' } } }, 'providers.a: exactly one of jwks'],
    ['bad jwks_uri', { providers: { a: { issuer: 'i', jwks_uri: 'ftp://x', jwks_cluster: 'c' } } }, 'providers.a.jwks_uri: "ftp://x" is not an http:// or https:// URL'],
    ['JWKS without usable keys', { providers: { a: { issuer: 'i', jwks: { keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }] } } } }, "providers.a.jwks: Jwks doesn't have any valid public key"],
    ['unknown field', { providers: { a: { issuer: 'i', jwks: '{}', audience: 'x' } } }, 'providers.a: unknown field "audience"'],
    ['unknown provider in a rule', { providers: { a: { issuer: 'i', jwks: jwks(rsa()) } }, rules: [{ requires: ['b'] }] }, 'rules[0].requires[0]: unknown provider "b", expected one of a'],
    ['bad crypto', { crypto: 'fast', providers: { a: { issuer: 'i', jwks: jwks(rsa()) } } }, 'configuration.crypto: "fast" is not one of auto, host, wasm'],
    ['bad skew', { providers: { a: { issuer: 'i', jwks: jwks(rsa()), clock_skew_seconds: -1 } } }, 'providers.a.clock_skew_seconds: expected an integer in [0, 86400], got -1'],
  ])('jwt-auth: onConfigure refuses %s, naming the field', async (_name, cfg, message) => {
    await expect(loadJwtAuth(cfg)).rejects.toThrow();
    const emu = await loadJwtAuth(config('wasm'));
    await expect(emu.reconfigure(typeof cfg === 'string' ? cfg : JSON.stringify(cfg))).rejects.toThrow();
    expect(emu.getLogs('error').join('\n')).toContain(message);
    // The previous configuration stays active.
    expect(send(emu, '/api', bearer(mint(rsa(), claims()))).action).toBe('Continue');
  });
});

describe('jwt-auth: key selection', () => {
  it.each([
    ['a JWKS key without kid verifies a token with kid (Envoy rule)', true, 'some-kid', 'Continue'],
    ['a JWKS key without kid verifies a token without kid', true, undefined, 'Continue'],
    ['a JWKS key with another kid is not tried', false, 'other', 'EndWithLocalResponse'],
  ])('jwt-auth: onRequestHeaders: %s', async (_name, dropKid, tokenKid, action) => {
    const es = makeKey('ES256', 'es-a');
    const { kid: _kid, ...withoutKid } = es.jwk;
    const emu = await loadJwtAuth({ crypto: 'wasm', providers: { p: { issuer: ISSUER, jwks: { keys: [dropKid ? withoutKid : es.jwk] } } }, rules: [{ requires: ['p'] }] });
    const token = mint(es, claims(), { header: tokenKid === undefined ? { alg: 'ES256' } : { alg: 'ES256', kid: tokenKid } });
    expect(send(emu, '/', bearer(token)).action).toBe(action);
  });
});

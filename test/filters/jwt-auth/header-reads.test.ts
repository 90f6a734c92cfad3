/**
 * jwt-auth reads the request headers it needs either as one header map (a configuration with
 * many names: output headers to strip, several token locations) or one value at a time when
 * first needed (few names: request-view.ts BY_VALUE_MAX_READS). Both ways answer the same:
 * the first value of a repeated header, spoofed outputs stripped, the token header removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { bearer, header, loadJwtAuth, NOW_S, send } from './filter-harness.js';
import { jwks, makeKey, mint } from './tokens.js';

const ISSUER = 'https://issuer.example';
const rsa = makeKey('RS256');
const claims = { iss: ISSUER, sub: 'team/alice', aud: 'api', exp: NOW_S + 600, iat: NOW_S - 10 };
const rules = [{ match: { prefix: '/public' }, skip: true }, { match: { path: '/optional' }, requires: ['main'], allow_missing: true }, { match: { prefix: '/' }, requires: ['main'] }];
const modes = [
  ['one value at a time', { issuer: ISSUER, audiences: ['api'], jwks: jwks(rsa) }],
  ['the whole map', { issuer: ISSUER, audiences: ['api'], jwks: jwks(rsa), output_claim_to_headers: [{ header: 'x-jwt-sub', claim: 'sub' }, { header: 'x-jwt-iss', claim: 'iss' }] }],
] as const;

describe.each(modes)('jwt-auth: request headers read as %s', (_mode, provider) => {
  let emu: HostEmulator;
  beforeAll(async () => { emu = await loadJwtAuth({ providers: { main: provider }, rules }); });
  afterAll(async () => { await emu.close(); });
  const token = mint(rsa, claims);

  it('jwt-auth: onRequestHeaders verifies the bearer token, removes it and hands over principal and issuer', () => {
    const r = send(emu, '/api?x=1', [['x-wasmesh-jwt-payload', 'e30'], ...bearer(token)]);
    expect(r.action).toBe('Continue');
    expect(header(r, 'authorization')).toBeUndefined();
    expect(header(r, 'x-wasmesh-jwt-payload')).toBeUndefined();
    expect(r.principal).toBe(`${ISSUER}/team/alice`);
    expect(r.issuer).toBe(ISSUER);
  });

  it.each([
    ['a valid first value and junk second', [['authorization', `Bearer ${token}`], ['authorization', 'Bearer junk']], 'Continue'],
    ['junk first and a valid second value', [['authorization', 'Bearer junk'], ['authorization', `Bearer ${token}`]], 'EndWithLocalResponse'],
  ] as const)('jwt-auth: onRequestHeaders takes the first value of a repeated token header (%s)', (_label, headers, action) => {
    const r = send(emu, '/api', headers as unknown as [string, string][]);
    expect(r.action).toBe(action);
    if (action === 'EndWithLocalResponse') expect(r.status).toBe(401);
  });

  it.each([
    ['/api', 401, 'Jwt is missing'],
    ['/optional', undefined, undefined],
    ['/public/x', undefined, undefined],
  ] as const)('jwt-auth: onRequestHeaders without a token on %s', (path, status, body) => {
    const r = send(emu, path, [['x-wasmesh-jwt-payload', 'e30'], ['authorization', `Basic ${token}`]]);
    expect(r.status).toBe(status);
    expect(r.body).toBe(body);
    if (status === undefined) expect(header(r, 'x-wasmesh-jwt-payload')).toBeUndefined();
    if (status !== undefined) expect(r.wwwAuthenticate).toBe(`Bearer realm="https://api.example${path}"`);
  });
});

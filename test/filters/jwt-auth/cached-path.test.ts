/**
 * jwt-auth's per-request fast path through the built module: one header-map read, tokens taken
 * from the raw header bytes, the verified-token cache bucketed by a fast hash but matched on every
 * byte, outputs replayed from the cache entry. Each case checks the answer is the one the
 * verification path gives (cases: test/fixtures/jwt/cached-path/).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../../setup/paths.js';
import { makeKey, jwks, mint, type TestKey } from './tokens.js';
import { bearer, header, loadJwtAuth, NOW_S, send } from './filter-harness.js';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'jwt', 'cached-path');
const fixture = <T>(name: string): T => JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;

interface OneByteVariant { readonly name: string; readonly segment: 0 | 1 | 2; readonly body?: string }
interface AuthorizationForm { readonly name: string; readonly value: string }
interface PathCase { readonly name: string; readonly path: string; readonly action?: string; readonly status?: number; readonly realm?: string }

const ISSUER = 'https://issuer.example';
const rsa: TestKey = makeKey('RS256');
const claims = (sub: string): Record<string, unknown> => ({ iss: ISSUER, sub, aud: 'api', exp: NOW_S + 600, iat: NOW_S - 10 });

function config(extra: Record<string, unknown> = {}, tokenCacheSize = 1): unknown {
  return {
    crypto: 'wasm',
    token_cache_size: tokenCacheSize,
    providers: {
      main: {
        issuer: ISSUER, audiences: ['api'], jwks: jwks(rsa),
        output_payload_to_header: 'x-jwt-payload',
        output_claim_to_headers: [{ header: 'x-jwt-sub', claim: 'sub' }],
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

/** `token` with the middle character of one segment replaced by another base64url character. */
function changeOneByte(token: string, segment: number): string {
  const parts = token.split('.');
  const s = parts[segment]!;
  const at = Math.floor(s.length / 2);
  parts[segment] = s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
  return parts.join('.');
}

const counter = (emu: HostEmulator, name: string): number => emu.getCounterMetric(`jwt_authn.${name}`) ?? 0;

describe('jwt-auth: verified-token cache matches whole tokens', () => {
  // token_cache_size 1: one bucket, so every token shares the cached token's bucket and only the
  // full byte comparison can tell them apart.
  let emu: HostEmulator;
  let alice: string;
  beforeEach(async () => {
    emu = await loadJwtAuth(config());
    alice = mint(rsa, claims('alice'));
    expect(send(emu, '/api', bearer(alice)).action).toBe('Continue');
  });

  it.each(fixture<OneByteVariant[]>('one-byte-variants.json'))(
    'jwt-auth: onRequestHeaders verifies a token differing from the cached one in $name (same length, same bucket) instead of serving it',
    ({ segment, body }) => {
      const forged = changeOneByte(alice, segment);
      expect(forged).toHaveLength(alice.length);
      const r = send(emu, '/api', bearer(forged));
      expect(r.status).toBe(401);
      if (body !== undefined) expect(r.body).toBe(body);
      expect(r.principal).toBeUndefined();
      expect(counter(emu, 'cache_hit')).toBe(0);
      expect(counter(emu, 'cache_miss')).toBe(2);
      // The genuine token is still served from the cache.
      expect(send(emu, '/api', bearer(alice)).principal).toBe(`${ISSUER}/alice`);
      expect(counter(emu, 'cache_hit')).toBe(1);
    },
  );

  it('jwt-auth: onRequestHeaders hands over the identity of a second valid token of the same length, not the cached one', () => {
    const bobby = mint(rsa, claims('bobby'));
    expect(bobby).toHaveLength(alice.length);
    const r = send(emu, '/api', bearer(bobby));
    expect(r.principal).toBe(`${ISSUER}/bobby`);
    expect(header(r, 'x-jwt-sub')).toBe('bobby');
    expect(counter(emu, 'cache_hit')).toBe(0);
    // Capacity 1: bobby evicted alice, who is verified again (and answers as alice).
    expect(send(emu, '/api', bearer(alice)).principal).toBe(`${ISSUER}/alice`);
    expect(counter(emu, 'cache_miss')).toBe(3);
    expect(send(emu, '/api', bearer(alice)).principal).toBe(`${ISSUER}/alice`);
    expect(counter(emu, 'cache_hit')).toBe(1);
  });
});

describe('jwt-auth: outputs on the cached path', () => {
  const spoofed = fixture<[string, string][]>('spoofed-outputs.json');

  it.each([false, true])(
    'jwt-auth: onRequestHeaders strips spoofed output headers on a cache hit and replays the verified outputs (forward_original_token %s)',
    async (forward) => {
      const emu = await loadJwtAuth(config({ forward_original_token: forward }, 16));
      const token = mint(rsa, claims('alice'));
      const first = send(emu, '/api', [...spoofed, ...bearer(token)]);
      const again = send(emu, '/api', [...spoofed, ...bearer(token)]);
      expect(counter(emu, 'cache_hit')).toBe(1);
      for (const r of [first, again]) {
        expect(r.action).toBe('Continue');
        expect(header(r, 'x-jwt-sub')).toBe('alice');
        expect(header(r, 'x-jwt-payload')).toBe(token.split('.')[1]);
        expect(header(r, 'x-wasmesh-jwt-payload')).toBeUndefined();
        expect(r.headers.filter(([n]) => n === 'x-jwt-sub')).toHaveLength(1);
        expect(header(r, 'authorization')).toBe(forward ? `Bearer ${token}` : undefined);
        expect(r.principal).toBe(`${ISSUER}/alice`);
        expect(JSON.parse(r.payload ?? '{}')).toEqual(claims('alice'));
      }
    },
  );

  it('jwt-auth: onRequestHeaders strips spoofed output headers on a skipped path without reading a token', async () => {
    const emu = await loadJwtAuth(config({}, 16));
    const r = send(emu, '/public/x', [...spoofed, ['authorization', 'Bearer not-a-token']]);
    expect(r.action).toBe('Continue');
    for (const [name] of spoofed) expect(header(r, name)).toBeUndefined();
    expect(header(r, 'authorization')).toBe('Bearer not-a-token');
  });
});

describe('jwt-auth: token and path read from the raw header map', () => {
  let emu: HostEmulator;
  const token = mint(rsa, claims('alice'));
  beforeEach(async () => { emu = await loadJwtAuth(config({}, 16)); });

  it.each(fixture<AuthorizationForm[]>('authorization-forms.json'))(
    'jwt-auth: onRequestHeaders accepts the token in $name, verified then cached',
    ({ value }) => {
      const headers: [string, string][] = [['authorization', value.replace('{token}', token)]];
      for (const expectedHits of [0, 1]) {
        const r = send(emu, '/api', headers);
        expect(r.action).toBe('Continue');
        expect(r.principal).toBe(`${ISSUER}/alice`);
        expect(counter(emu, 'cache_hit')).toBe(expectedHits);
      }
    },
  );

  it('jwt-auth: onRequestHeaders uses the first of repeated Authorization headers, as proxy_get_header_map_value', () => {
    for (let i = 0; i < 2; i++) {
      expect(send(emu, '/api', [...bearer(token), ['authorization', 'Bearer junk']]).principal).toBe(`${ISSUER}/alice`);
      expect(send(emu, '/api', [['authorization', 'Bearer junk'], ...bearer(token)]).status).toBe(401);
    }
  });

  it.each(fixture<PathCase[]>('paths.json'))('jwt-auth: onRequestHeaders selects the rule for $name', ({ path: p, action, status, realm }) => {
    const r = send(emu, p);
    if (action !== undefined) expect(r.action).toBe(action);
    if (status !== undefined) expect(r.status).toBe(status);
    if (realm !== undefined) expect(r.wwwAuthenticate).toBe(realm);
  });
});

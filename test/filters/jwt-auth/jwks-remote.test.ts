/**
 * Remote JWKS (jwks_uri) through the built module: initial fetch at configure, requests paused
 * until keys arrive, rotation via unknown-kid refetch, the refetch rate limit, stale keys kept when
 * a refresh fails, fail closed when keys were never fetched, sharing through shared data.
 */
import { describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { jwks, makeKey, mint } from './tokens.js';
import { bearer, loadJwtAuth, NOW_S, outcome, send } from './filter-harness.js';

const ISSUER = 'https://idp.example';
const claims = { iss: ISSUER, sub: 'bob', exp: NOW_S + 3600 };
const config = {
  crypto: 'wasm',
  providers: {
    idp: { issuer: ISSUER, jwks_uri: 'https://idp.example/.well-known/jwks.json', jwks_cluster: 'outbound|443||idp.example', jwks_timeout_ms: 2500, cache_duration_seconds: 300 },
  },
  rules: [{ requires: ['idp'] }],
  unknown_kid_refetch_interval_seconds: 30,
};

function pendingCalls(emu: HostEmulator, from: number): ReturnType<HostEmulator['getHttpCalls']> {
  return emu.getHttpCalls().slice(from);
}
const ok = (body: string): [[string, string][], string] => [[[':status', '200'], ['content-type', 'application/json']], body];

describe('jwt-auth: remote JWKS', () => {
  it('jwt-auth: onConfigure fetches the JWKS from the configured cluster with the URI path and authority', async () => {
    const emu = await loadJwtAuth(config);
    const [call] = emu.getHttpCalls();
    expect(call?.cluster).toBe('outbound|443||idp.example');
    expect(call?.timeoutMs).toBe(2500);
    expect(Object.fromEntries(call?.headers ?? [])).toMatchObject({ ':method': 'GET', ':path': '/.well-known/jwks.json', ':authority': 'idp.example' });
  });

  it('jwt-auth: onRequestHeaders pauses until the JWKS arrives, then continues', async () => {
    const emu = await loadJwtAuth(config);
    const key = makeKey('ES256', 'k1');
    const id = emu.initializeHttpContext();
    const action = emu.callOnRequestHeaders(id, [[':method', 'GET'], [':path', '/'], [':authority', 'a'], [':scheme', 'http'], ...bearer(mint(key, claims))], true);
    expect(action).toBe('Pause');
    emu.respondToHttpCall(emu.getHttpCalls()[0]!.token, ...ok(jwks(key)));
    expect(emu.getCurrentHttpStreamAction(id)).toBe('Continue');
    expect(outcome(emu, id, 'Continue').principal).toBe(`${ISSUER}/bob`);
    expect(emu.getCounterMetric('jwt_authn.jwks_fetch_success')).toBe(1);
  });

  it('jwt-auth: onRequestHeaders fails closed (401) when the JWKS was never fetched', async () => {
    const emu = await loadJwtAuth(config);
    const key = makeKey('ES256', 'k1');
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, [[':method', 'GET'], [':path', '/'], [':authority', 'a'], [':scheme', 'http'], ...bearer(mint(key, claims))], true);
    emu.failHttpCall(emu.getHttpCalls()[0]!.token);
    expect(emu.getSentLocalResponse(id)?.status).toBe(401);
    expect(new TextDecoder().decode(emu.getSentLocalResponse(id)?.body)).toBe('Jwks remote fetch is failed');
    expect(emu.getCounterMetric('jwt_authn.jwks_fetch_failed')).toBe(1);
    // A bad answer (500, or not a JWKS) is a failure too, and requests keep failing closed.
    expect(send(emu, '/', bearer(mint(key, claims))).body).toBe('Jwks remote fetch is failed');
    expect(emu.isVmFailed()).toBe(false);
  });

  it('jwt-auth: onRequestHeaders accepts a rotated key after an unknown-kid refetch, rate-limited to once per interval', async () => {
    const emu = await loadJwtAuth(config);
    const k1 = makeKey('RS256', 'k1');
    const k2 = makeKey('RS256', 'k2-fresh');
    const k3 = makeKey('EdDSA', 'k3');
    emu.respondToHttpCall(emu.getHttpCalls()[0]!.token, ...ok(jwks(k1)));
    expect(send(emu, '/', bearer(mint(k1, claims))).action).toBe('Continue');

    // New kid: the filter refetches, the IdP now publishes k1 and k2.
    const before = emu.getHttpCalls().length;
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, [[':method', 'GET'], [':path', '/'], [':authority', 'a'], [':scheme', 'http'], ...bearer(mint(k2, claims))], true)).toBe('Pause');
    const refetch = pendingCalls(emu, before);
    expect(refetch).toHaveLength(1);
    emu.respondToHttpCall(refetch[0]!.token, ...ok(jwks(k1, k2)));
    expect(emu.getCurrentHttpStreamAction(id)).toBe('Continue');

    // Another unknown kid within 30 s: no new fetch, immediate 401.
    const calls = emu.getHttpCalls().length;
    expect(send(emu, '/', bearer(mint(k3, claims))).body).toBe("Jwks doesn't have key to match kid or alg from Jwt");
    expect(emu.getHttpCalls().length).toBe(calls);
    // After the interval the next unknown kid may refetch again.
    emu.advanceTimeMs(31_000);
    const id3 = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id3, [[':method', 'GET'], [':path', '/'], [':authority', 'a'], [':scheme', 'http'], ...bearer(mint(k3, claims))], true)).toBe('Pause');
    emu.respondToHttpCall(pendingCalls(emu, calls)[0]!.token, ...ok(jwks(k1, k2, k3)));
    expect(emu.getCurrentHttpStreamAction(id3)).toBe('Continue');
  });

  it('jwt-auth: onTick refreshes after cache_duration and keeps stale keys while the refresh fails', async () => {
    const emu = await loadJwtAuth(config);
    const k1 = makeKey('ES384', 'k1');
    emu.respondToHttpCall(emu.getHttpCalls()[0]!.token, ...ok(jwks(k1)));
    const token = mint(k1, claims);
    emu.tick();
    expect(emu.getHttpCalls()).toHaveLength(1); // fresh: no refresh yet
    emu.advanceTimeMs(301_000);
    emu.tick();
    expect(emu.getHttpCalls()).toHaveLength(2);
    emu.respondToHttpCall(emu.getHttpCalls()[1]!.token, [[':status', '503']], 'unavailable');
    expect(emu.getCounterMetric('jwt_authn.jwks_fetch_failed')).toBe(1);
    // Stale keys keep working (a different token: not served from the verified-token cache).
    expect(send(emu, '/', bearer(mint(k1, { ...claims, sub: 'carol' }))).action).toBe('Continue');
    // Retries are spaced by the refetch interval, not every tick.
    emu.tick();
    expect(emu.getHttpCalls()).toHaveLength(2);
    emu.advanceTimeMs(31_000);
    emu.tick();
    expect(emu.getHttpCalls()).toHaveLength(3);
    emu.respondToHttpCall(emu.getHttpCalls()[2]!.token, ...ok('{"keys": "not-an-array"}'));
    expect(send(emu, '/', bearer(token)).action).toBe('Continue');
    expect(emu.isVmFailed()).toBe(false);
  });

  it('jwt-auth: onTick shares a fetched JWKS between VMs through shared data (one fetch)', async () => {
    const emu = await loadJwtAuth(config, { workers: 2 });
    const k1 = makeKey('ES256', 'k1');
    // Only one VM wins the CAS-protected fetch lock.
    expect(emu.getHttpCalls()).toHaveLength(1);
    emu.respondToHttpCall(emu.getHttpCalls()[0]!.token, ...ok(jwks(k1)));
    emu.tick(); // the other VM adopts the shared copy
    for (let i = 0; i < 4; i++) expect(send(emu, '/', bearer(mint(k1, { ...claims, sub: `u${i}` }))).action).toBe('Continue');
    expect(emu.getHttpCalls()).toHaveLength(1);
  });

});

/**
 * Every Wycheproof vector for the JWS algorithms, through the verification dispatch of the built
 * jwt-auth code (test filter jwt-verify-harness), on the wasm path and on the host
 * `verify_signature` path. Policy for `acceptable` and HMAC specifics: wycheproof.ts / README.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadVerifyHarness, type VerifyHarness } from './harness.js';
import { loadWycheproof, WYCHEPROOF_FILES } from './wycheproof.js';

/** Algorithms Envoy's verify_signature can check (EVP_DigestVerify: PKCS#1 v1.5 and ECDSA). */
const HOST_ALGS = new Set(['RS256', 'RS384', 'RS512', 'ES256', 'ES384']);

describe.each(['wasm', 'host'] as const)('jwt-auth: verify (%s crypto path) Wycheproof', (crypto) => {
  let harness: VerifyHarness;
  beforeAll(async () => { harness = await loadVerifyHarness(crypto); });

  it.each(WYCHEPROOF_FILES)('%s (%s): valid accepted, invalid and acceptable rejected', (file, alg) => {
    const cases = loadWycheproof(file, alg);
    const mismatches: string[] = [];
    const hostCallsBefore = harness.verify('RS256', '{}', '', '').hostCalls;
    let hostCalls = 0;
    for (const c of cases) {
      const { verdict, hostCalls: calls } = harness.verify(alg, c.jwk, c.msg, c.sig);
      hostCalls = calls - hostCallsBefore;
      const got = verdict === 'valid' ? 'valid' : 'invalid';
      if (verdict.startsWith('nokey') || verdict === 'bad-input') {
        if (c.expected === 'valid') mismatches.push(`tc ${c.tcId} (${c.comment}): ${verdict}`);
        continue;
      }
      if (got !== c.expected) mismatches.push(`tc ${c.tcId} (${c.result}, ${c.flags.join(',')}, ${c.comment}): got ${got}`);
    }
    expect(mismatches).toEqual([]);
    expect(cases.length).toBeGreaterThan(100);
    // The host path really used verify_signature for the algorithms Envoy supports.
    if (crypto === 'host' && HOST_ALGS.has(alg)) expect(hostCalls).toBeGreaterThan(0);
    else expect(hostCalls).toBe(0);
  });
});

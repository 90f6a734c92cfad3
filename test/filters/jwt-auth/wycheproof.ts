/**
 * Loads the Wycheproof files (../shared/testdata/wycheproof, see its README) as
 * {alg, jwk, msg, sig, result} cases for the jwt-verify-harness module.
 */
import { readWycheproof } from '../../setup/wycheproof.js';

export type WycheproofResult = 'valid' | 'invalid' | 'acceptable';

export interface SignatureCase {
  readonly file: string;
  readonly alg: string;
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly jwk: string;
  readonly msg: string;
  readonly sig: string;
  readonly result: WycheproofResult;
  /** What the filter must answer: see README "Wycheproof" for the policy behind each case. */
  readonly expected: 'valid' | 'invalid';
}

interface RawTest { tcId: number; comment: string; flags?: string[]; key?: string; msg: string; sig?: string; tag?: string; result: WycheproofResult }
interface RawEcKey { curve: string; uncompressed: string }
interface RawGroup { publicKeyJwk?: Record<string, string>; keyJwk?: Record<string, string>; publicKey?: RawEcKey; keySize?: number; tagSize?: number; tests: RawTest[] }

export const WYCHEPROOF_FILES: ReadonlyArray<readonly [file: string, alg: string]> = [
  ['rsa_signature_2048_sha256_test.json', 'RS256'],
  ['rsa_signature_2048_sha384_test.json', 'RS384'],
  ['rsa_signature_4096_sha512_test.json', 'RS512'],
  ['rsa_pss_2048_sha256_mgf1_32_test.json', 'PS256'],
  ['ecdsa_secp256r1_sha256_p1363_test.json', 'ES256'],
  ['ecdsa_secp384r1_sha384_p1363_test.json', 'ES384'],
  ['hmac_sha256_test.json', 'HS256'],
  ['ed25519_test.json', 'EdDSA'],
];

function publicJwk(group: RawGroup, test: RawTest): string {
  // HMAC vectors carry the key per test.
  if (test.key !== undefined) return JSON.stringify({ kty: 'oct', k: Buffer.from(test.key, 'hex').toString('base64url') });
  const jwk = group.publicKeyJwk ?? group.keyJwk;
  if (jwk === undefined && group.publicKey?.uncompressed !== undefined) {
    // Groups without publicKeyJwk: build it from the SEC 1 uncompressed point 04 || x || y.
    const point = Buffer.from(group.publicKey.uncompressed, 'hex');
    const size = (point.length - 1) / 2;
    return JSON.stringify({
      kty: 'EC', crv: group.publicKey.curve === 'secp384r1' ? 'P-384' : 'P-256',
      x: point.subarray(1, 1 + size).toString('base64url'), y: point.subarray(1 + size).toString('base64url'),
    });
  }
  if (jwk === undefined) throw new Error('Wycheproof group without a JWK');
  // Private members (keyJwk of the RSA files holds d, p, q...) are not part of a JWKS.
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return JSON.stringify(pub);
}

/**
 * Policy for results that are not plain Wycheproof `valid`/`invalid`:
 * - `acceptable` (the RSA files: DigestInfo without the NULL parameter) → rejected: we
 *   compare against the one canonical EMSA-PKCS1-v1_5 encoding (RFC 8017 §8.2.2 step 4).
 * - HMAC groups with a 128-bit tag: JWS HS256 uses the full 256-bit tag (RFC 7518 §3.2) → rejected.
 * - HMAC groups with a 128-bit key: RFC 7518 §3.2 requires a key at least as long as the hash → rejected.
 */
function expectedOf(alg: string, group: RawGroup, test: RawTest): 'valid' | 'invalid' {
  if (test.result !== 'valid') return 'invalid';
  if (alg === 'HS256' && ((group.tagSize ?? 256) < 256 || (group.keySize ?? 256) < 256)) return 'invalid';
  return 'valid';
}

export function loadWycheproof(file: string, alg: string): SignatureCase[] {
  const data = readWycheproof<RawGroup>(file);
  const out: SignatureCase[] = [];
  for (const group of data.testGroups) {
    for (const test of group.tests) {
      const jwk = publicJwk(group, test);
      out.push({
        file, alg, tcId: test.tcId, comment: test.comment, flags: test.flags ?? [], jwk,
        msg: test.msg, sig: test.sig ?? test.tag ?? '', result: test.result, expected: expectedOf(alg, group, test),
      });
    }
  }
  return out;
}

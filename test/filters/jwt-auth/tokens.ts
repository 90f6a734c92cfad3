/** Keys and tokens minted with node:crypto for the jwt-auth filter tests. */
import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export type JwsAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'HS256' | 'HS384' | 'HS512' | 'EdDSA';
export const ALL_ALGS: readonly JwsAlg[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'HS256', 'HS384', 'HS512', 'EdDSA'];

export interface TestKey {
  readonly alg: JwsAlg;
  readonly kid: string;
  /** Public JWK (secret `k` for oct keys) as it goes into a JWKS. */
  readonly jwk: Readonly<Record<string, string>>;
  readonly privateKey?: KeyObject;
  readonly secret?: Buffer;
}

const rsaCache = new Map<number, KeyObject>();
function rsaPrivate(bits: number): KeyObject {
  let key = rsaCache.get(bits);
  if (key === undefined) {
    key = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 }).privateKey;
    rsaCache.set(bits, key);
  }
  return key;
}

export function makeKey(alg: JwsAlg, kid = `${alg.toLowerCase()}-1`, rsaBits = 2048): TestKey {
  if (alg.startsWith('HS')) {
    const secret = randomBytes(alg === 'HS256' ? 32 : alg === 'HS384' ? 48 : 64);
    return { alg, kid, secret, jwk: { kty: 'oct', kid, alg, k: secret.toString('base64url') } };
  }
  let privateKey: KeyObject;
  if (alg.startsWith('RS') || alg.startsWith('PS')) privateKey = kid.endsWith('-fresh') ? generateKeyPairSync('rsa', { modulusLength: rsaBits }).privateKey : rsaPrivate(rsaBits);
  else if (alg === 'ES256') privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  else if (alg === 'ES384') privateKey = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  else privateKey = generateKeyPairSync('ed25519').privateKey;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = privateKey.export({ format: 'jwk' }) as Record<string, string>;
  return { alg, kid, privateKey, jwk: { ...pub, kid, alg } };
}

export const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

/** Signs `header.payload` (already encoded segments) with `key` as `alg`. */
export function signSegments(key: TestKey, alg: JwsAlg, header: string, payload: string): string {
  const input = Buffer.from(`${header}.${payload}`);
  if (alg.startsWith('HS')) {
    const secret = key.secret ?? Buffer.from(key.jwk['k'] ?? '', 'base64url');
    return createHmac(`sha${alg.slice(2)}`, secret).update(input).digest('base64url');
  }
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  const privateKey = key.privateKey ?? createPrivateKey('');
  if (alg.startsWith('PS')) {
    return sign(hash, input, { key: privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: Number(alg.slice(2)) / 8 }).toString('base64url');
  }
  return sign(hash, input, { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}

export interface MintOptions {
  readonly alg?: JwsAlg;
  readonly header?: Record<string, unknown>;
  readonly headerText?: string;
  readonly payloadText?: string;
}

/** A compact JWS of `claims` signed by `key` (header {alg, kid} unless overridden). */
export function mint(key: TestKey, claims: Record<string, unknown>, options: MintOptions = {}): string {
  const alg = options.alg ?? key.alg;
  const header = b64url(options.headerText ?? JSON.stringify(options.header ?? { alg, kid: key.kid, typ: 'JWT' }));
  const payload = b64url(options.payloadText ?? JSON.stringify(claims));
  return `${header}.${payload}.${signSegments(key, alg, header, payload)}`;
}

export function jwks(...keys: TestKey[]): string {
  return JSON.stringify({ keys: keys.map((k) => k.jwk) });
}

import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { DemoKeys } from './stages.js';

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/**
 * The demo's identity provider, in-process: an RSA key whose public half is served as a JWKS
 * (RFC 7517) and whose private half signs RS256 JWTs (RFC 7515/7519) with node:crypto.
 */
export function createDemoKeys(issuer = 'https://issuer.wasmesh.demo', audience = 'demo-api'): DemoKeys {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = publicKey.export({ format: 'jwk' });
  return rs256Keys(JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] }), privateKey, kid, issuer, audience);
}

/** DemoKeys over a given key pair: `jwks` served as is, tokens signed RS256 with `privateKey` under `kid`. */
export function rs256Keys(jwks: string, privateKey: KeyObject, kid: string, issuer: string, audience: string): DemoKeys {
  return {
    jwks,
    issuer,
    audience,
    signToken(subject, claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
      const payload = base64url(JSON.stringify({ iss: issuer, aud: audience, sub: subject, iat: now, exp: now + 600, ...claims }));
      const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey);
      return `${header}.${payload}.${base64url(signature)}`;
    },
  };
}

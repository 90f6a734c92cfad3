/**
 * The local stack's identity provider: the demo key pair committed in envoy-configs/jwks/
 * (public half served by the stack's JWKS server, private half signing the test's tokens), in
 * the demo's DemoKeys shape so the demo's request builders work unchanged.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { rs256Keys } from '../demo/keys.js';
import type { DemoKeys } from '../demo/stages.js';

/** jwt-auth's provider in envoy-configs/sidecar.yaml and envoy.yaml. */
export const LOCAL_ISSUER = 'https://wasmesh.local/demo';
export const LOCAL_AUDIENCE = 'demo';

export function localJwksDir(root: string): string {
  return path.join(root, 'envoy-configs', 'jwks');
}

export function loadLocalKeys(root: string): DemoKeys {
  const dir = localJwksDir(root);
  const jwks = readFileSync(path.join(dir, 'jwks.json'), 'utf8');
  const kid = (JSON.parse(jwks) as { keys: { kid: string }[] }).keys[0]!.kid;
  const privateKey = createPrivateKey(readFileSync(path.join(dir, 'demo-signing-key.pem'), 'utf8'));
  return rs256Keys(jwks, privateKey, kid, LOCAL_ISSUER, LOCAL_AUDIENCE);
}

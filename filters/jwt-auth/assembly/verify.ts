/**
 * Signature verification dispatch: picks the primitive for a JWS `alg` (RFC 7518 §3.1) and
 * enforces key/algorithm binding (RFC 8725 §3.1, §2.1): an RSA key only verifies RS* and PS*, an EC
 * key only the ES* of its curve, an OKP key only EdDSA, and only an `oct` key is an HMAC secret,
 * so a public key can never be abused as an HMAC secret ("RS/HS confusion").
 * Used by the filter and, unchanged, by the Wycheproof test harness module.
 */
import { HashAlg } from "../../lib/crypto/hash";
import { hmacVerify } from "../../lib/crypto/hmac";
import { rsaPkcs1v15Verify, rsaPssVerifyJws } from "../../lib/crypto/rsa";
import { Curve, ecdsaVerify } from "../../lib/crypto/ecdsa";
import { ed25519Verify } from "../../lib/crypto/ed25519";
import { Alg } from "./jws";
import { Jwk, KeyType } from "./jwks";
import { CryptoMode } from "./config";
import { hostVerify, HostVerdict } from "./host-crypto";
import { ecdsaSignatureToDer } from "./der";

export function algHash(alg: Alg): HashAlg {
  switch (alg) {
    case Alg.RS384: case Alg.PS384: case Alg.ES384: case Alg.HS384: return HashAlg.SHA384;
    case Alg.RS512: case Alg.PS512: case Alg.HS512: return HashAlg.SHA512;
    default: return HashAlg.SHA256;
  }
}

const ALG_NAMES = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "HS256", "HS384", "HS512", "EdDSA"];
export function algName(alg: Alg): string { return ALG_NAMES[<i32>alg]; }

/** Key type / curve / `alg` member constraints (RFC 7517 §4.4, RFC 7518 §6). */
export function keyAllowsAlg(key: Jwk, alg: Alg): bool {
  if (key.alg.length > 0 && key.alg != algName(alg)) return false;
  switch (alg) {
    case Alg.RS256: case Alg.RS384: case Alg.RS512:
    case Alg.PS256: case Alg.PS384: case Alg.PS512:
      return key.kty == KeyType.RSA && key.rsa !== null;
    case Alg.ES256: return key.kty == KeyType.EC && key.curve == Curve.P256 && key.ec !== null;
    case Alg.ES384: return key.kty == KeyType.EC && key.curve == Curve.P384 && key.ec !== null;
    case Alg.HS256: case Alg.HS384: case Alg.HS512:
      // RFC 7518 §3.2: the key must be at least as long as the hash output.
      return key.kty == KeyType.Oct && key.secret !== null && key.secret!.length >= (alg == Alg.HS256 ? 32 : alg == Alg.HS384 ? 48 : 64);
    case Alg.EdDSA: return key.kty == KeyType.OKP && key.ed !== null;
  }
  return false;
}

/** State of the host crypto path for this VM: decided by the first call in auto mode. */
export class CryptoState {
  mode: CryptoMode = CryptoMode.Auto;
  /** auto: true once the host answered NotFound/Unimplemented (then wasm for the VM lifetime). */
  hostUnavailable: bool = false;
  /** Number of verifications done by the host (metrics/tests). */
  hostCalls: i32 = 0;
  lastHostError: string = "";
}

function hostSupports(alg: Alg): bool {
  return alg == Alg.RS256 || alg == Alg.RS384 || alg == Alg.RS512 || alg == Alg.ES256 || alg == Alg.ES384;
}

function hashName(alg: Alg): string {
  const h = algHash(alg);
  return h == HashAlg.SHA256 ? "sha256" : h == HashAlg.SHA384 ? "sha384" : "sha512";
}

function wasmVerify(alg: Alg, key: Jwk, input: Uint8Array, signature: Uint8Array): bool {
  switch (alg) {
    case Alg.RS256: case Alg.RS384: case Alg.RS512:
      return rsaPkcs1v15Verify(key.rsa!, algHash(alg), input, signature);
    case Alg.PS256: case Alg.PS384: case Alg.PS512:
      return rsaPssVerifyJws(key.rsa!, algHash(alg), input, signature);
    case Alg.ES256: case Alg.ES384:
      return ecdsaVerify(key.ec!, input, signature);
    case Alg.HS256: case Alg.HS384: case Alg.HS512:
      // hmacVerify compares the full tag in constant time (RFC 7518 §3.2: no truncation).
      return hmacVerify(algHash(alg), key.secret!, input, signature);
    case Alg.EdDSA:
      return ed25519Verify(key.ed!, input, signature);
  }
  return false;
}

/**
 * Verifies `signature` over `input` with `key` for `alg`. The caller has checked keyAllowsAlg.
 * Host mode: algorithms the host cannot verify (PS*, EdDSA, HS*) still use wasm; a host without
 * verify_signature fails closed (false). Auto mode falls back to wasm for the VM lifetime.
 */
export function verifySignature(state: CryptoState, alg: Alg, key: Jwk, input: Uint8Array, signature: Uint8Array): bool {
  if (!keyAllowsAlg(key, alg)) return false;
  const useHost = state.mode != CryptoMode.Wasm && hostSupports(alg) && key.spki !== null &&
    !(state.mode == CryptoMode.Auto && state.hostUnavailable);
  if (!useHost) return wasmVerify(alg, key, input, signature);
  let hostSignature: Uint8Array | null = signature;
  if (alg == Alg.ES256 || alg == Alg.ES384) {
    hostSignature = ecdsaSignatureToDer(signature, alg == Alg.ES256 ? 32 : 48);
    if (hostSignature === null) return false;
  }
  state.hostCalls++;
  const verdict = hostVerify(hashName(alg), key.spki!, hostSignature!, input);
  if (verdict == HostVerdict.Valid) return true;
  if (verdict == HostVerdict.Invalid) return false;
  if (state.mode == CryptoMode.Auto) {
    state.hostUnavailable = true;
    return wasmVerify(alg, key, input, signature);
  }
  return false; // crypto: host, and the host cannot verify: fail closed
}

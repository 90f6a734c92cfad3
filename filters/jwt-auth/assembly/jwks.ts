/**
 * JWKS parsing (RFC 7517 §5, key parameters RFC 7518 §6 and RFC 8037 §2). Every usable key is
 * turned, once per JWKS load, into the verifier object of its type (and, for the host crypto
 * path, its DER SubjectPublicKeyInfo). Keys that cannot be used are skipped with a reason; a JWKS
 * with no usable key is an error (Envoy: "Jwks doesn't have any valid public key").
 */
import { JsonValue, parseJson, jsonError } from "../../lib/json";
import { base64UrlDecode } from "../../lib/base64";
import { RsaPublicKey, rsaKeyError } from "../../lib/crypto/rsa";
import { Curve, EcPublicKey, ecKeyError } from "../../lib/crypto/ecdsa";
import { Ed25519PublicKey, ed25519KeyError } from "../../lib/crypto/ed25519";
import { rsaSpki, ecSpki, ed25519Spki } from "./der";

export enum KeyType { RSA, EC, OKP, Oct }

export class Jwk {
  kid: string | null = null;
  kty: KeyType = KeyType.RSA;
  /** `alg` member of the JWK, "" when absent (then any algorithm of the key type is allowed). */
  alg: string = "";
  curve: Curve = Curve.P256;
  rsa: RsaPublicKey | null = null;
  ec: EcPublicKey | null = null;
  ed: Ed25519PublicKey | null = null;
  secret: Uint8Array | null = null;
  /** SubjectPublicKeyInfo DER for the host `verify_signature` path (asymmetric keys). */
  spki: Uint8Array | null = null;
}

export class Jwks {
  keys: Array<Jwk> = new Array<Jwk>();
  /** One line per skipped key, for the log. */
  skipped: Array<string> = new Array<string>();
}

export let jwksError: string = "";

function member(obj: JsonValue, name: string): string | null {
  const v = obj.get(name);
  if (v === null || !v.isString()) return null;
  return v.stringValue;
}

/**
 * Records why the key at `where` is skipped. One shared helper instead of a `where + ": " + reason`
 * concatenation at each of the ~20 reasons below: the reasons are cold (once per JWKS load) and
 * each inline concatenation cost ~40 bytes of module code.
 */
function skip(skipped: Array<string>, where: string, reason: string): Jwk | null {
  skipped.push(where + ": " + reason);
  return null;
}

function decodeMember(obj: JsonValue, name: string, skipped: Array<string>, where: string): Uint8Array | null {
  const text = member(obj, name);
  let bytes: Uint8Array | null = null;
  if (text !== null) bytes = base64UrlDecode(text);
  if (bytes === null || bytes.length == 0) {
    skip(skipped, where, "[" + name + (text === null ? "] is missing or not a string" : "] is not valid base64url"));
    return null;
  }
  return bytes;
}

function parseKey(obj: JsonValue, where: string, skipped: Array<string>): Jwk | null {
  if (!obj.isObject()) return skip(skipped, where, "not an object");
  const jwk = new Jwk();
  const kidValue = obj.get("kid");
  if (kidValue !== null) {
    if (!kidValue.isString()) return skip(skipped, where, "[kid] is not a string");
    jwk.kid = kidValue.stringValue;
  }
  const use = obj.get("use");
  // RFC 7517 §4.2: encryption keys must not verify signatures.
  if (use !== null && (!use.isString() || use.stringValue != "sig")) return skip(skipped, where, "[use] is not \"sig\"");
  const alg = obj.get("alg");
  if (alg !== null) {
    if (!alg.isString()) return skip(skipped, where, "[alg] is not a string");
    jwk.alg = alg.stringValue;
  }
  const kty = member(obj, "kty");
  if (kty === null) return skip(skipped, where, "[kty] is missing in [keys]");
  if (kty == "RSA") {
    jwk.kty = KeyType.RSA;
    if (jwk.alg.length > 0 && !(jwk.alg.startsWith("RS") || jwk.alg.startsWith("PS"))) return skip(skipped, where, "[alg] is not started with [RS] or [PS] for an RSA key");
    const n = decodeMember(obj, "n", skipped, where);
    const e = decodeMember(obj, "e", skipped, where);
    if (n === null || e === null) return null;
    // jwt_verify_lib src/jwks.cc createRsaFromJwk refuses any exponent but 3 and 65537.
    let at = 0;
    while (at < e.length - 1 && e[at] == 0) at++;
    const eLength = e.length - at;
    if (!(eLength == 1 && e[at] == 3) && !(eLength == 3 && e[at] == 1 && e[at + 1] == 0 && e[at + 2] == 1)) return skip(skipped, where, "[e] is not 3 or 65537");
    const key = RsaPublicKey.fromComponents(n, e);
    if (key === null) return skip(skipped, where, rsaKeyError);
    jwk.rsa = key;
    jwk.spki = rsaSpki(n, e);
    return jwk;
  }
  if (kty == "EC") {
    jwk.kty = KeyType.EC;
    const crv = member(obj, "crv");
    if (crv == "P-256") jwk.curve = Curve.P256;
    else if (crv == "P-384") jwk.curve = Curve.P384;
    else return skip(skipped, where, "[crv] field is not supported for an EC key (P-256, P-384)");
    if (jwk.alg.length > 0 && jwk.alg != (jwk.curve == Curve.P256 ? "ES256" : "ES384")) return skip(skipped, where, "[crv] field specified is not compatible with [alg] for an EC key");
    const x = decodeMember(obj, "x", skipped, where);
    const y = decodeMember(obj, "y", skipped, where);
    if (x === null || y === null) return null;
    const key = EcPublicKey.fromCoordinates(jwk.curve, x, y);
    if (key === null) return skip(skipped, where, ecKeyError);
    jwk.ec = key;
    jwk.spki = ecSpki(jwk.curve == Curve.P384, x, y);
    return jwk;
  }
  if (kty == "OKP") {
    jwk.kty = KeyType.OKP;
    if (member(obj, "crv") != "Ed25519") return skip(skipped, where, "[crv] field is not supported for an OKP key (Ed25519)");
    if (jwk.alg.length > 0 && jwk.alg != "EdDSA") return skip(skipped, where, "[alg] is not [EdDSA] for an OKP key");
    const x = decodeMember(obj, "x", skipped, where);
    if (x === null) return null;
    const key = Ed25519PublicKey.fromBytes(x);
    if (key === null) return skip(skipped, where, ed25519KeyError);
    jwk.ed = key;
    jwk.spki = ed25519Spki(x);
    return jwk;
  }
  if (kty == "oct") {
    jwk.kty = KeyType.Oct;
    // jwt_verify_lib src/jwks.cc extractJwkFromJwkOct accepts only these three `alg` values.
    const hashBytes = jwk.alg == "HS512" ? 64 : jwk.alg == "HS384" ? 48 : 32;
    if (jwk.alg.length > 0 && jwk.alg != "HS256" && hashBytes == 32) return skip(skipped, where, "[alg] is not HS256, HS384 or HS512 for an HMAC key");
    const k = decodeMember(obj, "k", skipped, where);
    if (k === null) return null;
    // RFC 7518 §3.2: the key must be at least as long as the hash output. A shorter key can verify
    // no token (verify.ts keyAllowsAlg), so it must not count as usable: a JWKS of only such keys is
    // an error and, when fetched, does not replace the keys in force.
    if (k.length < hashBytes) return skip(skipped, where, "[k] is " + k.length.toString() + " bytes, shorter than the " + (hashBytes * 8).toString() + "-bit hash of " + (jwk.alg.length > 0 ? jwk.alg : "HS256"));
    jwk.secret = k;
    return jwk;
  }
  return skip(skipped, where, "[kty] \"" + kty + "\" is not supported in [keys]");
}

/** jwksError for a JWKS over one of the caps (`max_jwks_bytes`, `max_jwks_keys`). */
export function jwksOverLimit(what: string, value: i32, field: string, limit: i32): Jwks | null {
  jwksError = "Jwks has " + value.toString() + " " + what + ", more than " + field + " (" + limit.toString() + ")";
  return null;
}

/**
 * Parses JWKS text. Null on a document error, over a cap, or when no key is usable (jwksError
 * says why). The caps are checked before the expensive part: the byte size before parsing at
 * all, the key count before any key is decoded (a 400k-key JWKS must cost neither memory nor time).
 */
export function parseJwks(text: string, maxBytes: i32 = i32.MAX_VALUE, maxKeys: i32 = i32.MAX_VALUE): Jwks | null {
  const size = String.UTF8.byteLength(text);
  if (size > maxBytes) return jwksOverLimit("bytes", size, "max_jwks_bytes", maxBytes);
  const root = parseJson(text);
  if (root === null) { jwksError = "Jwks is an invalid JSON: " + jsonError; return null; }
  if (!root.isObject()) { jwksError = "Jwks is an invalid JSON: expected an object"; return null; }
  const keys = root.get("keys");
  if (keys === null) { jwksError = "Jwks does not have [keys] field"; return null; }
  if (!keys.isArray()) { jwksError = "[keys] in Jwks is not an array"; return null; }
  if (keys.items.length > maxKeys) return jwksOverLimit("keys", keys.items.length, "max_jwks_keys", maxKeys);
  const out = new Jwks();
  for (let i = 0; i < keys.items.length; i++) {
    const key = parseKey(keys.items[i], "keys[" + i.toString() + "]", out.skipped);
    if (key !== null) out.keys.push(key);
  }
  if (out.keys.length == 0) {
    jwksError = "Jwks doesn't have any valid public key" + (out.skipped.length > 0 ? ": " + out.skipped.join("; ") : "");
    return null;
  }
  jwksError = "";
  return out;
}

/**
 * RSA signature verification for JWS RS256/384/512 (RSASSA-PKCS1-v1_5) and PS256/384/512
 * (RSASSA-PSS), RFC 7518 sections 3.3 and 3.5 over RFC 8017 sections 8.1.2 and 8.2.2.
 *
 * Keys: RsaPublicKey.fromComponents (rsa-key.ts). No allocation per verify: hashes, encodings and
 * big-integer work use scratch owned by the key or by this module (the first PKCS#1 v1.5 verify
 * per key and hash builds that key's constants once, see rsa-pkcs1-expectation.ts).
 */
import { HashAlg, hashLength, isHashAlg } from "./hash";
import { digestRawInto } from "./sha2";
import { RsaPublicKey } from "./rsa-key";
import { verifyPss } from "./rsa-emsa";

export { RsaPublicKey, rsaKeyError, RSA_MIN_MODULUS_BITS, RSA_MAX_MODULUS_BITS } from "./rsa-key";

const messageHash = new StaticArray<u8>(64);

/**
 * RSASSA-PKCS1-V1_5-VERIFY (RFC 8017 section 8.2.2): s^e mod n must equal, byte for byte, the
 * EMSA-PKCS1-v1_5 encoding of Hash(message). Encode-and-compare, never parse (no BER leniency,
 * no trailing garbage; see "Bleichenbacher 2006" / CVE-2006-4339); the comparison is done on
 * the integers, in a form that saves one Montgomery product (RsaPublicKey.pkcs1v15Matches).
 */
export function rsaPkcs1v15Verify(key: RsaPublicKey, alg: HashAlg, message: Uint8Array, signature: Uint8Array): bool {
  if (!isHashAlg(alg)) return false;
  if (signature.length != key.modulusLength) return false;
  const hash = changetype<usize>(messageHash);
  digestRawInto(alg, message.dataStart, message.length, hash);
  return key.pkcs1v15Matches(signature.dataStart, signature.length, alg, hash, hashLength(alg));
}

/**
 * RSASSA-PSS-VERIFY (RFC 8017 section 8.1.2) with MGF1 over the same hash and the given salt
 * length (JWS PS256/384/512 use saltLength = hashLength(alg), RFC 7518 section 3.5).
 */
export function rsaPssVerify(key: RsaPublicKey, alg: HashAlg, message: Uint8Array, signature: Uint8Array, saltLength: i32): bool {
  if (!isHashAlg(alg)) return false;
  if (!key.publicOperation(signature.dataStart, signature.length)) return false;
  // Step 2c: EM = I2OSP(m, emLen) with emBits = modBits − 1. When modBits ≡ 1 (mod 8), emLen is
  // k − 1 and the leading byte of the k-byte result must be zero ("integer too large" otherwise).
  const emBits = key.bits - 1;
  const emLength = (emBits + 7) >> 3;
  const leading = key.modulusLength - emLength;
  const encoded = changetype<usize>(key.encodedMessage);
  if (leading > 0 && load<u8>(encoded) != 0) return false;
  const hash = changetype<usize>(messageHash);
  digestRawInto(alg, message.dataStart, message.length, hash);
  return verifyPss(alg, hash, encoded + <usize>leading, emLength, emBits, saltLength);
}

/** JWS PS256/PS384/PS512: PSS with salt length equal to the hash length (RFC 7518 section 3.5). */
export function rsaPssVerifyJws(key: RsaPublicKey, alg: HashAlg, message: Uint8Array, signature: Uint8Array): bool {
  return rsaPssVerify(key, alg, message, signature, hashLength(alg));
}

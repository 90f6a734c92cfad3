/**
 * Hash algorithms shared by the JWS verifiers (RS*, PS*, HS*, ES*).
 * SHA-256 / SHA-384 / SHA-512 as specified in FIPS 180-4.
 */
export enum HashAlg {
  SHA256 = 0,
  SHA384 = 1,
  SHA512 = 2,
}

/** Digest length in bytes (FIPS 180-4 section 1, table 1). */
export function hashLength(alg: HashAlg): i32 {
  if (alg == HashAlg.SHA256) return 32;
  if (alg == HashAlg.SHA384) return 48;
  return 64;
}

/** Message block length in bytes; HMAC pads its key to this size (RFC 2104 section 2). */
export function hashBlockLength(alg: HashAlg): i32 {
  return alg == HashAlg.SHA256 ? 64 : 128;
}

/** True for the three values of the enum; guards public entry points against casts from i32. */
export function isHashAlg(alg: i32): bool {
  return alg >= 0 && alg <= 2;
}

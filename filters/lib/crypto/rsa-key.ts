/**
 * RSA public keys (RFC 8017 section 3.1) built once per JWKS load, with every key-dependent
 * Montgomery constant precomputed, and the RSAVP1 primitive (section 5.2.2).
 */
import { bitLengthBE, newLimbs, limbsFromBytesBE, bytesBEFromLimbs } from "./bigint";
import { MontgomeryModulus } from "./montgomery";

export const RSA_MIN_MODULUS_BITS: i32 = 2048;
export const RSA_MAX_MODULUS_BITS: i32 = 4096;

/** Why the last RsaPublicKey.fromComponents call returned null ("" after a success). */
export let rsaKeyError: string = "";

export class RsaPublicKey {
  /** Bit length of the modulus n. */
  readonly bits: i32;
  /** k: length of n in bytes, which is also the signature length (RFC 8017 section 8.2.2 step 1). */
  readonly modulusLength: i32;
  /** Public exponent e (odd, 3 ≤ e < 2^32). */
  readonly exponent: u32;
  readonly montgomery: MontgomeryModulus;
  /** n big-endian, exactly modulusLength bytes. */
  private readonly modulusBytes: StaticArray<u8>;
  // Scratch reused by every verify with this key.
  private readonly base: StaticArray<u32>;
  private readonly baseMontgomery: StaticArray<u32>;
  private readonly accumulator: StaticArray<u32>;
  /** Output of the last successful publicOperation: s^e mod n, big-endian, modulusLength bytes. */
  readonly encodedMessage: StaticArray<u8>;
  /** Scratch the EMSA encoders write their expected encoding into (modulusLength bytes). */
  readonly expectedMessage: StaticArray<u8>;

  private constructor(modulus: usize, modulusLength: i32, bits: i32, exponent: u32) {
    const modulusBytes = new StaticArray<u8>(modulusLength);
    memory.copy(changetype<usize>(modulusBytes), modulus, <usize>modulusLength);
    const montgomery = new MontgomeryModulus(modulus, modulusLength, bits);
    const limbs = montgomery.limbCount;
    this.bits = bits;
    this.modulusLength = modulusLength;
    this.exponent = exponent;
    this.modulusBytes = modulusBytes;
    this.montgomery = montgomery;
    this.base = newLimbs(limbs);
    this.baseMontgomery = newLimbs(limbs);
    this.accumulator = newLimbs(limbs);
    this.encodedMessage = new StaticArray<u8>(modulusLength);
    this.expectedMessage = new StaticArray<u8>(modulusLength);
  }

  /**
   * Builds a key from the big-endian unsigned integers of a JWK's `n` and `e` (RFC 7518 section
   * 6.3.1) after base64url decoding. Leading zero bytes are ignored. Returns null and sets
   * rsaKeyError when n is not an odd 2048–4096-bit number or e is not an odd number in [3, 2^32).
   */
  static fromComponents(modulus: Uint8Array, exponent: Uint8Array): RsaPublicKey | null {
    const modulusStart = skipLeadingZeros(modulus);
    const modulusLength = modulus.length - modulusStart;
    const modulusPtr = modulus.dataStart + <usize>modulusStart;
    const bits = bitLengthBE(modulusPtr, modulusLength);
    if (bits < RSA_MIN_MODULUS_BITS || bits > RSA_MAX_MODULUS_BITS) {
      rsaKeyError = "RSA modulus is " + bits.toString() + " bits; expected " +
        RSA_MIN_MODULUS_BITS.toString() + " to " + RSA_MAX_MODULUS_BITS.toString() + " bits";
      return null;
    }
    if ((load<u8>(modulusPtr + <usize>(modulusLength - 1)) & 1) == 0) {
      rsaKeyError = "RSA modulus is even; expected an odd modulus (product of two odd primes)";
      return null;
    }
    const exponentStart = skipLeadingZeros(exponent);
    const exponentLength = exponent.length - exponentStart;
    // Bound e like Go's crypto/rsa (checkPub rejects e > 2^31-1) and OpenSSL's 64-bit limit for
    // small moduli: real JWKS carry 65537 ("AQAB") or 3 ("Aw"); a huge e only costs verify time.
    if (exponentLength > 4) {
      rsaKeyError = "RSA public exponent is " + (exponentLength * 8).toString() +
        " bits long; expected an odd exponent of at most 32 bits";
      return null;
    }
    let e: u32 = 0;
    for (let i = exponentStart; i < exponent.length; i++) e = (e << 8) | <u32>unchecked(exponent[i]);
    if (e < 3 || (e & 1) == 0) {
      rsaKeyError = "RSA public exponent is " + e.toString() + "; expected an odd exponent of at least 3";
      return null;
    }
    rsaKeyError = "";
    return new RsaPublicKey(modulusPtr, modulusLength, bits, e);
  }

  /**
   * RSAVP1 (RFC 8017 section 5.2.2) for a signature of exactly modulusLength bytes:
   * writes s^e mod n to encodedMessage. Returns false if the length differs or s ≥ n.
   * Not constant-time: every input is public.
   */
  publicOperation(signature: usize, signatureLength: i32): bool {
    const k = this.modulusLength;
    if (signatureLength != k) return false;
    if (memory.compare(signature, changetype<usize>(this.modulusBytes), <usize>k) >= 0) return false;

    const mont = this.montgomery;
    const limbs = mont.limbCount;
    const base = changetype<usize>(this.base);
    limbsFromBytesBE(base, limbs, signature, k);
    const acc = changetype<usize>(this.accumulator);
    const baseMontgomery = changetype<usize>(this.baseMontgomery);
    // s·R mod n: the Montgomery form of s.
    mont.mul(baseMontgomery, base, changetype<usize>(mont.rSquared));
    memory.copy(acc, baseMontgomery, <usize>limbs << 2);
    // Left-to-right binary exponentiation over the bits of e below the top bit
    // (for e = 65537: 16 squarings and no multiply).
    const e = this.exponent;
    for (let bit = 30 - <i32>clz<u32>(e); bit >= 1; bit--) {
      mont.sqr(acc, acc);
      if ((e >> bit) & 1) mont.mul(acc, acc, baseMontgomery);
    }
    // Bit 0 is always set (e is odd). Multiplying by plain s instead of s·R also leaves the
    // Montgomery domain: (s^(e-1)·R)·s·R^-1 = s^e.
    mont.sqr(acc, acc);
    mont.mul(acc, acc, base);
    mont.reduce(acc);
    return bytesBEFromLimbs(changetype<usize>(this.encodedMessage), k, acc, limbs);
  }
}

function skipLeadingZeros(bytes: Uint8Array): i32 {
  let i = 0;
  while (i < bytes.length && unchecked(bytes[i]) == 0) i++;
  return i;
}

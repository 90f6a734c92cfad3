/**
 * RSA public keys (RFC 8017 section 3.1) built once per JWKS load, with every key-dependent
 * Montgomery constant precomputed, and the RSAVP1 primitive (section 5.2.2).
 */
import { bitLengthBE, newLimbs, limbsFromBytesBE, bytesBEFromLimbs } from "./bigint";
import { MontgomeryModulus } from "./montgomery";
import { HashAlg } from "./hash";
import { Pkcs1Expectation } from "./rsa-pkcs1-expectation";

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
  /** exponentChain(1) = R^-d mod N, computed on the first PKCS#1 v1.5 verify (PSS never needs it). */
  private chainConstant: StaticArray<u32> | null = null;
  /** Per HashAlg: PKCS#1 v1.5 constants (rsa-pkcs1-expectation.ts), built on first use. */
  private readonly expectations: StaticArray<Pkcs1Expectation | null> = new StaticArray<Pkcs1Expectation | null>(3);
  /** Whether expectations[alg] was built (it stays null when the modulus is too short for the hash). */
  private readonly expectationBuilt: StaticArray<bool> = new StaticArray<bool>(3);

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

  /**
   * RSASSA-PKCS1-v1_5 signature check (RFC 8017 section 8.2.2 steps 1–4) for a signature of
   * modulusLength bytes against the `hashLength`-byte digest at `hash`: true when s < n and
   * s^e mod n equals EMSA-PKCS1-V1_5-ENCODE(digest). Same verdict as publicOperation followed
   * by encodePkcs1v15 and a byte comparison, one Montgomery product cheaper (see
   * rsa-pkcs1-expectation.ts). Not constant-time: every input is public.
   */
  pkcs1v15Matches(signature: usize, signatureLength: i32, alg: HashAlg, hash: usize, hashLength: i32): bool {
    const k = this.modulusLength;
    if (signatureLength != k) return false;
    if (memory.compare(signature, changetype<usize>(this.modulusBytes), <usize>k) >= 0) return false;
    const expectation = this.expectationFor(alg);
    if (expectation === null) return false;
    const mont = this.montgomery;
    const base = changetype<usize>(this.base);
    limbsFromBytesBE(base, mont.limbCount, signature, k);
    const y = changetype<usize>(this.accumulator);
    exponentChain(mont, this.exponent, y, base);
    return expectation.matches(mont, y, hash, hashLength);
  }

  private expectationFor(alg: HashAlg): Pkcs1Expectation | null {
    const index = <i32>alg;
    if (unchecked(this.expectationBuilt[index])) return unchecked(this.expectations[index]);
    const mont = this.montgomery;
    let chainConstant = this.chainConstant;
    if (chainConstant === null) {
      const one = newLimbs(mont.limbCount);
      unchecked(one[0] = 1);
      chainConstant = newLimbs(mont.limbCount);
      exponentChain(mont, this.exponent, changetype<usize>(chainConstant), changetype<usize>(one));
      this.chainConstant = chainConstant;
    }
    const built = Pkcs1Expectation.build(mont, this.modulusLength, changetype<usize>(chainConstant),
      alg, changetype<usize>(this.expectedMessage));
    unchecked(this.expectations[index] = built);
    unchecked(this.expectationBuilt[index] = true);
    return built;
  }
}

/**
 * The square-and-multiply chain of publicOperation run on a plain (non-Montgomery) value:
 * writes x^e·R^-d mod N (< N) to `out`, where d depends only on e — each squaring adds one
 * factor R^-1 and doubles the ones before, each multiplication by plain x adds one. One product
 * fewer than publicOperation (no entry into the Montgomery domain); see rsa-pkcs1-expectation.ts.
 * `x` (< N, limbCount limbs) must not alias `out`.
 */
function exponentChain(mont: MontgomeryModulus, e: u32, out: usize, x: usize): void {
  memory.copy(out, x, <usize>mont.limbCount << 2);
  for (let bit = 30 - <i32>clz<u32>(e); bit >= 1; bit--) {
    mont.sqr(out, out);
    if ((e >> bit) & 1) mont.mul(out, out, x);
  }
  // Bit 0 is always set (e is odd).
  mont.sqr(out, out);
  mont.mul(out, out, x);
  mont.reduce(out);
}

function skipLeadingZeros(bytes: Uint8Array): i32 {
  let i = 0;
  while (i < bytes.length && unchecked(bytes[i]) == 0) i++;
  return i;
}

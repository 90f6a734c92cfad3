/**
 * RSASSA-PKCS1-v1_5 verification (RFC 8017 section 8.2.2) without leaving the Montgomery domain.
 *
 * Why: RSAVP1 in Montgomery form costs, for e = 65537, one multiplication to enter the domain
 * (s·R² · R^-1), 16 squarings and one multiplication — 18 full Montgomery products, each O(n²).
 * RsaPublicKey.exponentChain skips the entry: it runs the same squarings and multiplications on
 * plain s, which yields y = s^e · c mod N for a constant c = R^-d that depends only on the key
 * (d follows from the bits of e; chain(1) = c). 17 products for e = 65537, 2 instead of 3 for e = 3.
 *
 * Since c is invertible mod N (N odd, R a power of two), s^e ≡ EM (mod N) ⟺ y ≡ EM·c (mod N),
 * and both sides are reduced below N, so the test is limb equality. EM < N always (it starts with
 * 0x00 0x01 and has the length of N), so this is exactly the byte comparison of section 8.2.2
 * step 4 — still encode-and-compare against the one DER form (no parsing, no BER leniency).
 *
 * EM·c is split by where the hash sits: EM = A + H, with A = EM with the hash bytes zero (fixed
 * per key and hash) and H the hash as an integer (its last hLen bytes). A·c mod N is computed once
 * per key and hash; H·c mod N per verify with a short Montgomery reduction by R_h = 2^(28·h),
 * h = the hash's limb count: H·(c·R_h mod N) is h×n limb products, and reducing it by R_h another
 * h×n — about 1,500 products for SHA-256 against ~11,000 for the entry multiplication it replaces.
 */
import { LIMB_BITS, LIMB_MASK, newLimbs, limbsFromBytesBE, reduceBelow, compareLimbs, limbsForBits } from "./bigint";
import { MontgomeryModulus, MAX_LIMBS } from "./montgomery";
import { HashAlg, hashLength } from "./hash";
import { encodePkcs1v15 } from "./rsa-emsa";

/** Limbs of the longest hash (SHA-512: 512 bits → 19 limbs). */
const MAX_HASH_LIMBS: i32 = 19;

// Scratch shared by every key (verification is single-threaded and never re-entered).
const ZERO_HASH = new StaticArray<u8>(64);
const hashLimbs = newLimbs(MAX_HASH_LIMBS);
/** Column sums of H·M and of the reduction, 64-bit so that a row adds without carrying. */
const wide = new StaticArray<u64>(MAX_LIMBS + MAX_HASH_LIMBS + 8);
const sum = newLimbs(MAX_LIMBS);

export class Pkcs1Expectation {
  /** h: limbs of the hash; R_h = 2^(28·h) > H. */
  readonly hashLimbCount: i32;
  /** A·c mod N (< N). */
  readonly offset: StaticArray<u32>;
  /** c·R_h mod N (< N). */
  readonly hashMultiplier: StaticArray<u32>;

  private constructor(hashLimbCount: i32, offset: StaticArray<u32>, hashMultiplier: StaticArray<u32>) {
    this.hashLimbCount = hashLimbCount;
    this.offset = offset;
    this.hashMultiplier = hashMultiplier;
  }

  /**
   * Constants for `alg` under modulus `mont` (k = modulusLength bytes) and chain constant `c`
   * (limbs, < N). `scratch` holds k bytes. Null when k is too short for the encoding (RFC 8017
   * section 9.2 step 3): such a key can verify no signature with this hash.
   */
  static build(mont: MontgomeryModulus, modulusLength: i32, c: usize, alg: HashAlg, scratch: usize): Pkcs1Expectation | null {
    if (!encodePkcs1v15(alg, changetype<usize>(ZERO_HASH), scratch, modulusLength)) return null;
    const n = mont.limbCount;
    const rSquared = changetype<usize>(mont.rSquared);
    // A < N (see the file comment), so it fits the n limbs.
    const a = newLimbs(n);
    limbsFromBytesBE(changetype<usize>(a), n, scratch, modulusLength);
    // offset = A·c: (A·c·R^-1)·R²·R^-1.
    const offset = newLimbs(n);
    mont.mul(changetype<usize>(offset), changetype<usize>(a), c);
    mont.mul(changetype<usize>(offset), changetype<usize>(offset), rSquared);
    mont.reduce(changetype<usize>(offset));
    // hashMultiplier = c·R_h: (c·R²·R^-1)·R_h·R^-1. R_h = 2^(28h) ≤ 2^532 < N is a valid operand.
    const h = limbsForBits(hashLength(alg) * 8);
    const cR = newLimbs(n);
    mont.mul(changetype<usize>(cR), c, rSquared);
    const rH = newLimbs(n);
    unchecked(rH[h] = 1);
    const hashMultiplier = newLimbs(n);
    mont.mul(changetype<usize>(hashMultiplier), changetype<usize>(cR), changetype<usize>(rH));
    mont.reduce(changetype<usize>(hashMultiplier));
    return new Pkcs1Expectation(h, offset, hashMultiplier);
  }

  /**
   * True when y (limbs, < N) equals EM·c mod N for the EMSA-PKCS1-v1_5 encoding EM of the
   * `hashLength`-byte big-endian digest at `hash`.
   */
  matches(mont: MontgomeryModulus, y: usize, hash: usize, hashLengthBytes: i32): bool {
    const n = mont.limbCount;
    const h = this.hashLimbCount;
    const hPtr = changetype<usize>(hashLimbs);
    limbsFromBytesBE(hPtr, h, hash, hashLengthBytes);
    const t = changetype<usize>(wide);
    memory.fill(t, 0, <usize>(n + h + 1) << 3);
    // T = H·M, column sums of at most h < 20 products below 2^56: no overflow in u64.
    const multiplier = changetype<usize>(this.hashMultiplier);
    for (let i = 0; i < h; i++) {
      const hi = <u64>load<u32>(hPtr + (<usize>i << 2));
      addRow(t + (<usize>i << 3), hi, multiplier, n);
    }
    // Montgomery reduction by R_h: h rows m·N, each zeroing the low 28 bits of T[i]; carries
    // move up one limb per row (a limb then holds < 2h products plus a carry < 2^62).
    const modulus = changetype<usize>(mont.modulus);
    const n0inv = mont.n0inv;
    for (let i = 0; i < h; i++) {
      const at = t + (<usize>i << 3);
      const m = (<u32>load<u64>(at) * n0inv) & LIMB_MASK;
      addRow(at, <u64>m, modulus, n);
      store<u64>(at, load<u64>(at, 8) + (load<u64>(at) >> LIMB_BITS), 8);
    }
    // (H·M + m·N) / R_h < 2N < 2^(28n): normalize T[h..h+n) into n limbs.
    const z = changetype<usize>(sum);
    let carry: u64 = 0;
    for (let j = 0; j < n; j++) {
      const v = load<u64>(t + (<usize>(h + j) << 3)) + carry;
      store<u32>(z + (<usize>j << 2), <u32>v & LIMB_MASK);
      carry = v >> LIMB_BITS;
    }
    if (carry != 0) return false; // unreachable for a well-formed key; fail closed
    reduceBelow(z, modulus, n);
    // z + offset < 2N.
    const offset = changetype<usize>(this.offset);
    let c: u32 = 0;
    for (let j = 0; j < n; j++) {
      const v = load<u32>(z + (<usize>j << 2)) + load<u32>(offset + (<usize>j << 2)) + c;
      store<u32>(z + (<usize>j << 2), v & LIMB_MASK);
      c = v >> LIMB_BITS;
    }
    if (c != 0) return false; // unreachable: 2N < R
    reduceBelow(z, modulus, n);
    // Public values only: a variable-time comparison leaks nothing.
    return compareLimbs(z, y, n) == 0;
  }
}

/** T[j] += x·V[j] for j < n (u64 columns; the caller bounds the number of rows per column). */
function addRow(t: usize, x: u64, v: usize, n: i32): void {
  for (let j = 0; j < n; j++) {
    const at = t + (<usize>j << 3);
    store<u64>(at, load<u64>(at) + x * <u64>load<u32>(v + (<usize>j << 2)));
  }
}

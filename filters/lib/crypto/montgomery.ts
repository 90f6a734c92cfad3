/**
 * Montgomery arithmetic modulo an odd N of up to 4096 bits, on 28-bit limbs (see bigint.ts).
 *
 * Multiplication is Koç's "finely integrated product scanning" (FIPS) form of Montgomery
 * multiplication (Koç, Acar, Kaliski, "Analyzing and Comparing Montgomery Multiplication
 * Algorithms", IEEE Micro 1996): the product a·b and the reduction m·N are summed column by
 * column, so the innermost loop is a plain dot product — one 28×28→56-bit multiply and one u64
 * add per term, no carry handling. Each column's sum is split into two accumulators (a·b part and
 * m·N part) so that 4096-bit moduli (147 limbs, up to 294 products per column) cannot overflow.
 *
 * Reduction is lazy ("almost Montgomery"): with R = 2^(28·limbCount) ≥ 4N, inputs below 2N give
 * outputs below 2N, so no conditional subtraction is needed between operations; callers reduce
 * once at the end (reduceBelow).
 *
 * Two builds: with `--enable simd` (ASC_FEATURE_SIMD) the dot products use
 * i64x2.extmul_{low,high}_i32x4_u on reversed operand copies; without it, scalar loops
 * (montgomery-kernels.ts).
 */
import {
  LIMB_BITS, LIMB_MASK, newLimbs, limbsFromBytesBE, doubleModulo, reduceBelow, copyLimbs,
} from "./bigint";
import {
  REGION_LIMBS, workspaceM, workspaceN, workspaceY, montMulScalar, montSqrScalar, montMulSimd, montSqrPairSimd,
} from "./montgomery-kernels";

/** Largest limb count the kernel workspace holds (4096-bit modulus + 2 bits headroom = 147). */
export const MAX_LIMBS: i32 = REGION_LIMBS - 8;

export class MontgomeryModulus {
  /** Limbs of N (and of every residue); R = 2^(28·limbCount). */
  readonly limbCount: i32;
  /** N as little-endian 28-bit limbs, zero padded. */
  readonly modulus: StaticArray<u32>;
  /** -N^-1 mod 2^28. */
  readonly n0inv: u32;
  /** R^2 mod N: multiplying by it converts into the Montgomery domain. */
  readonly rSquared: StaticArray<u32>;
  /** Kernel workspace (see montgomery-kernels.ts); its N region is filled once here. */
  private readonly workspace: StaticArray<u32>;

  /**
   * `modulusBytes` is N big-endian; N must be odd and have `bits` significant bits, with
   * bits + 2 ≤ 28·MAX_LIMBS (RsaPublicKey.fromComponents enforces ≤ 4096).
   * limbCount is chosen so that 4N < R (two bits of headroom for lazy reduction).
   */
  constructor(modulusBytes: usize, modulusLength: i32, bits: i32) {
    const limbCount = (bits + 2 + LIMB_BITS - 1) / LIMB_BITS;
    const modulus = newLimbs(limbCount);
    limbsFromBytesBE(changetype<usize>(modulus), limbCount, modulusBytes, modulusLength);
    const workspace = new StaticArray<u32>(4 * REGION_LIMBS);
    const modulusRegion = workspaceN(changetype<usize>(workspace));
    if (ASC_FEATURE_SIMD) reverseLimbs(modulusRegion, changetype<usize>(modulus), limbCount);
    else copyLimbs(modulusRegion, changetype<usize>(modulus), limbCount);
    this.limbCount = limbCount;
    this.modulus = modulus;
    this.n0inv = negativeInverse28(unchecked(modulus[0]));
    this.workspace = workspace;
    this.rSquared = newLimbs(limbCount);
    this.computeRSquared(bits);
  }

  /** out = a·b·R^-1 mod N (result < 2N for inputs < 2N). `out` may alias `a` or `b`. */
  mul(out: usize, a: usize, b: usize): void {
    const n = this.limbCount;
    const w = changetype<usize>(this.workspace);
    copyLimbs(w, a, n);
    memory.fill(workspaceM(w), 0, <usize>n << 2);
    if (ASC_FEATURE_SIMD) {
      reverseLimbs(workspaceY(w), b, n);
      montMulSimd(out, w, n, this.n0inv);
    } else {
      copyLimbs(workspaceY(w), b, n);
      montMulScalar(out, w, n, this.n0inv);
    }
  }

  /** out = a²·R^-1 mod N (result < 2N for a < 2N). `out` may alias `a`. */
  sqr(out: usize, a: usize): void {
    const n = this.limbCount;
    const w = changetype<usize>(this.workspace);
    memory.fill(workspaceM(w), 0, <usize>n << 2);
    if (ASC_FEATURE_SIMD) {
      // Y first: `a` may alias nothing in the workspace, but X is overwritten with 2a.
      reverseLimbs(workspaceY(w), a, n);
      doubleLimbs(w, a, n);
      montSqrPairSimd(out, w, n, this.n0inv);
    } else {
      copyLimbs(w, a, n);
      montSqrScalar(out, w, n, this.n0inv);
    }
  }

  /** Reduces a residue below 2N (any Montgomery output) to the canonical value below N. */
  reduce(x: usize): void {
    reduceBelow(x, changetype<usize>(this.modulus), this.limbCount);
  }

  /**
   * R^2 mod N without a general division: x = R·2^k mod N is grown to k = 28·limbCount by
   * following the bits of that exponent — a Montgomery squaring doubles k (R·2^k squared over R
   * is R·2^2k), a modular doubling adds one.
   */
  private computeRSquared(bits: i32): void {
    const n = this.limbCount;
    const nPtr = changetype<usize>(this.modulus);
    const x = changetype<usize>(this.rSquared);
    // 2^(bits-1) < N, so it is already reduced; doubling it up to 2^(28n+1) gives R·2 mod N (k = 1).
    const topBit = bits - 1;
    store<u32>(x + (<usize>(topBit / LIMB_BITS) << 2), 1 << (topBit % LIMB_BITS));
    const doublings = LIMB_BITS * n + 1 - topBit;
    for (let i = 0; i < doublings; i++) doubleModulo(x, nPtr, n);
    const target = LIMB_BITS * n;
    for (let bit = 30 - clz<u32>(<u32>target); bit >= 0; bit--) {
      this.sqr(x, x);
      reduceBelow(x, nPtr, n);
      if ((target >> bit) & 1) doubleModulo(x, nPtr, n);
    }
  }
}

/** -n0^-1 mod 2^28 for odd n0, by Newton iteration (each step doubles the correct low bits). */
function negativeInverse28(n0: u32): u32 {
  let inverse: u32 = n0; // correct to 3 bits for odd n0
  for (let i = 0; i < 4; i++) inverse *= 2 - n0 * inverse;
  return (0 - inverse) & LIMB_MASK;
}

/** out[t] = 2·a[t] (29-bit values; the squaring kernel's doubled operand). */
function doubleLimbs(out: usize, a: usize, n: i32): void {
  for (let t = 0; t < n; t++) {
    store<u32>(out + (<usize>t << 2), load<u32>(a + (<usize>t << 2)) << 1);
  }
}

function reverseLimbs(out: usize, a: usize, n: i32): void {
  for (let t = 0; t < n; t++) {
    store<u32>(out + (<usize>t << 2), load<u32>(a + (<usize>(n - 1 - t) << 2)));
  }
}

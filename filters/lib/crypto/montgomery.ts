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
 * i64x2.extmul_{low,high}_i32x4_u on reversed operand copies; without it, scalar loops.
 */
import {
  LIMB_BITS, LIMB_MASK, LIMB_PADDING, newLimbs, limbsFromBytesBE, doubleModulo, reduceBelow, copyLimbs,
} from "./bigint";

export class MontgomeryModulus {
  /** Limbs of N (and of every residue); R = 2^(28·limbCount). */
  readonly limbCount: i32;
  /** N as little-endian 28-bit limbs, zero padded. */
  readonly modulus: StaticArray<u32>;
  /** N with limbs in reverse order (index t holds limb limbCount-1-t), zero padded: SIMD operand. */
  readonly modulusReversed: StaticArray<u32>;
  /** -N^-1 mod 2^28. */
  readonly n0inv: u32;
  /** R^2 mod N: multiplying by it converts into the Montgomery domain. */
  readonly rSquared: StaticArray<u32>;
  // Per-modulus scratch, reused by every operation (no allocation per verify).
  private readonly quotient: StaticArray<u32>;
  private readonly reversedOperand: StaticArray<u32>;

  /**
   * `modulusBytes` is N big-endian; N must be odd and have `bits` significant bits.
   * limbCount is chosen so that 4N < R (two bits of headroom for lazy reduction).
   */
  constructor(modulusBytes: usize, modulusLength: i32, bits: i32) {
    const limbCount = (bits + 2 + LIMB_BITS - 1) / LIMB_BITS;
    const modulus = newLimbs(limbCount);
    limbsFromBytesBE(changetype<usize>(modulus), limbCount, modulusBytes, modulusLength);
    const modulusReversed = newLimbs(limbCount);
    reverseLimbs(changetype<usize>(modulusReversed), changetype<usize>(modulus), limbCount);
    this.limbCount = limbCount;
    this.modulus = modulus;
    this.modulusReversed = modulusReversed;
    this.n0inv = negativeInverse28(unchecked(modulus[0]));
    this.quotient = newLimbs(limbCount);
    this.reversedOperand = newLimbs(limbCount);
    this.rSquared = newLimbs(limbCount);
    this.computeRSquared(bits);
  }

  /** out = a·b·R^-1 mod N (result < 2N for inputs < 2N). `out` must not alias `a` or `b`. */
  mul(out: usize, a: usize, b: usize): void {
    const n = this.limbCount;
    const m = changetype<usize>(this.quotient);
    memory.fill(m, 0, <usize>n << 2);
    if (ASC_FEATURE_SIMD) {
      const rb = changetype<usize>(this.reversedOperand);
      reverseLimbs(rb, b, n);
      montMulSimd(out, a, rb, changetype<usize>(this.modulus), changetype<usize>(this.modulusReversed), m, n, this.n0inv);
    } else {
      montMulScalar(out, a, b, changetype<usize>(this.modulus), m, n, this.n0inv);
    }
  }

  /** out = a²·R^-1 mod N (result < 2N for a < 2N). `out` must not alias `a`. */
  sqr(out: usize, a: usize): void {
    const n = this.limbCount;
    const m = changetype<usize>(this.quotient);
    memory.fill(m, 0, <usize>n << 2);
    if (ASC_FEATURE_SIMD) {
      const ra = changetype<usize>(this.reversedOperand);
      reverseLimbs(ra, a, n);
      montSqrSimd(out, a, ra, changetype<usize>(this.modulus), changetype<usize>(this.modulusReversed), m, n, this.n0inv);
    } else {
      montSqrScalar(out, a, changetype<usize>(this.modulus), m, n, this.n0inv);
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
    // Kept in a local of a managed type so the collector sees it for the whole computation.
    const scratch = newLimbs(n);
    const tmp = changetype<usize>(scratch);
    // 2^(bits-1) < N, so it is already reduced; doubling it up to 2^(28n+1) gives R·2 mod N (k = 1).
    const topBit = bits - 1;
    store<u32>(x + (<usize>(topBit / LIMB_BITS) << 2), 1 << (topBit % LIMB_BITS));
    const doublings = LIMB_BITS * n + 1 - topBit;
    for (let i = 0; i < doublings; i++) doubleModulo(x, nPtr, n);
    const target = LIMB_BITS * n;
    for (let bit = 30 - clz<u32>(<u32>target); bit >= 0; bit--) {
      this.sqr(tmp, x);
      reduceBelow(tmp, nPtr, n);
      copyLimbs(x, tmp, n);
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

function reverseLimbs(out: usize, a: usize, n: i32): void {
  for (let t = 0; t < n; t++) {
    store<u32>(out + (<usize>t << 2), load<u32>(a + (<usize>(n - 1 - t) << 2)));
  }
}

// ---------------------------------------------------------------------------------------------
// Column finishing shared by all variants. `ab` and `mn` are the two column sums (each < 2^64),
// `carry` the carry from the previous column. Returns the low 28 bits of ab + mn + carry via
// `columnLow`, and the carry out as the function result.
// ---------------------------------------------------------------------------------------------
let columnLow: u64 = 0;

// @ts-ignore: decorator
@inline function splitColumn(ab: u64, mn: u64, carry: u64): u64 {
  // ab + mn + carry can exceed 2^64 for 4096-bit moduli; summing low and high parts separately cannot.
  const low = (ab & LIMB_MASK) + (mn & LIMB_MASK) + carry;
  columnLow = low;
  return (ab >> LIMB_BITS) + (mn >> LIMB_BITS);
}

// ---------------------------------------------------------------------------------------------
// Scalar variant.
// ---------------------------------------------------------------------------------------------
function montMulScalar(out: usize, a: usize, b: usize, nn: usize, m: usize, n: i32, n0inv: u32): void {
  let carry: u64 = 0;
  const n0 = <u64>load<u32>(nn);
  for (let i = 0; i < n; i++) {
    let ab: u64 = 0, mn: u64 = 0;
    const iOffset = <usize>i << 2;
    for (let off: usize = 0; off < iOffset; off += 4) {
      ab += <u64>load<u32>(a + off) * <u64>load<u32>(b + iOffset - off);
      mn += <u64>load<u32>(m + off) * <u64>load<u32>(nn + iOffset - off);
    }
    ab += <u64>load<u32>(a + iOffset) * <u64>load<u32>(b);
    const high = splitColumn(ab, mn, carry);
    let low = columnLow;
    const q = (<u32>low * n0inv) & LIMB_MASK;
    store<u32>(m + iOffset, q);
    low += <u64>q * n0;
    carry = high + (low >> LIMB_BITS);
  }
  for (let i = n; i < 2 * n; i++) {
    let ab: u64 = 0, mn: u64 = 0;
    const iOffset = <usize>i << 2;
    const end = <usize>n << 2;
    for (let off = <usize>(i - n + 1) << 2; off < end; off += 4) {
      ab += <u64>load<u32>(a + off) * <u64>load<u32>(b + iOffset - off);
      mn += <u64>load<u32>(m + off) * <u64>load<u32>(nn + iOffset - off);
    }
    const high = splitColumn(ab, mn, carry);
    const low = columnLow;
    store<u32>(out + (<usize>(i - n) << 2), <u32>low & LIMB_MASK);
    carry = high + (low >> LIMB_BITS);
  }
}

function montSqrScalar(out: usize, a: usize, nn: usize, m: usize, n: i32, n0inv: u32): void {
  let carry: u64 = 0;
  const n0 = <u64>load<u32>(nn);
  for (let i = 0; i < 2 * n; i++) {
    const iOffset = <usize>i << 2;
    const first = i < n ? 0 : i - n + 1;
    const firstOffset = <usize>first << 2;
    // a·a column: each cross product a[j]·a[i-j] (j < i-j) appears twice, the square once.
    let ab: u64 = 0;
    const halfEnd = <usize>((i + 1) >> 1) << 2; // j < i - j  <=>  j <= (i-1)/2
    for (let off = firstOffset; off < halfEnd; off += 4) {
      ab += <u64>load<u32>(a + off) * <u64>load<u32>(a + iOffset - off);
    }
    ab <<= 1;
    if ((i & 1) == 0) {
      const d = <u64>load<u32>(a + (iOffset >> 1));
      ab += d * d;
    }
    let mn: u64 = 0;
    const mEnd = i < n ? iOffset : <usize>n << 2;
    for (let off = firstOffset; off < mEnd; off += 4) {
      mn += <u64>load<u32>(m + off) * <u64>load<u32>(nn + iOffset - off);
    }
    const high = splitColumn(ab, mn, carry);
    let low = columnLow;
    if (i < n) {
      const q = (<u32>low * n0inv) & LIMB_MASK;
      store<u32>(m + iOffset, q);
      low += <u64>q * n0;
    } else {
      store<u32>(out + (<usize>(i - n) << 2), <u32>low & LIMB_MASK);
    }
    carry = high + (low >> LIMB_BITS);
  }
}

// ---------------------------------------------------------------------------------------------
// SIMD variant. Column i needs Σ x[j]·y[i-j]; with y reversed (ry[t] = y[n-1-t]) that is
// Σ x[j]·ry[n-1-i+j], two runs that advance together, so four terms are one pair of v128 loads
// and two extmuls. Runs are rounded up to a multiple of 4: the terms past the end read zeros
// (limb padding, and quotient limbs not yet computed are zero).
// ---------------------------------------------------------------------------------------------
// @ts-ignore: decorator
@inline function sumLanes(v: v128): u64 {
  return <u64>i64x2.extract_lane(v, 0) + <u64>i64x2.extract_lane(v, 1);
}

function montMulSimd(out: usize, a: usize, rb: usize, nn: usize, rn: usize, m: usize, n: i32, n0inv: u32): void {
  let carry: u64 = 0;
  const n0 = <u64>load<u32>(nn);
  const last = <usize>(n - 1) << 2;
  for (let i = 0; i < 2 * n - 1; i++) {
    const first = i < n ? 0 : i - n + 1;
    const lastJ = i < n ? i : n - 1;
    const count = (lastJ - first + 4) & ~3;
    let pa = a + (<usize>first << 2);
    let pm = m + (<usize>first << 2);
    const shift = last - (<usize>i << 2); // ry index = j + (n-1-i)
    let pb = rb + shift + (<usize>first << 2);
    let pn = rn + shift + (<usize>first << 2);
    const end = pa + (<usize>count << 2);
    let ab0 = i64x2.splat(0), ab1 = i64x2.splat(0), mn0 = i64x2.splat(0), mn1 = i64x2.splat(0);
    while (pa < end) {
      const va = v128.load(pa), vb = v128.load(pb), vm = v128.load(pm), vn = v128.load(pn);
      ab0 = i64x2.add(ab0, i64x2.extmul_low_i32x4_u(va, vb));
      ab1 = i64x2.add(ab1, i64x2.extmul_high_i32x4_u(va, vb));
      mn0 = i64x2.add(mn0, i64x2.extmul_low_i32x4_u(vm, vn));
      mn1 = i64x2.add(mn1, i64x2.extmul_high_i32x4_u(vm, vn));
      pa += 16; pb += 16; pm += 16; pn += 16;
    }
    const high = splitColumn(sumLanes(i64x2.add(ab0, ab1)), sumLanes(i64x2.add(mn0, mn1)), carry);
    let low = columnLow;
    if (i < n) {
      const q = (<u32>low * n0inv) & LIMB_MASK;
      store<u32>(m + (<usize>i << 2), q);
      low += <u64>q * n0;
    } else {
      store<u32>(out + (<usize>(i - n) << 2), <u32>low & LIMB_MASK);
    }
    carry = high + (low >> LIMB_BITS);
  }
  store<u32>(out + last, <u32>carry);
}

function montSqrSimd(out: usize, a: usize, ra: usize, nn: usize, rn: usize, m: usize, n: i32, n0inv: u32): void {
  let carry: u64 = 0;
  const n0 = <u64>load<u32>(nn);
  const last = <usize>(n - 1) << 2;
  for (let i = 0; i < 2 * n - 1; i++) {
    const first = i < n ? 0 : i - n + 1;
    const crossCount = ((i + 1) >> 1) - first; // j in [first, (i-1)/2]
    const mCount = (i < n ? i : n - 1) - first + 1;
    const shift = last - (<usize>i << 2);
    const firstOffset = <usize>first << 2;
    let pa = a + firstOffset, pra = ra + shift + firstOffset;
    let pm = m + firstOffset, pn = rn + shift + firstOffset;
    let ab0 = i64x2.splat(0), ab1 = i64x2.splat(0), mn0 = i64x2.splat(0), mn1 = i64x2.splat(0);
    // Cross products and quotient terms together while both runs have four terms left.
    const fusedEnd = pa + (<usize>(crossCount & ~3) << 2);
    while (pa < fusedEnd) {
      const va = v128.load(pa), vb = v128.load(pra), vm = v128.load(pm), vn = v128.load(pn);
      ab0 = i64x2.add(ab0, i64x2.extmul_low_i32x4_u(va, vb));
      ab1 = i64x2.add(ab1, i64x2.extmul_high_i32x4_u(va, vb));
      mn0 = i64x2.add(mn0, i64x2.extmul_low_i32x4_u(vm, vn));
      mn1 = i64x2.add(mn1, i64x2.extmul_high_i32x4_u(vm, vn));
      pa += 16; pra += 16; pm += 16; pn += 16;
    }
    let ab = sumLanes(i64x2.add(ab0, ab1));
    // Cross-product tail (< 4 terms): cannot read past the half, those terms belong to the other half.
    for (let k = crossCount & 3; k > 0; k--) {
      ab += <u64>load<u32>(pa) * <u64>load<u32>(pra);
      pa += 4; pra += 4;
    }
    ab <<= 1;
    if ((i & 1) == 0) {
      const d = <u64>load<u32>(a + (<usize>(i >> 1) << 2));
      ab += d * d;
    }
    // Remaining quotient terms, rounded up to 4 (zeros past the end).
    const mEnd = m + firstOffset + (<usize>((mCount + 3) & ~3) << 2);
    while (pm < mEnd) {
      const vm = v128.load(pm), vn = v128.load(pn);
      mn0 = i64x2.add(mn0, i64x2.extmul_low_i32x4_u(vm, vn));
      mn1 = i64x2.add(mn1, i64x2.extmul_high_i32x4_u(vm, vn));
      pm += 16; pn += 16;
    }
    const high = splitColumn(ab, sumLanes(i64x2.add(mn0, mn1)), carry);
    let low = columnLow;
    if (i < n) {
      const q = (<u32>low * n0inv) & LIMB_MASK;
      store<u32>(m + (<usize>i << 2), q);
      low += <u64>q * n0;
    } else {
      store<u32>(out + (<usize>(i - n) << 2), <u32>low & LIMB_MASK);
    }
    carry = high + (low >> LIMB_BITS);
  }
  store<u32>(out + last, <u32>carry);
}

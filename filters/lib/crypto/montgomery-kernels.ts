/**
 * Montgomery multiplication and squaring kernels (FIPS product scanning, see montgomery.ts).
 *
 * All kernels work on one workspace of four regions at fixed distances, so each run of terms
 * advances two pointers and reaches the other operands through constant load offsets:
 *
 *   X  = workspace                 operand a (little-endian limbs)
 *   M  = workspace + REGION        quotient limbs m[0..n) of the reduction, zero before each call
 *   Y  = workspace + 2·REGION      operand b   (scalar: in order; SIMD: reversed, Y[t] = b[n-1-t])
 *   NN = workspace + 3·REGION      modulus N   (scalar: in order; SIMD: reversed)
 *
 * Column i of the result needs Σ a[j]·b[i-j] + Σ m[j]·N[i-j]. With 28-bit limbs each term is below
 * 2^56, so the two sums stay in u64 for up to 256 terms without carry handling; the carry
 * between columns is resolved once per column (splitColumn).
 */
import { LIMB_BITS, LIMB_MASK } from "./bigint";

/** Limbs per region: the largest supported modulus (4096 bits + 2 bits headroom = 147 limbs) plus 8 zero limbs of padding, rounded to 16 bytes. */
export const REGION_LIMBS: i32 = 160;
// @ts-ignore: decorator
@inline const REGION: usize = 640; // REGION_LIMBS * 4 bytes; a literal so it can be a load offset
// @ts-ignore: decorator
@inline const REGION2: usize = 1280;
// @ts-ignore: decorator
@inline const REGION3: usize = 1920;

export function workspaceY(workspace: usize): usize {
  return workspace + REGION2;
}
export function workspaceM(workspace: usize): usize {
  return workspace + REGION;
}
export function workspaceN(workspace: usize): usize {
  return workspace + REGION3;
}

let columnLow: u64 = 0;

/**
 * Splits ab + mn + carry (which can exceed 2^64 for 4096-bit moduli) into its low 28 bits plus
 * the rest (left in columnLow) and the high part (returned); the caller adds columnLow >> 28.
 */
// @ts-ignore: decorator
@inline function splitColumn(ab: u64, mn: u64, carry: u64): u64 {
  columnLow = (ab & LIMB_MASK) + (mn & LIMB_MASK) + carry;
  return (ab >> LIMB_BITS) + (mn >> LIMB_BITS);
}

/**
 * Ends column i: for i < n, picks the quotient limb m[i] that zeroes the column's low 28 bits;
 * for i ≥ n, emits result limb i-n. Returns the carry into the next column.
 */
// @ts-ignore: decorator
@inline function finishColumn(i: i32, n: i32, high: u64, out: usize, m: usize, n0: u64, n0inv: u32): u64 {
  let low = columnLow;
  if (i < n) {
    const q = (<u32>low * n0inv) & LIMB_MASK;
    store<u32>(m + (<usize>i << 2), q);
    low += <u64>q * n0;
  } else {
    store<u32>(out + (<usize>(i - n) << 2), <u32>low & LIMB_MASK);
  }
  return high + (low >> LIMB_BITS);
}

// ---------------------------------------------------------------------------------------------
// Scalar kernels: Y and NN in natural order, runs walk X/M up and Y/NN down; 4 terms per step,
// exact remainders (nothing is read past a run).
// ---------------------------------------------------------------------------------------------

/** out = X·Y·R^-1 mod N (lazy, < 2N), scalar. */
export function montMulScalar(out: usize, w: usize, n: i32, n0inv: u32): void {
  const m = w + REGION;
  const y = w + REGION2;
  const n0 = <u64>load<u32>(w + REGION3);
  let carry: u64 = 0;
  for (let i = 0; i < 2 * n; i++) {
    const first = i < n ? 0 : i - n + 1;
    const last = i < n ? i : n - 1;
    let count = last - first + 1;
    let p = w + (<usize>first << 2);            // X[j], M[j] at +REGION
    let q = y + (<usize>(i - first) << 2);      // Y[i-j], NN[i-j] at +REGION
    let ab: u64 = 0, mn: u64 = 0;
    while (count >= 4) {
      q -= 12;
      ab += <u64>load<u32>(p) * <u64>load<u32>(q, 12) + <u64>load<u32>(p, 4) * <u64>load<u32>(q, 8)
          + <u64>load<u32>(p, 8) * <u64>load<u32>(q, 4) + <u64>load<u32>(p, 12) * <u64>load<u32>(q);
      mn += <u64>load<u32>(p, REGION) * <u64>load<u32>(q, REGION + 12) + <u64>load<u32>(p, REGION + 4) * <u64>load<u32>(q, REGION + 8)
          + <u64>load<u32>(p, REGION + 8) * <u64>load<u32>(q, REGION + 4) + <u64>load<u32>(p, REGION + 12) * <u64>load<u32>(q, REGION);
      p += 16; q -= 4;
      count -= 4;
    }
    while (count > 0) {
      ab += <u64>load<u32>(p) * <u64>load<u32>(q);
      mn += <u64>load<u32>(p, REGION) * <u64>load<u32>(q, REGION);
      p += 4; q -= 4;
      count--;
    }
    carry = finishColumn(i, n, splitColumn(ab, mn, carry), out, m, n0, n0inv);
  }
}

/** out = X²·R^-1 mod N (lazy, < 2N), scalar: each cross product a[j]·a[i-j] once, doubled. */
export function montSqrScalar(out: usize, w: usize, n: i32, n0inv: u32): void {
  const m = w + REGION;
  const n0 = <u64>load<u32>(w + REGION3);
  let carry: u64 = 0;
  for (let i = 0; i < 2 * n; i++) {
    const first = i < n ? 0 : i - n + 1;
    // Cross products: j in [first, (i-1)/2], i.e. j < i-j.
    let count = ((i + 1) >> 1) - first;
    let p = w + (<usize>first << 2);
    let q = w + (<usize>(i - first) << 2);
    let ab: u64 = 0;
    while (count >= 4) {
      q -= 12;
      ab += <u64>load<u32>(p) * <u64>load<u32>(q, 12) + <u64>load<u32>(p, 4) * <u64>load<u32>(q, 8)
          + <u64>load<u32>(p, 8) * <u64>load<u32>(q, 4) + <u64>load<u32>(p, 12) * <u64>load<u32>(q);
      p += 16; q -= 4;
      count -= 4;
    }
    while (count > 0) {
      ab += <u64>load<u32>(p) * <u64>load<u32>(q);
      p += 4; q -= 4;
      count--;
    }
    ab <<= 1;
    if ((i & 1) == 0 && i < 2 * n - 1) {
      const d = <u64>load<u32>(w + (<usize>(i >> 1) << 2));
      ab += d * d;
    }
    // Quotient terms: j in [first, min(i, n) - 1] (m[i] is not known yet).
    let mn: u64 = 0;
    count = (i < n ? i : n) - first;
    p = m + (<usize>first << 2);
    q = w + REGION3 + (<usize>(i - first) << 2);
    while (count >= 4) {
      q -= 12;
      mn += <u64>load<u32>(p) * <u64>load<u32>(q, 12) + <u64>load<u32>(p, 4) * <u64>load<u32>(q, 8)
          + <u64>load<u32>(p, 8) * <u64>load<u32>(q, 4) + <u64>load<u32>(p, 12) * <u64>load<u32>(q);
      p += 16; q -= 4;
      count -= 4;
    }
    while (count > 0) {
      mn += <u64>load<u32>(p) * <u64>load<u32>(q);
      p += 4; q -= 4;
      count--;
    }
    carry = finishColumn(i, n, splitColumn(ab, mn, carry), out, m, n0, n0inv);
  }
}

// ---------------------------------------------------------------------------------------------
// SIMD kernels: Y and NN reversed, so a run is Σ X[j]·Y[n-1-i+j] with both indices ascending:
// four terms are one pair of v128 loads and i64x2.extmul_{low,high}_i32x4_u. Runs go 8 terms a
// step, then one 4-term step rounded up: terms past a run's end read zeros (region padding, and
// quotient limbs m[j ≥ i] are still zero).
// Lane sums: each i64 lane holds at most ⌈n/4⌉ terms < 2^56; the four lanes of one sum hold at
// most n ≤ 147 terms, < 2^64.
// ---------------------------------------------------------------------------------------------

/** x0·y0 + x1·y1 and x2·y2 + x3·y3 (u32 lanes → u64 lanes): the four products of one vector pair. */
// @ts-ignore: decorator
@inline function productPairs(x: v128, y: v128): v128 {
  return i64x2.add(i64x2.extmul_low_i32x4_u(x, y), i64x2.extmul_high_i32x4_u(x, y));
}

// @ts-ignore: decorator
@inline function laneSum(v: v128): u64 {
  return <u64>i64x2.extract_lane(v, 0) + <u64>i64x2.extract_lane(v, 1);
}

/**
 * out = X·b·R^-1 mod N (lazy, < 2N), with Y = reversed b and NN = reversed N.
 *
 * Columns are computed in pairs (i, i+1) over the union of their runs: both read the same X and
 * M vectors, column i+1 reads Y and NN one limb lower. Terms outside a column's own run multiply
 * zero padding. The one term column i+1 cannot see yet is m[i]·N[1] (m[i] is picked when column i
 * ends); it is added afterwards.
 */
export function montMulSimd(out: usize, w: usize, n: i32, n0inv: u32): void {
  const m = w + REGION;
  const n0 = <u64>load<u32>(w + REGION3 + (<usize>(n - 1) << 2));
  const n1 = <u64>load<u32>(w + REGION3 + (<usize>(n - 2) << 2));
  let carry: u64 = 0;
  for (let i = 0; i < 2 * n - 1; i += 2) {
    const first = i < n ? 0 : i - n + 1;
    const last = i + 1 < n ? i + 1 : n - 1;
    const count = last - first + 1;
    let p = w + (<usize>first << 2);
    // Column i reads Y at q + 4, column i + 1 at q (no negative load offsets in wasm). In the
    // second half q points one limb before Y/NN, at the zero padding of the region below.
    let q = w + REGION2 + (<usize>(n - 1 - i + first) << 2) - 4;
    const end = p + (<usize>((count + 3) & ~3) << 2);
    let ab0 = i64x2.splat(0), mn0 = i64x2.splat(0), ab1 = i64x2.splat(0), mn1 = i64x2.splat(0);
    while (p < end) {
      const x = v128.load(p), xm = v128.load(p, REGION);
      let y = v128.load(q, 4), yn = v128.load(q, REGION + 4);
      ab0 = i64x2.add(ab0, productPairs(x, y));
      mn0 = i64x2.add(mn0, productPairs(xm, yn));
      y = v128.load(q); yn = v128.load(q, REGION);
      ab1 = i64x2.add(ab1, productPairs(x, y));
      mn1 = i64x2.add(mn1, productPairs(xm, yn));
      p += 16; q += 16;
    }
    carry = finishColumn(i, n, splitColumn(laneSum(ab0), laneSum(mn0), carry), out, m, n0, n0inv);
    let quotientSum = laneSum(mn1);
    if (i < n) quotientSum += <u64>load<u32>(m + (<usize>i << 2)) * n1;
    carry = finishColumn(i + 1, n, splitColumn(laneSum(ab1), quotientSum, carry), out, m, n0, n0inv);
  }
}

/** v128 masks keeping the first 0, 1, 2 or 3 u32 lanes (tail of a run that must not read on). */
const LANE_MASKS: StaticArray<u32> = [
  0, 0, 0, 0,
  0xffffffff, 0, 0, 0,
  0xffffffff, 0xffffffff, 0, 0,
  0xffffffff, 0xffffffff, 0xffffffff, 0,
];

/**
 * out = a²·R^-1 mod N (lazy, < 2N) with the column pairs of montMulSimd, for every modulus size.
 * Workspace: X = 2a limb by limb (29-bit values), Y = reversed a, NN = reversed N.
 *
 * Column i of a² is 2·Σ_{j<i-j} a[j]·a[i-j] (+ a[i/2]² for even i). For the pair (i even, i+1)
 * one run over j in [first, i/2] gives both: column i+1's cross terms are exactly those j, and
 * column i gets them plus j = i/2, which with the doubled X is 2·a[i/2]² — one a[i/2]² too many,
 * subtracted afterwards. The run stops mid-operand (terms past it are not zero), so its last
 * partial vector of X is masked (LANE_MASKS). About 8,200 products per 2048-bit squaring instead of
 * 11,000 for montMulSimd, with the same even runs and shared loads.
 * Bounds: cross terms < 2^57, at most ⌈n/2⌉ per column (< 2^63 for n ≤ 147); quotient terms as in
 * montMulSimd.
 */
export function montSqrPairSimd(out: usize, w: usize, n: i32, n0inv: u32): void {
  const m = w + REGION;
  const n0 = <u64>load<u32>(w + REGION3 + (<usize>(n - 1) << 2));
  const n1 = <u64>load<u32>(w + REGION3 + (<usize>(n - 2) << 2));
  const masks = changetype<usize>(LANE_MASKS);
  let carry: u64 = 0;
  for (let i = 0; i < 2 * n - 1; i += 2) {
    const first = i < n ? 0 : i - n + 1;
    const last = i + 1 < n ? i + 1 : n - 1;
    const start = w + (<usize>first << 2);
    // As in montMulSimd: column i reads Y/NN at q + 4, column i + 1 at q.
    const qStart = w + REGION2 + (<usize>(n - 1 - i + first) << 2) - 4;
    const crossCount = (i >> 1) - first + 1;
    let p = start;
    let q = qStart;
    let ab0 = i64x2.splat(0), ab1 = i64x2.splat(0), mn0 = i64x2.splat(0), mn1 = i64x2.splat(0);
    // Whole vectors of the cross run, fused with the quotient run's (which is longer and starts
    // at the same j): one loop, shared pointers.
    const crossEnd = start + (<usize>(crossCount & ~3) << 2);
    while (p < crossEnd) {
      const x = v128.load(p), xm = v128.load(p, REGION);
      let y = v128.load(q, 4), yn = v128.load(q, REGION + 4);
      ab0 = i64x2.add(ab0, productPairs(x, y));
      mn0 = i64x2.add(mn0, productPairs(xm, yn));
      y = v128.load(q); yn = v128.load(q, REGION);
      ab1 = i64x2.add(ab1, productPairs(x, y));
      mn1 = i64x2.add(mn1, productPairs(xm, yn));
      p += 16; q += 16;
    }
    const tail = crossCount & 3;
    if (tail != 0) {
      const x = v128.and(v128.load(p), v128.load(masks + (<usize>tail << 4)));
      let y = v128.load(q, 4);
      ab0 = i64x2.add(ab0, productPairs(x, y));
      y = v128.load(q);
      ab1 = i64x2.add(ab1, productPairs(x, y));
    }
    // The rest of the quotient run over [first, last], rounded up to 4: m[j] is still zero for j ≥ i.
    const end = start + (<usize>((last - first + 4) & ~3) << 2);
    while (p < end) {
      const xm = v128.load(p, REGION);
      let yn = v128.load(q, REGION + 4);
      mn0 = i64x2.add(mn0, productPairs(xm, yn));
      yn = v128.load(q, REGION);
      mn1 = i64x2.add(mn1, productPairs(xm, yn));
      p += 16; q += 16;
    }
    const d = <u64>(load<u32>(w + (<usize>(i >> 1) << 2)) >> 1);
    carry = finishColumn(i, n, splitColumn(laneSum(ab0) - d * d, laneSum(mn0), carry), out, m, n0, n0inv);
    let quotientSum = laneSum(mn1);
    if (i < n) quotientSum += <u64>load<u32>(m + (<usize>i << 2)) * n1;
    carry = finishColumn(i + 1, n, splitColumn(laneSum(ab1), quotientSum, carry), out, m, n0, n0inv);
  }
}

/**
 * Limb helpers shared by the EC code (the arithmetic itself is generated: field-p256.ts,
 * field-p384.ts, field-25519.ts from field-gen.mjs).
 * Big integers are little-endian arrays of u32 limbs in linear memory, addressed by pointer, so
 * that all temporaries live in preallocated scratch and nothing is allocated per verify.
 */

/** Reads `limbs`*4 big-endian bytes at `src` into little-endian limbs at `r`. */
export function limbsFromBytesBE(r: usize, src: usize, limbs: i32): void {
  const bytes = limbs * 4;
  for (let i = 0; i < limbs; i++) {
    const at = src + <usize>(bytes - 4 - i * 4);
    store<u32>(r + <usize>i * 4, bswap<u32>(load<u32>(at)));
  }
}

/** Writes little-endian limbs at `a` as `limbs`*4 big-endian bytes at `dst`. */
export function limbsToBytesBE(dst: usize, a: usize, limbs: i32): void {
  const bytes = limbs * 4;
  for (let i = 0; i < limbs; i++) {
    store<u32>(dst + <usize>(bytes - 4 - i * 4), bswap<u32>(load<u32>(a + <usize>i * 4)));
  }
}

/** a < b as unsigned integers of `limbs` limbs. */
export function limbsLessThan(a: usize, b: usize, limbs: i32): bool {
  for (let i = limbs - 1; i >= 0; i--) {
    const x = load<u32>(a + <usize>i * 4);
    const y = load<u32>(b + <usize>i * 4);
    if (x != y) return x < y;
  }
  return false;
}

export function limbsIsZero(a: usize, limbs: i32): bool {
  let acc: u32 = 0;
  for (let i = 0; i < limbs; i++) acc |= load<u32>(a + <usize>i * 4);
  return acc == 0;
}

export function limbsEqual(a: usize, b: usize, limbs: i32): bool {
  let acc: u32 = 0;
  for (let i = 0; i < limbs; i++) acc |= load<u32>(a + <usize>i * 4) ^ load<u32>(b + <usize>i * 4);
  return acc == 0;
}

/** r = a - b for a >= b (plain integers, no modulus). */
export function limbsSub(r: usize, a: usize, b: usize, limbs: i32): void {
  let s: i64 = 0;
  for (let i = 0; i < limbs; i++) {
    s += <i64>load<u32>(a + <usize>i * 4) - <i64>load<u32>(b + <usize>i * 4);
    store<u32>(r + <usize>i * 4, <u32>s);
    s >>= 32;
  }
}

/** r = a + b; returns the carry out (0 or 1). */
export function limbsAdd(r: usize, a: usize, b: usize, limbs: i32): u32 {
  let c: u64 = 0;
  for (let i = 0; i < limbs; i++) {
    c += <u64>load<u32>(a + <usize>i * 4) + <u64>load<u32>(b + <usize>i * 4);
    store<u32>(r + <usize>i * 4, <u32>c);
    c >>= 32;
  }
  return <u32>c;
}

/**
 * Width-w NAF of the `limbs`-limb scalar at `k` (Hankerson, Menezes, Vanstone, "Guide to
 * Elliptic Curve Cryptography", algorithm 3.35): odd digits in (-2^(w-1), 2^(w-1)), at least
 * w-1 zeros after each non-zero digit. Writes one i8 per bit position into `out`, which must hold
 * limbs*32 + w + 1 bytes; returns 1 + the index of the highest non-zero digit (0 for k = 0).
 * Scans the bits once with a carry instead of subtracting from a multi-limb copy of k.
 */
export function wnaf(out: usize, k: usize, limbs: i32, w: i32): i32 {
  const nbits = limbs * 32;
  const end = nbits + w + 1;
  memory.fill(out, 0, <usize>end);
  let carry: i32 = 0;
  let bit: i32 = 0;
  let top: i32 = 0;
  while (bit < end) {
    if (<i32>bitsAt(k, limbs, bit, 1) == carry) {
      bit++;
      continue;
    }
    let word = <i32>bitsAt(k, limbs, bit, w) + carry;
    carry = (word >> (w - 1)) & 1;
    word -= carry << w;
    store<i8>(out + <usize>bit, <i8>word);
    top = bit + 1;
    bit += w;
  }
  return top;
}

/** `count` (<= 31) bits of the scalar starting at bit `bit`; bits past the end read as 0. */
@inline
function bitsAt(k: usize, limbs: i32, bit: i32, count: i32): u32 {
  const limb = bit >> 5;
  let v: u64 = 0;
  if (limb < limbs) v = <u64>load<u32>(k + <usize>limb * 4);
  if (limb + 1 < limbs) v |= <u64>load<u32>(k + <usize>(limb + 1) * 4) << 32;
  return <u32>(v >> <u64>(bit & 31)) & ((<u32>1 << count) - 1);
}

// CIOS work area for montMulLoop: up to 12 + 2 limbs.
const montScratchArray = new StaticArray<u32>(16);
const MONT_T = changetype<usize>(montScratchArray);

/**
 * r = a * b / 2^(32*limbs) mod m (CIOS Montgomery multiplication, Koc-Acar-Kaliski section 5),
 * fully reduced. Loop version for the moduli that are off the hot path (group orders used by a
 * handful of operations per verify); the field primes use the unrolled generated code.
 * Requires a < 2^(32*limbs), b < m; `mprime` = -m^-1 mod 2^32. r may alias a or b.
 */
export function montMulLoop(r: usize, a: usize, b: usize, m: usize, mprime: u32, limbs: i32): void {
  const t = MONT_T;
  memory.fill(t, 0, <usize>(limbs + 2) * 4);
  for (let i = 0; i < limbs; i++) {
    const bi = <u64>load<u32>(b + <usize>i * 4);
    let c: u64 = 0;
    for (let j = 0; j < limbs; j++) {
      c += <u64>load<u32>(t + <usize>j * 4) + <u64>load<u32>(a + <usize>j * 4) * bi;
      store<u32>(t + <usize>j * 4, <u32>c);
      c >>= 32;
    }
    c += <u64>load<u32>(t + <usize>limbs * 4);
    store<u32>(t + <usize>limbs * 4, <u32>c);
    store<u32>(t + <usize>(limbs + 1) * 4, <u32>(c >> 32));
    // Written in u64 with an explicit mask: inside <u64>(...) the load<u32> takes the contextual
    // type u64, so <u64>(load<u32>(t) * mprime) would be a 64-bit product without the 32-bit wrap.
    const q = (<u64>load<u32>(t) * <u64>mprime) & 0xffffffff;
    c = (<u64>load<u32>(t) + q * <u64>load<u32>(m)) >> 32;
    for (let j = 1; j < limbs; j++) {
      c += <u64>load<u32>(t + <usize>j * 4) + q * <u64>load<u32>(m + <usize>j * 4);
      store<u32>(t + <usize>(j - 1) * 4, <u32>c);
      c >>= 32;
    }
    c += <u64>load<u32>(t + <usize>limbs * 4);
    store<u32>(t + <usize>(limbs - 1) * 4, <u32>c);
    store<u32>(t + <usize>limbs * 4, load<u32>(t + <usize>(limbs + 1) * 4) + <u32>(c >> 32));
  }
  // t < 2m: subtract m once if t >= m (t has limbs + 1 limbs)
  if (load<u32>(t + <usize>limbs * 4) != 0 || !limbsLessThan(t, m, limbs)) limbsSub(t, t, m, limbs);
  memory.copy(r, t, <usize>limbs * 4);
}

// ---- modular inversion by the binary extended Euclidean algorithm
// 64-bit limbs: the algorithm needs only shifts, additions and subtractions, which wasm has
// natively on i64, so the `limbs`/2 u64 view of the same little-endian memory halves the work.
const binScratchArray = new StaticArray<u64>(4 * 8);
const BIN_U = changetype<usize>(binScratchArray);
const BIN_V = BIN_U + 64;
const BIN_X1 = BIN_U + 128;
const BIN_X2 = BIN_U + 192;

/**
 * r = a^-1 mod m for an odd prime m and 0 < a < m (plain, not Montgomery form); r = 0 when
 * a = 0. Hankerson-Menezes-Vanstone, "Guide to Elliptic Curve Cryptography", algorithm 2.22.
 * Variable time: only for public values (the signature's s). About 10x fewer operations than
 * Fermat inversion with 32-bit Montgomery multiplications.
 */
export function invModBinary(r: usize, a: usize, m: usize, limbs: i32): void {
  const n = limbs >> 1;
  const bytes = <usize>n * 8;
  if (limbsIsZero(a, limbs)) {
    memory.fill(r, 0, bytes);
    return;
  }
  memory.copy(BIN_U, a, bytes);
  memory.copy(BIN_V, m, bytes);
  memory.fill(BIN_X1, 0, bytes);
  store<u64>(BIN_X1, 1);
  memory.fill(BIN_X2, 0, bytes);
  while (!isOne64(BIN_U, n) && !isOne64(BIN_V, n)) {
    while ((load<u64>(BIN_U) & 1) == 0) {
      shiftRight64(BIN_U, n, 0);
      halveMod64(BIN_X1, m, n);
    }
    while ((load<u64>(BIN_V) & 1) == 0) {
      shiftRight64(BIN_V, n, 0);
      halveMod64(BIN_X2, m, n);
    }
    if (!lessThan64(BIN_U, BIN_V, n)) {
      sub64(BIN_U, BIN_U, BIN_V, n);
      subMod64(BIN_X1, BIN_X2, m, n);
    } else {
      sub64(BIN_V, BIN_V, BIN_U, n);
      subMod64(BIN_X2, BIN_X1, m, n);
    }
  }
  memory.copy(r, isOne64(BIN_U, n) ? BIN_X1 : BIN_X2, bytes);
}

function isOne64(a: usize, n: i32): bool {
  let rest: u64 = load<u64>(a) ^ 1;
  for (let i = 1; i < n; i++) rest |= load<u64>(a + <usize>i * 8);
  return rest == 0;
}

function lessThan64(a: usize, b: usize, n: i32): bool {
  for (let i = n - 1; i >= 0; i--) {
    const x = load<u64>(a + <usize>i * 8);
    const y = load<u64>(b + <usize>i * 8);
    if (x != y) return x < y;
  }
  return false;
}

/** a >>= 1, shifting `topBit` (0 or 1) into the most significant position. */
function shiftRight64(a: usize, n: i32, topBit: u64): void {
  for (let i = 0; i < n - 1; i++) {
    const at = a + <usize>i * 8;
    store<u64>(at, (load<u64>(at) >> 1) | (load<u64>(at + 8) << 63));
  }
  const top = a + <usize>(n - 1) * 8;
  store<u64>(top, (load<u64>(top) >> 1) | (topBit << 63));
}

/** r = a + b, returns the carry out. */
function add64(r: usize, a: usize, b: usize, n: i32): u64 {
  let carry: u64 = 0;
  for (let i = 0; i < n; i++) {
    const x = load<u64>(a + <usize>i * 8);
    const s1 = x + load<u64>(b + <usize>i * 8);
    const c1 = <u64>(s1 < x);
    const s2 = s1 + carry;
    carry = c1 | <u64>(s2 < s1);
    store<u64>(r + <usize>i * 8, s2);
  }
  return carry;
}

/** r = a - b, returns the borrow out. */
function sub64(r: usize, a: usize, b: usize, n: i32): u64 {
  let borrow: u64 = 0;
  for (let i = 0; i < n; i++) {
    const x = load<u64>(a + <usize>i * 8);
    const y = load<u64>(b + <usize>i * 8);
    const d1 = x - y;
    const b1 = <u64>(x < y);
    const d2 = d1 - borrow;
    borrow = b1 | <u64>(d1 < borrow);
    store<u64>(r + <usize>i * 8, d2);
  }
  return borrow;
}

/** x = x / 2 mod m (x < m, m odd): (x + m) / 2 when x is odd, with the 257th/385th bit kept. */
function halveMod64(x: usize, m: usize, n: i32): void {
  if ((load<u64>(x) & 1) == 0) {
    shiftRight64(x, n, 0);
  } else {
    const carry = add64(x, x, m, n);
    shiftRight64(x, n, carry);
  }
}

/** x = x - y mod m (x, y < m). */
function subMod64(x: usize, y: usize, m: usize, n: i32): void {
  if (sub64(x, x, y, n) != 0) add64(x, x, m, n);
}

// Work area for montMulSparseLoop: 2*12 + 1 signed 64-bit limbs.
const sparseScratchArray = new StaticArray<i64>(26);
const SPARSE_T = changetype<usize>(sparseScratchArray);

/**
 * r = a * b / 2^(32*limbs) mod m for a prime m = -1 mod 2^32 whose signed base-2^32 digits
 * (`coef`, limbs + 1 i32 values, coef[0] = -1) are tiny: operand-scanning product, then the
 * Montgomery reduction steps q_i = t_i mod 2^32, t += q_i m 2^(32i) as a few additions of q_i
 * (the generated field-p256.ts does the same, unrolled). a, b < m; result fully reduced; r may
 * alias a or b. Loop version, for code size.
 */
export function montMulSparseLoop(r: usize, a: usize, b: usize, m: usize, coef: usize, limbs: i32): void {
  const t = SPARSE_T;
  memory.fill(t, 0, <usize>(2 * limbs + 1) * 8);
  for (let i = 0; i < limbs; i++) {
    const bi = <u64>load<u32>(b + <usize>i * 4);
    let c: u64 = 0;
    for (let j = 0; j < limbs; j++) {
      const at = t + <usize>(i + j) * 8;
      c += <u64>load<i64>(at) + <u64>load<u32>(a + <usize>j * 4) * bi;
      store<i64>(at, <i64>(c & 0xffffffff));
      c >>= 32;
    }
    store<i64>(t + <usize>(i + limbs) * 8, <i64>c);
  }
  for (let i = 0; i < limbs; i++) {
    const at = t + <usize>i * 8;
    const ti = load<i64>(at);
    const q = ti & 0xffffffff;
    store<i64>(at + 8, load<i64>(at + 8) + (ti >> 32));
    for (let k = 1; k <= limbs; k++) {
      const ck = <i64>load<i32>(coef + <usize>k * 4);
      if (ck != 0) {
        const tk = at + <usize>k * 8;
        store<i64>(tk, load<i64>(tk) + ck * q);
      }
    }
  }
  // carry through the upper half into t[2 limbs]; the value is in [0, 2m)
  for (let k = limbs; k < 2 * limbs; k++) {
    const at = t + <usize>k * 8;
    const v = load<i64>(at);
    store<i64>(at + 8, load<i64>(at + 8) + (v >> 32));
    store<u32>(r + <usize>(k - limbs) * 4, <u32>(v & 0xffffffff));
  }
  const top = load<i64>(t + <usize>(2 * limbs) * 8);
  if (top != 0 || !limbsLessThan(r, m, limbs)) limbsSub(r, r, m, limbs);
}

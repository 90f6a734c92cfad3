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
    // Written in u64 with an explicit mask: asc 0.28 compiles <u64>(u32 * u32) as a 64-bit
    // multiply of the extended operands, i.e. without the wrap to 32 bits this step needs.
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

/**
 * Fixed-width unsigned big integers for RSA: little-endian arrays of 28-bit limbs stored in u32 words.
 *
 * Why 28 bits and not 32: a 28×28-bit product is < 2^56, so a column of up to 255 products can be
 * summed in a u64 without carry handling (see montgomery.ts). That removes the carry split from the
 * innermost loop, which is what dominates Montgomery multiplication in wasm (no 64×64→128 multiply,
 * no add-with-carry).
 *
 * Arrays are allocated with LIMB_PADDING extra zero limbs so that 4-limb (v128) loads running past
 * the last limb read zeros.
 */
export const LIMB_BITS: i32 = 28;
export const LIMB_MASK: u32 = (1 << 28) - 1;
export const LIMB_PADDING: i32 = 4;

/** Number of 28-bit limbs needed for `bits` bits. */
export function limbsForBits(bits: i32): i32 {
  return (bits + LIMB_BITS - 1) / LIMB_BITS;
}

/** A zeroed limb array of `limbCount` limbs plus LIMB_PADDING zero limbs. */
export function newLimbs(limbCount: i32): StaticArray<u32> {
  return new StaticArray<u32>(limbCount + LIMB_PADDING);
}

/** Number of significant bits of a big-endian byte string (0 for zero). */
export function bitLengthBE(bytes: usize, length: i32): i32 {
  for (let i = 0; i < length; i++) {
    const b = <u32>load<u8>(bytes + <usize>i);
    if (b != 0) return (length - i - 1) * 8 + (32 - clz<u32>(b));
  }
  return 0;
}

/**
 * Loads a big-endian byte string into `limbCount` limbs. Returns false (leaving `out` partly written)
 * if the value needs more than limbCount·28 bits.
 */
export function limbsFromBytesBE(out: usize, limbCount: i32, bytes: usize, length: i32): bool {
  let accumulator: u64 = 0;
  let accumulatedBits: i32 = 0;
  let limb = 0;
  for (let i = length - 1; i >= 0; i--) {
    accumulator |= (<u64>load<u8>(bytes + <usize>i)) << accumulatedBits;
    accumulatedBits += 8;
    if (accumulatedBits >= LIMB_BITS) {
      if (limb >= limbCount) return false;
      store<u32>(out + (<usize>limb << 2), <u32>accumulator & LIMB_MASK);
      limb++;
      accumulator >>= LIMB_BITS;
      accumulatedBits -= LIMB_BITS;
    }
  }
  if (accumulatedBits > 0 && accumulator != 0) {
    if (limb >= limbCount) return false;
    store<u32>(out + (<usize>limb << 2), <u32>accumulator);
    limb++;
  } else if (accumulator != 0) {
    return false;
  }
  for (; limb < limbCount; limb++) store<u32>(out + (<usize>limb << 2), 0);
  return true;
}

/**
 * Writes a normalized limb array as exactly `length` big-endian bytes (I2OSP, RFC 8017 section 4.1).
 * Returns false if the value does not fit ("integer too large").
 */
export function bytesBEFromLimbs(out: usize, length: i32, limbs: usize, limbCount: i32): bool {
  let accumulator: u64 = 0;
  let accumulatedBits: i32 = 0;
  let limb = 0;
  for (let i = length - 1; i >= 0; i--) {
    if (accumulatedBits < 8 && limb < limbCount) {
      accumulator |= (<u64>load<u32>(limbs + (<usize>limb << 2))) << accumulatedBits;
      accumulatedBits += LIMB_BITS;
      limb++;
    }
    store<u8>(out + <usize>i, <u8>accumulator);
    accumulator >>= 8;
    accumulatedBits -= 8;
  }
  if (accumulator != 0) return false;
  for (; limb < limbCount; limb++) {
    if (load<u32>(limbs + (<usize>limb << 2)) != 0) return false;
  }
  return true;
}

/** Compares two normalized limb arrays: -1, 0 or 1. */
export function compareLimbs(a: usize, b: usize, limbCount: i32): i32 {
  for (let i = limbCount - 1; i >= 0; i--) {
    const x = load<u32>(a + (<usize>i << 2));
    const y = load<u32>(b + (<usize>i << 2));
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/** out = a - b for normalized limbs with a >= b. `out` may alias `a`. */
export function subtractLimbs(out: usize, a: usize, b: usize, limbCount: i32): void {
  let borrow: i32 = 0;
  for (let i = 0; i < limbCount; i++) {
    const offset = <usize>i << 2;
    const difference = <i32>load<u32>(a + offset) - <i32>load<u32>(b + offset) - borrow;
    store<u32>(out + offset, <u32>difference & LIMB_MASK);
    borrow = (difference >>> 31) as i32;
  }
}

/** x = 2x mod m for normalized x < m (one shift, at most one subtraction). */
export function doubleModulo(x: usize, m: usize, limbCount: i32): void {
  let carry: u32 = 0;
  for (let i = 0; i < limbCount; i++) {
    const offset = <usize>i << 2;
    const shifted = (load<u32>(x + offset) << 1) | carry;
    store<u32>(x + offset, shifted & LIMB_MASK);
    carry = shifted >>> LIMB_BITS;
  }
  // m < 2^(28·limbCount), so an overflow out of the top limb means 2x > m.
  if (carry != 0 || compareLimbs(x, m, limbCount) >= 0) {
    // When carry is set the top-limb overflow is implied; subtracting m's limbs wraps it correctly.
    subtractLimbs(x, x, m, limbCount);
  }
}

/** Reduces a normalized x < k·m to x < m by repeated subtraction (k is small in every caller). */
export function reduceBelow(x: usize, m: usize, limbCount: i32): void {
  while (compareLimbs(x, m, limbCount) >= 0) subtractLimbs(x, x, m, limbCount);
}

/** Copies limbCount limbs. */
export function copyLimbs(out: usize, a: usize, limbCount: i32): void {
  memory.copy(out, a, <usize>limbCount << 2);
}

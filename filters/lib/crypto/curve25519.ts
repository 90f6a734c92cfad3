/**
 * edwards25519 (-x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255-19), RFC 8032 section 5.1) field helpers
 * and point arithmetic in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, T = XY/Z
 * (Hisil, Wong, Carter, Dawson, "Twisted Edwards curves revisited", 2008; the same formulas as
 * RFC 8032 section 5.1.4). With a = -1 a square and d a non-square they are complete: no
 * exceptional cases, whatever points an attacker picks.
 *
 * A field element is 10 i32 limbs (40 bytes, see field-25519.ts). A point is 4 elements; a
 * precomputed ("Niels") affine point is (y + x, y - x, 2d x y), 3 elements.
 */
import { feMul, feSqr, feAdd, feSub, feCarry, FE_LIMB_WIDTH, FE_LIMB_POS, FE_P_U32, FE_D, FE_D2, FE_SQRT_M1, FE_ONE } from "./field-25519";
import { limbsLessThan, limbsSub } from "./field";

export const FE: usize = 40;
export const POINT: usize = 4 * FE;
export const NIELS: usize = 3 * FE;

// 24 field temporaries, allocated once.
const scratchArray = new StaticArray<u8>(<i32>FE * 24);
const T0 = changetype<usize>(scratchArray);
@inline function tmp(i: usize): usize {
  return T0 + i * FE;
}
const bytesArray = new StaticArray<u8>(64);
const BYTES_A = changetype<usize>(bytesArray);
const BYTES_B = BYTES_A + 32;

@inline export function cst(a: StaticArray<i32>): usize {
  return changetype<usize>(a);
}

/** r = a^(2^k) for k >= 1. */
function feSqrN(r: usize, a: usize, k: i32): void {
  feSqr(r, a);
  for (let i = 1; i < k; i++) feSqr(r, r);
}

/**
 * Shared prefix of the inversion and square-root exponent chains: returns z^(2^250 - 1) in
 * `z250`, and z^11 in `z11`. Addition chain for 2^255 - 21 as in the ed25519 reference code.
 */
function powChain(z250: usize, z11: usize, z: usize): void {
  const t0 = tmp(10), t1 = tmp(11), t2 = tmp(12), z9 = tmp(13);
  feSqr(t0, z); // z^2
  feSqrN(t1, t0, 2); // z^8
  feMul(z9, t1, z); // z^9
  feMul(z11, z9, t0); // z^11
  feSqr(t1, z11); // z^22
  feMul(t1, t1, z9); // z^(2^5 - 1)
  feSqrN(t2, t1, 5);
  feMul(t1, t2, t1); // z^(2^10 - 1)
  feSqrN(t2, t1, 10);
  feMul(t2, t2, t1); // z^(2^20 - 1)
  feSqrN(z9, t2, 20);
  feMul(t2, z9, t2); // z^(2^40 - 1)
  feSqrN(t2, t2, 10);
  feMul(t1, t2, t1); // z^(2^50 - 1)
  feSqrN(t2, t1, 50);
  feMul(t2, t2, t1); // z^(2^100 - 1)
  feSqrN(z9, t2, 100);
  feMul(t2, z9, t2); // z^(2^200 - 1)
  feSqrN(t2, t2, 50);
  feMul(z250, t2, t1); // z^(2^250 - 1)
}

/** r = z^-1 = z^(p - 2) = z^(2^255 - 21). */
export function feInvert(r: usize, z: usize): void {
  const z250 = tmp(14), z11 = tmp(15);
  powChain(z250, z11, z);
  feSqrN(z250, z250, 5); // z^(2^255 - 32)
  feMul(r, z250, z11);
}

/** r = z^((p - 5) / 8) = z^(2^252 - 3). */
function fePow22523(r: usize, z: usize): void {
  const z250 = tmp(14), z11 = tmp(15);
  powChain(z250, z11, z);
  feSqrN(z250, z250, 2); // z^(2^252 - 4)
  feMul(r, z250, z);
}

/** Canonical little-endian encoding (value reduced below p) of `a` into 32 bytes at `out`. */
export function feToBytes(out: usize, a: usize): void {
  const h = tmp(16);
  feCarry(h, a);
  // A carried element may still have a negative limb or exceed p; run the carry until every
  // limb is within its width and non-negative (at most a few rounds), then subtract p while >= p.
  for (let round = 0; round < 4; round++) {
    let ok = true;
    for (let i = 0; i < 10; i++) {
      const v = load<i32>(h + <usize>i * 4);
      if (v < 0 || v >= (1 << load<u8>(changetype<usize>(FE_LIMB_WIDTH) + <usize>i))) ok = false;
    }
    if (ok) break;
    feCarry(h, h);
  }
  // pack into 8 x 32-bit limbs (value < 2^255 now)
  memory.fill(out, 0, 32);
  for (let i = 0; i < 10; i++) {
    const pos = <u32>load<u16>(changetype<usize>(FE_LIMB_POS) + <usize>i * 2);
    const v = <u64>load<i32>(h + <usize>i * 4) << <u64>(pos & 31);
    const w = out + <usize>(pos >> 5) * 4;
    store<u32>(w, load<u32>(w) | <u32>v);
    if ((pos >> 5) < 7) store<u32>(w + 4, load<u32>(w + 4) | <u32>(v >> 32));
  }
  const p = changetype<usize>(FE_P_U32);
  if (!limbsLessThan(out, p, 8)) limbsSub(out, out, p, 8);
  // limbs are little-endian u32; on wasm (little-endian) that is already the byte encoding.
}

/** Loads 32 little-endian bytes (bit 255 ignored) as a field element; the value may be >= p. */
export function feFromBytes(r: usize, src: usize): void {
  for (let i = 0; i < 10; i++) {
    const pos = <u32>load<u16>(changetype<usize>(FE_LIMB_POS) + <usize>i * 2);
    const width = <u32>load<u8>(changetype<usize>(FE_LIMB_WIDTH) + <usize>i);
    const byte = pos >> 3;
    // 8 bytes from `byte` cover the 26 bits wanted; stay inside the 32 input bytes.
    let v: u64 = 0;
    for (let k: u32 = 0; k < 5 && byte + k < 32; k++) v |= <u64>load<u8>(src + <usize>(byte + k)) << (<u64>k * 8);
    const limb = <u32>(v >> <u64>(pos & 7)) & ((<u32>1 << width) - 1);
    store<i32>(r + <usize>i * 4, <i32>limb);
  }
}

/** True when 32 little-endian bytes at `src`, with bit 255 cleared, encode a value < p. */
export function isCanonicalFieldBytes(src: usize): bool {
  // copy and clear the sign bit, then compare as 8 little-endian u32 limbs
  memory.copy(BYTES_A, src, 32);
  store<u8>(BYTES_A + 31, load<u8>(BYTES_A + 31) & 0x7f);
  return limbsLessThan(BYTES_A, changetype<usize>(FE_P_U32), 8);
}

export function feIsZero(a: usize): bool {
  feToBytes(BYTES_B, a);
  let acc: u64 = 0;
  for (let i: usize = 0; i < 32; i += 8) acc |= load<u64>(BYTES_B + i);
  return acc == 0;
}

/** a == b as field elements (compares canonical encodings). */
export function feEqual(a: usize, b: usize): bool {
  const d = tmp(18);
  feSub(d, a, b);
  return feIsZero(d);
}

function feIsNegative(a: usize): bool {
  feToBytes(BYTES_B, a);
  return (load<u8>(BYTES_B) & 1) != 0;
}

function feNeg(r: usize, a: usize): void {
  const zero = tmp(17);
  memory.fill(zero, 0, FE);
  feSub(r, zero, a);
  feCarry(r, r);
}

/**
 * Decodes a point (RFC 8032 section 5.1.3) from 32 bytes at `src` into extended coordinates at
 * `p`. Returns false for y >= p (non-canonical), x^2 without square root, or x = 0 with the sign
 * bit set (the "-0" encoding).
 */
export function pointDecode(p: usize, src: usize): bool {
  if (!isCanonicalFieldBytes(src)) return false;
  const sign = (load<u8>(src + 31) >> 7) & 1;
  const X = p, Y = p + FE, Z = p + 2 * FE, T = p + 3 * FE;
  const u = tmp(0), v = tmp(1), v3 = tmp(2), t = tmp(3), x = tmp(4), chk = tmp(5);
  feFromBytes(Y, src);
  // u = y^2 - 1, v = d y^2 + 1
  feSqr(u, Y);
  feMul(v, u, cst(FE_D));
  feSub(u, u, cst(FE_ONE));
  feAdd(v, v, cst(FE_ONE));
  feCarry(u, u);
  feCarry(v, v);
  // x = u v^3 (u v^7)^((p-5)/8)
  feSqr(v3, v);
  feMul(v3, v3, v); // v^3
  feSqr(t, v3);
  feMul(t, t, v); // v^7
  feMul(t, t, u); // u v^7
  fePow22523(t, t);
  feMul(x, v3, u);
  feMul(x, x, t);
  // v x^2 == u: x is a root; == -u: x sqrt(-1) is; else no root
  feSqr(chk, x);
  feMul(chk, chk, v);
  feSub(t, chk, u);
  if (!feIsZero(t)) {
    feAdd(t, chk, u);
    if (!feIsZero(t)) return false;
    feMul(x, x, cst(FE_SQRT_M1));
  }
  if (feIsZero(x) && sign == 1) return false;
  if (<u32>feIsNegative(x) != sign) feNeg(x, x);
  memory.copy(X, x, FE);
  memory.copy(Z, cst(FE_ONE), FE);
  feMul(T, X, Y);
  return true;
}

/** Encodes the extended point at `p` (RFC 8032 section 5.1.2) into 32 bytes at `out`. */
export function pointEncode(out: usize, p: usize): void {
  const zi = tmp(6), x = tmp(7), y = tmp(8);
  feInvert(zi, p + 2 * FE);
  feMul(x, p, zi);
  feMul(y, p + FE, zi);
  feToBytes(out, y);
  const negative = feIsNegative(x); // uses BYTES_B, not `out`
  store<u8>(out + 31, load<u8>(out + 31) | (negative ? 0x80 : 0));
}

/** P = 2P (RFC 8032 5.1.4 doubling; T is computed only when `withT`, i.e. before an addition). */
export function pointDouble(p: usize, withT: bool): void {
  const X = p, Y = p + FE, Z = p + 2 * FE, T = p + 3 * FE;
  const a = tmp(0), b = tmp(1), c = tmp(2), h = tmp(3), e = tmp(4), g = tmp(5), f = tmp(6);
  feSqr(a, X);
  feSqr(b, Y);
  feSqr(c, Z);
  feAdd(c, c, c);
  feAdd(h, a, b);
  feAdd(e, X, Y);
  feSqr(e, e);
  feSub(e, h, e);
  feCarry(e, e);
  feSub(g, a, b);
  feAdd(f, c, g);
  feCarry(f, f);
  feMul(X, e, f);
  feMul(Y, g, h);
  if (withT) feMul(T, e, h);
  feMul(Z, f, g);
}

/**
 * P = P + s Q for an affine Niels point Q = (y+x, y-x, 2dxy) and s = +1 or -1
 * (add-2008-hwcd-3 with Z2 = 1, "madd"; -Q swaps y+x and y-x and negates 2dxy).
 * Needs P's T; `withT` says whether the result needs its own T.
 */
export function pointAddNiels(p: usize, q: usize, negate: bool, withT: bool): void {
  const X = p, Y = p + FE, Z = p + 2 * FE, T = p + 3 * FE;
  const a = tmp(0), b = tmp(1), c = tmp(2), d = tmp(3), e = tmp(4), f = tmp(5), g = tmp(6), h = tmp(7);
  const ypx = negate ? q + FE : q;
  const ymx = negate ? q : q + FE;
  feSub(a, Y, X);
  feMul(a, a, ymx);
  feAdd(b, Y, X);
  feMul(b, b, ypx);
  feMul(c, T, q + 2 * FE);
  feAdd(d, Z, Z);
  feSub(e, b, a);
  if (negate) {
    feAdd(f, d, c);
    feSub(g, d, c);
  } else {
    feSub(f, d, c);
    feAdd(g, d, c);
  }
  feCarry(f, f);
  feCarry(g, g);
  feAdd(h, b, a);
  feMul(X, e, f);
  feMul(Y, g, h);
  if (withT) feMul(T, e, h);
  feMul(Z, f, g);
}

/**
 * Fills `table` with the Niels forms of the odd multiples P, 3P, ..., (2*count-1)P of the
 * extended point P (count >= 2), using one inversion for all of them. `work` must hold
 * (count + 2) points. Used per public key and once for B, never on the verify path.
 */
export function buildOddMultiplesNiels(table: usize, p: usize, count: i32, work: usize): void {
  const twoP = work + <usize>count * POINT;
  const twoPN = tmp(20); // Niels form of 2P needs Z = 1: normalise 2P first
  memory.copy(twoP, p, POINT);
  pointDouble(twoP, true);
  toNiels(twoPN, twoP, true);
  memory.copy(work, p, POINT);
  for (let i = 1; i < count; i++) {
    const dst = work + <usize>i * POINT;
    memory.copy(dst, dst - POINT, POINT);
    pointAddNiels(dst, twoPN, false, true);
  }
  // one inversion: prefix products of the Z's
  const prefix = table; // reuse the table's first element slots as prefix storage
  memory.copy(prefix, work + 2 * FE, FE);
  for (let i = 1; i < count; i++) {
    feMul(prefix + <usize>i * NIELS, prefix + <usize>(i - 1) * NIELS, work + <usize>i * POINT + 2 * FE);
  }
  const inv = tmp(21), zi = tmp(22);
  feInvert(inv, prefix + <usize>(count - 1) * NIELS);
  for (let i = count - 1; i >= 0; i--) {
    const pt = work + <usize>i * POINT;
    if (i > 0) {
      feMul(zi, inv, prefix + <usize>(i - 1) * NIELS);
      feMul(inv, inv, pt + 2 * FE);
    } else {
      memory.copy(zi, inv, FE);
    }
    nielsFromZInverse(table + <usize>i * NIELS, pt, zi);
  }
}

/** Niels form of the extended point at p (inverting Z when `invert`, else assuming Z = 1). */
function toNiels(out: usize, p: usize, invert: bool): void {
  const zi = tmp(23);
  if (invert) feInvert(zi, p + 2 * FE);
  else memory.copy(zi, cst(FE_ONE), FE);
  nielsFromZInverse(out, p, zi);
}

function nielsFromZInverse(out: usize, p: usize, zi: usize): void {
  const x = tmp(8), y = tmp(9);
  feMul(x, p, zi);
  feMul(y, p + FE, zi);
  feAdd(out, y, x);
  feCarry(out, out);
  feSub(out + FE, y, x);
  feCarry(out + FE, out + FE);
  feMul(out + 2 * FE, x, y);
  feMul(out + 2 * FE, out + 2 * FE, cst(FE_D2));
}

/** The neutral element (0 : 1 : 1 : 0). */
export function pointSetIdentity(p: usize): void {
  memory.fill(p, 0, POINT);
  memory.copy(p + FE, cst(FE_ONE), FE);
  memory.copy(p + 2 * FE, cst(FE_ONE), FE);
}

/** P = -P (x -> -x, T -> -T). */
export function pointNegate(p: usize): void {
  feNeg(p, p);
  feNeg(p + 3 * FE, p + 3 * FE);
}

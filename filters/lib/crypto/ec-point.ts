/**
 * Point arithmetic on the short Weierstrass curves y^2 = x^3 - 3x + b (P-256, P-384), Jacobian
 * coordinates (X, Y, Z) for x = X/Z^2, y = Y/Z^3, coordinates in Montgomery form.
 * Formulas from the Explicit-Formulas Database (hyperelliptic.org/EFD/g1p/auto-shortw-jacobian-3.html):
 * doubling "dbl-2001-b" (3M + 5S), mixed addition "madd-2007-bl" (7M + 4S) with its exceptional
 * cases (P = Q, P = -Q) handled explicitly, because adversarial signatures can make the
 * double-scalar loop hit them (Wycheproof has vectors for exactly that).
 *
 * A Jacobian point is 3 consecutive field elements, an affine point 2, each `elemBytes` wide.
 */
import { fMul, fSqr, fMulSmall, fAdd, fSub, fInv, elemBytes, limbs, pOne } from "./ec-field";
import { limbsIsZero } from "./field";

const E: usize = 48; // scratch stride: the largest element (P-384)
// Scratch for the formulas (12 temporaries); allocated once.
const scratchArray = new StaticArray<u8>(<i32>E * 12);
const T0: usize = changetype<usize>(scratchArray);
@inline function tmp(i: usize): usize {
  return T0 + i * E;
}

@inline export function px(p: usize): usize { return p; }
@inline export function py(p: usize): usize { return p + elemBytes; }
@inline export function pz(p: usize): usize { return p + 2 * elemBytes; }

/**
 * P = 2P in place (P not at infinity; the curves have odd prime order, so 2P is never infinity).
 * "dbl-2001-b" with Z3 = 2YZ instead of (Y+Z)^2 - gamma - delta (a squaring costs the same as a
 * multiplication here, and it saves three additions), and the small multiples in one pass each.
 */
export function pointDouble(p: usize): void {
  const X = px(p), Y = py(p), Z = pz(p);
  const delta = tmp(0), gamma = tmp(1), beta = tmp(2), alpha = tmp(3), t = tmp(4), u = tmp(5);
  fSqr(delta, Z);
  fSqr(gamma, Y);
  fMul(beta, X, gamma);
  // alpha = 3 (X - delta)(X + delta)
  fSub(t, X, delta);
  fAdd(u, X, delta);
  fMul(alpha, t, u);
  fMulSmall(alpha, alpha, 3);
  // Z3 = 2 Y Z   (before Y is overwritten)
  fMul(Z, Y, Z);
  fAdd(Z, Z, Z);
  // X3 = alpha^2 - 8 beta
  fMulSmall(beta, beta, 4);
  fSqr(t, alpha);
  fAdd(u, beta, beta);
  fSub(X, t, u);
  // Y3 = alpha (4 beta - X3) - 8 gamma^2
  fSub(u, beta, X);
  fMul(u, alpha, u);
  fSqr(gamma, gamma);
  fMulSmall(gamma, gamma, 8);
  fSub(Y, u, gamma);
}

/**
 * P = P + (x2, y2) with P in Jacobian coordinates (not infinity) and (x2, y2) affine.
 * Returns false when the sum is the point at infinity (P = -Q); P is then left unspecified.
 */
export function pointAddMixed(p: usize, x2: usize, y2: usize): bool {
  const X = px(p), Y = py(p), Z = pz(p);
  const z1z1 = tmp(0), u2 = tmp(1), s2 = tmp(2), h = tmp(3), hh = tmp(4), i4 = tmp(5);
  const j = tmp(6), r = tmp(7), v = tmp(8), t = tmp(9);
  fSqr(z1z1, Z);
  fMul(u2, x2, z1z1);
  fMul(s2, y2, Z);
  fMul(s2, s2, z1z1);
  fSub(h, u2, X);
  fSub(r, s2, Y);
  if (limbsIsZero(h, limbs)) {
    if (limbsIsZero(r, limbs)) {
      // Same point: the addition formula degenerates, double instead.
      pointDouble(p);
      return true;
    }
    return false; // P = -Q
  }
  fAdd(r, r, r);
  fSqr(hh, h);
  fMulSmall(i4, hh, 4);
  fMul(j, h, i4);
  fMul(v, X, i4);
  // Z3 = (Z1 + H)^2 - Z1Z1 - HH
  fAdd(t, Z, h);
  fSqr(t, t);
  fSub(t, t, z1z1);
  fSub(Z, t, hh);
  // X3 = r^2 - J - 2V
  fSqr(t, r);
  fSub(t, t, j);
  fSub(t, t, v);
  fSub(X, t, v);
  // Y3 = r (V - X3) - 2 Y1 J
  fSub(v, v, X);
  fMul(v, r, v);
  fMul(j, Y, j);
  fAdd(j, j, j);
  fSub(Y, v, j);
  return true;
}

/** Copies affine (x, y) into Jacobian P with Z = 1. */
export function pointFromAffine(p: usize, x: usize, y: usize): void {
  memory.copy(px(p), x, elemBytes);
  memory.copy(py(p), y, elemBytes);
  memory.copy(pz(p), pOne(), elemBytes);
}

/**
 * Fills `table` with the affine odd multiples P, 3P, 5P, ..., (2*count - 1)P of the affine point
 * (x, y) (not infinity), `count` >= 2. `work` must hold 3*count + 3 elements.
 * One field inversion for the whole table (Montgomery's simultaneous-inversion trick).
 * Used once per public key and once per curve for G, never on the verify path.
 */
export function buildOddMultiples(table: usize, x: usize, y: usize, count: i32, work: usize): void {
  const eb = elemBytes;
  const jac = work; // count Jacobian points
  const twoP = work + <usize>count * 3 * eb; // 2P, Jacobian then affine in place
  pointFromAffine(twoP, x, y);
  pointDouble(twoP);
  normalizeOne(twoP);
  pointFromAffine(jac, x, y);
  for (let i = 1; i < count; i++) {
    const dst = jac + <usize>i * 3 * eb;
    memory.copy(dst, dst - 3 * eb, 3 * eb);
    // (2i+1)P = (2i-1)P + 2P; never infinity nor a doubling for these small odd multiples of a
    // point of prime order > 2*count.
    pointAddMixed(dst, px(twoP), py(twoP));
  }
  batchToAffine(table, jac, count);
}

/** Converts the Jacobian point at p to affine in place (x at p, y at p + elemBytes; Z = 1). */
export function normalizeOne(p: usize): void {
  const zi = tmp(10), zi2 = tmp(11);
  fInv(zi, pz(p));
  fSqr(zi2, zi);
  fMul(px(p), px(p), zi2);
  fMul(zi2, zi2, zi);
  fMul(py(p), py(p), zi2);
  memory.copy(pz(p), pOne(), elemBytes);
}

/**
 * Writes the `count` Jacobian points at `jac` as affine (x, y) pairs at `out`, with a single
 * inversion: prefix products of the Z's, invert the last, walk back. Overwrites the Z's.
 */
function batchToAffine(out: usize, jac: usize, count: i32): void {
  const eb = elemBytes;
  // prefix[i] = Z0 * ... * Zi, stored in the x slot of `out` temporarily.
  memory.copy(out, pz(jac), eb);
  for (let i = 1; i < count; i++) {
    fMul(out + <usize>i * 2 * eb, out + <usize>(i - 1) * 2 * eb, pz(jac + <usize>i * 3 * eb));
  }
  const inv = tmp(10), zi = tmp(11), zi2 = tmp(9);
  fInv(inv, out + <usize>(count - 1) * 2 * eb);
  for (let i = count - 1; i >= 0; i--) {
    const pj = jac + <usize>i * 3 * eb;
    const dst = out + <usize>i * 2 * eb;
    if (i > 0) {
      fMul(zi, inv, dst - 2 * eb); // 1/Zi = inv(prefix i) * prefix(i-1)
      fMul(inv, inv, pz(pj)); // inv(prefix i-1)
    } else {
      memory.copy(zi, inv, eb);
    }
    fSqr(zi2, zi);
    fMul(dst, px(pj), zi2);
    fMul(zi2, zi2, zi);
    fMul(dst + eb, py(pj), zi2);
  }
}

/** Checks y^2 = x^3 - 3x + b for affine Montgomery-form (x, y); `b` is the curve constant. */
export function isOnCurve(x: usize, y: usize, b: usize): bool {
  const lhs = tmp(0), rhs = tmp(1), t = tmp(2);
  fSqr(lhs, y);
  fSqr(rhs, x);
  fMul(rhs, rhs, x);
  fAdd(t, x, x);
  fAdd(t, t, x);
  fSub(rhs, rhs, t);
  fAdd(rhs, rhs, b);
  fSub(t, lhs, rhs);
  return limbsIsZero(t, limbs);
}

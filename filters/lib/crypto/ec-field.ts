/**
 * Dispatch between the P-256 and P-384 generated field arithmetic. The point code selects a
 * curve once per operation (`selectCurve`) and then calls these helpers; the branch on a global
 * is predictable and far cheaper than an indirect call per field multiplication.
 */
import { invModBinary } from "./field";
import {
  p256pMul, p256pSqr, p256pMulSmall, p256pAdd, p256pSub, p256nMul,
  P256P_MODULUS, P256P_R2, P256P_R3, P256P_ONE, P256N_MODULUS, P256N_R2,
  P256_B_MONT, P256_GX_MONT, P256_GY_MONT, P256_P_MINUS_N,
} from "./field-p256";
import {
  p384pMul, p384pSqr, p384pMulSmall, p384pAdd, p384pSub, p384nMul,
  P384P_MODULUS, P384P_R2, P384P_R3, P384P_ONE, P384N_MODULUS, P384N_R2,
  P384_B_MONT, P384_GX_MONT, P384_GY_MONT, P384_P_MINUS_N,
} from "./field-p384";

/** Same values as `Curve` in ecdsa.ts (kept here to avoid an import cycle). */
export const CURVE_P256: i32 = 0;
export const CURVE_P384: i32 = 1;

/** Curve in use by the helpers below. */
let current: i32 = CURVE_P256;
/** Limbs per field element of the current curve (8 or 12). */
export let limbs: i32 = 8;
/** Bytes per field element of the current curve (32 or 48). */
export let elemBytes: usize = 32;

export function selectCurve(curve: i32): void {
  current = curve;
  limbs = curve == CURVE_P256 ? 8 : 12;
  elemBytes = <usize>limbs * 4;
}

export function currentCurve(): i32 {
  return current;
}

/** Field element size of `curve` in bytes, without selecting it. */
export function curveElemBytes(curve: i32): i32 {
  return curve == CURVE_P256 ? 32 : 48;
}

// ---- arithmetic mod p (Montgomery form)
@inline export function fMul(r: usize, a: usize, b: usize): void {
  if (current == CURVE_P256) p256pMul(r, a, b);
  else p384pMul(r, a, b);
}
@inline export function fSqr(r: usize, a: usize): void {
  if (current == CURVE_P256) p256pSqr(r, a);
  else p384pSqr(r, a);
}
/** r = k * a for a small constant 1 <= k <= 15. */
@inline export function fMulSmall(r: usize, a: usize, k: u32): void {
  if (current == CURVE_P256) p256pMulSmall(r, a, k);
  else p384pMulSmall(r, a, k);
}
@inline export function fAdd(r: usize, a: usize, b: usize): void {
  if (current == CURVE_P256) p256pAdd(r, a, b);
  else p384pAdd(r, a, b);
}
@inline export function fSub(r: usize, a: usize, b: usize): void {
  if (current == CURVE_P256) p256pSub(r, a, b);
  else p384pSub(r, a, b);
}
/**
 * r = a^-1 for a in Montgomery form (a = xR): the binary inversion gives (xR)^-1 = x^-1 R^-1,
 * one Montgomery product with R^3 turns it into x^-1 R. Variable time: only used on public
 * points (key tables, fixed-base tables).
 */
export function fInv(r: usize, a: usize): void {
  invModBinary(r, a, pModulus(), limbs);
  fMul(r, r, current == CURVE_P256 ? ptr(P256P_R3) : ptr(P384P_R3));
}

// ---- arithmetic mod n (Montgomery form)
export function nMul(r: usize, a: usize, b: usize): void {
  if (current == CURVE_P256) p256nMul(r, a, b);
  else p384nMul(r, a, b);
}

// ---- constants of the current curve, as pointers
@inline function ptr<T>(a: StaticArray<T>): usize {
  return changetype<usize>(a);
}
export function pModulus(): usize { return current == CURVE_P256 ? ptr(P256P_MODULUS) : ptr(P384P_MODULUS); }
export function pR2(): usize { return current == CURVE_P256 ? ptr(P256P_R2) : ptr(P384P_R2); }
export function pOne(): usize { return current == CURVE_P256 ? ptr(P256P_ONE) : ptr(P384P_ONE); }
export function nModulus(): usize { return current == CURVE_P256 ? ptr(P256N_MODULUS) : ptr(P384N_MODULUS); }
export function nR2(): usize { return current == CURVE_P256 ? ptr(P256N_R2) : ptr(P384N_R2); }
export function bMont(): usize { return current == CURVE_P256 ? ptr(P256_B_MONT) : ptr(P384_B_MONT); }
export function gxMont(): usize { return current == CURVE_P256 ? ptr(P256_GX_MONT) : ptr(P384_GX_MONT); }
export function gyMont(): usize { return current == CURVE_P256 ? ptr(P256_GY_MONT) : ptr(P384_GY_MONT); }
export function pMinusN(): usize { return current == CURVE_P256 ? ptr(P256_P_MINUS_N) : ptr(P384_P_MINUS_N); }

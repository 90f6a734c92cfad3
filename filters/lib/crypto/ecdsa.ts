/**
 * ECDSA verification on NIST P-256 (ES256) and P-384 (ES384) for JWS (RFC 7518 section 3.4).
 *
 * Verification follows SEC 1 v2 section 4.1.4 / FIPS 186-4 section 6.4:
 *   reject unless 0 < r, s < n; e = leftmost bits of Hash(M) (SHA-256 for P-256, SHA-384 for
 *   P-384: the digest is exactly as long as n, so no truncation is needed); w = s^-1 mod n;
 *   u1 = e w, u2 = r w; R = u1 G + u2 Q; accept iff R != O and x(R) mod n == r.
 * u1 G + u2 Q is one interleaved double-and-add over width-w NAFs (Shamir's trick), with each
 * scalar split into SPLIT parts of bitlen/SPLIT bits: u = sum u_k 2^(k L), so
 * u G = sum u_k (2^(k L) G). With tables of odd multiples of every 2^(k L) G (per curve, built
 * with the curve's first key) and 2^(k L) Q (per key, built when the key is loaded) the loop needs only L
 * doublings instead of bitlen (64 instead of 256 for P-256), for the same number of additions.
 * x(R) mod n == r is tested without an inversion: X == r Z^2 (or (r + n) Z^2 when r + n < p).
 * Everything here is public data, so variable-time code is fine.
 */
import { HashAlg } from "./hash";
import { digestRawInto } from "./sha2";
import {
  CURVE_P256, selectCurve, elemBytes, limbs, curveElemBytes, fMul, fSqr, fSub,
  nMul, pModulus, pR2, nModulus, nR2, bMont, gxMont, gyMont, pMinusN,
} from "./ec-field";
import { pointDouble, pointAddMixed, pointFromAffine, buildOddMultiples, normalizeOne, isOnCurve, px, py, pz } from "./ec-point";
import { limbsFromBytesBE, limbsLessThan, limbsIsZero, limbsEqual, limbsSub, limbsAdd, wnaf, invModBinary } from "./field";

export enum Curve {
  P256 = 0,
  P384 = 1,
}

/** Parts each scalar is split into (see above); divides the limb count of both curves (8, 12). */
const SPLIT: i32 = 4;
/** Window of the per-key NAF: 2^(W_Q-2) = 16 odd multiples of each 2^(kL) Q (4 KB per P-256 key, 6 KB per P-384 key). */
const W_Q: i32 = 6;
const Q_COUNT: i32 = 1 << (W_Q - 2);
/** Window of the fixed-base NAF: 64 odd multiples of each 2^(kL) G, computed once per curve. */
const W_G: i32 = 8;
const G_COUNT: i32 = 1 << (W_G - 2);
/** Bytes between the NAFs of two scalar parts (>= 96 + W_G + 1). */
const NAF_STRIDE: usize = 112;

/** Why the last EcPublicKey.fromCoordinates returned null. */
export let ecKeyError: string = "";

export class EcPublicKey {
  /** For k < SPLIT: affine odd multiples P, 3P, ..., (2*Q_COUNT-1)P of P = 2^(kL) Q, Montgomery form. */
  private constructor(readonly curve: Curve, readonly table: StaticArray<u8>) {}

  /**
   * Public key from JWK coordinates (RFC 7518 section 6.2.1.2/6.2.1.3: big-endian, exactly the
   * field length). Validates it as SEC 1 v2 section 3.2.2.1 asks: coordinates in [0, p), point
   * on the curve (then it is not the point at infinity, which has no affine coordinates), and
   * since both curves have cofactor 1, n Q = O holds for every point on the curve.
   */
  static fromCoordinates(curve: Curve, x: Uint8Array, y: Uint8Array): EcPublicKey | null {
    if (curve != Curve.P256 && curve != Curve.P384) {
      ecKeyError = "unsupported curve " + (<i32>curve).toString() + ", expected P-256 (0) or P-384 (1)";
      return null;
    }
    const len = curveElemBytes(curve);
    const name = curve == Curve.P256 ? "P-256" : "P-384";
    if (x.length != len || y.length != len) {
      ecKeyError = name + " public key coordinates must be " + len.toString() + " bytes each, got x " +
        x.length.toString() + " and y " + y.length.toString();
      return null;
    }
    selectCurve(curve);
    const xs = KEY_SCRATCH, ys = KEY_SCRATCH + 48;
    limbsFromBytesBE(xs, x.dataStart, limbs);
    limbsFromBytesBE(ys, y.dataStart, limbs);
    if (!limbsLessThan(xs, pModulus(), limbs)) {
      ecKeyError = name + " public key x is not below the field prime p (non-canonical or invalid coordinate)";
      return null;
    }
    if (!limbsLessThan(ys, pModulus(), limbs)) {
      ecKeyError = name + " public key y is not below the field prime p (non-canonical or invalid coordinate)";
      return null;
    }
    fMul(xs, xs, pR2());
    fMul(ys, ys, pR2());
    if (!isOnCurve(xs, ys, bMont())) {
      ecKeyError = name + " public key point is not on the curve";
      return null;
    }
    const table = new StaticArray<u8>(SPLIT * Q_COUNT * 2 * len);
    buildSplitTables(changetype<usize>(table), xs, ys, Q_COUNT);
    // Build the curve's fixed-base tables now (once per module), so that their cost lands on the
    // JWKS load rather than on the first request that carries an ES256/ES384 token.
    generatorTable(curve);
    ecKeyError = "";
    return new EcPublicKey(curve, table);
  }
}

// ---- scratch, allocated once per module
const SCRATCH_ELEMS = 16;
const scratchArray = new StaticArray<u8>(48 * SCRATCH_ELEMS);
const S0 = changetype<usize>(scratchArray);
const KEY_SCRATCH = S0; // 2 elements (fromCoordinates only)
const R_ = S0 + 2 * 48;
const S_ = S0 + 3 * 48;
const E_ = S0 + 4 * 48;
const W_ = S0 + 5 * 48;
const U1 = S0 + 6 * 48;
const U2 = S0 + 7 * 48;
const NEG_Y = S0 + 8 * 48;
const ACC = S0 + 9 * 48; // Jacobian accumulator, 3 elements
const CHK = S0 + 12 * 48; // 2 elements for the final comparison
const DIGEST = S0 + 14 * 48; // 48 bytes
// buildOddMultiples work area: 3*count + 3 elements.
const keyWorkArray = new StaticArray<u8>(48 * (3 * G_COUNT + 3));
const KEY_WORK = changetype<usize>(keyWorkArray);
// Jacobian point for the 2^L doubling chains of buildSplitTables.
const shiftedArray = new StaticArray<u8>(3 * 48);
const SHIFTED = changetype<usize>(shiftedArray);
// NAF digits of the SPLIT parts of u1, then of u2.
const nafArray = new StaticArray<i8>(2 * SPLIT * <i32>NAF_STRIDE);
const NAF1 = changetype<usize>(nafArray);
const NAF2 = NAF1 + <usize>SPLIT * NAF_STRIDE;

// Fixed-base tables for G, built at first use of each curve.
let gTable256: StaticArray<u8> | null = null;
let gTable384: StaticArray<u8> | null = null;

function generatorTable(curve: Curve): usize {
  let t = curve == Curve.P256 ? gTable256 : gTable384;
  if (t == null) {
    t = new StaticArray<u8>(SPLIT * G_COUNT * 2 * curveElemBytes(curve));
    buildSplitTables(changetype<usize>(t), gxMont(), gyMont(), G_COUNT);
    if (curve == Curve.P256) gTable256 = t;
    else gTable384 = t;
  }
  return changetype<usize>(t);
}

/**
 * Fills SPLIT consecutive tables of `count` affine odd multiples, table k for 2^(k L) P where
 * L = field bits / SPLIT, starting from the affine Montgomery-form point (x, y) (current curve).
 */
function buildSplitTables(tables: usize, x: usize, y: usize, count: i32): void {
  const eb = elemBytes;
  const tableBytes = <usize>count * 2 * eb;
  const partBits = <i32>eb * 8 / SPLIT;
  for (let k = 0; k < SPLIT; k++) {
    const table = tables + <usize>k * tableBytes;
    if (k == 0) {
      buildOddMultiples(table, x, y, count, KEY_WORK);
    } else {
      // 2^(kL) P = 2^L (2^((k-1)L) P), whose affine form is entry 0 of the previous table
      pointFromAffine(SHIFTED, table - tableBytes, table - tableBytes + eb);
      for (let i = 0; i < partBits; i++) pointDouble(SHIFTED);
      normalizeOne(SHIFTED);
      buildOddMultiples(table, px(SHIFTED), py(SHIFTED), count, KEY_WORK);
    }
  }
}

/**
 * Verifies a JWS ECDSA signature (r || s, each exactly the field length: 64 bytes for ES256,
 * 96 for ES384) over `message`, hashing it with SHA-256 / SHA-384 according to the key's curve.
 */
export function ecdsaVerify(key: EcPublicKey, message: Uint8Array, signature: Uint8Array): bool {
  const len = curveElemBytes(key.curve);
  selectCurve(key.curve);
  digestRawInto(key.curve == Curve.P256 ? HashAlg.SHA256 : HashAlg.SHA384, message.dataStart, message.length, DIGEST);
  return verifyDigestRaw(key, DIGEST, len, signature.dataStart, signature.length);
}

/**
 * Same as ecdsaVerify with the message digest already computed (`digest` of `digestLength`
 * bytes at a linear-memory address). The leftmost bits of the digest are used, as SEC 1 4.1.4
 * step 5 says; callers pairing a curve with its own hash always pass exactly the length of n.
 */
export function ecdsaVerifyDigest(key: EcPublicKey, digest: Uint8Array, signature: Uint8Array): bool {
  selectCurve(key.curve);
  return verifyDigestRaw(key, digest.dataStart, digest.length, signature.dataStart, signature.length);
}

function verifyDigestRaw(key: EcPublicKey, digest: usize, digestLength: i32, sig: usize, sigLength: i32): bool {
  const curve = key.curve;
  selectCurve(curve);
  const len = <i32>elemBytes;
  if (sigLength != 2 * len) return false;
  if (digestLength < len) return false; // a shorter hash than n is never paired with these curves
  const n = nModulus();
  // 0 < r < n, 0 < s < n (SEC 1 4.1.4 step 1)
  limbsFromBytesBE(R_, sig, limbs);
  limbsFromBytesBE(S_, sig + <usize>len, limbs);
  if (limbsIsZero(R_, limbs) || !limbsLessThan(R_, n, limbs)) return false;
  if (limbsIsZero(S_, limbs) || !limbsLessThan(S_, n, limbs)) return false;
  // e: the leftmost bitlen(n) bits of the digest; both n have a whole number of bytes (256, 384 bits)
  limbsFromBytesBE(E_, digest, limbs);
  if (!limbsLessThan(E_, n, limbs)) limbsSub(E_, E_, n, limbs); // e < 2^bits < 2n
  // w = s^-1 mod n, taken into Montgomery form (w R); then u1 = mont(e, wR) = e w and u2 = r w
  // come out in plain form. Binary inversion: s is public, so variable time is fine.
  invModBinary(W_, S_, n, limbs);
  nMul(W_, W_, nR2());
  nMul(U1, E_, W_);
  nMul(U2, R_, W_);

  const gTable = generatorTable(curve);
  const qTable = changetype<usize>(key.table);
  const eb = elemBytes;
  const partLimbs = limbs / SPLIT;
  const gTableBytes = <usize>G_COUNT * 2 * eb;
  const qTableBytes = <usize>Q_COUNT * 2 * eb;
  let top = 0;
  for (let k = 0; k < SPLIT; k++) {
    const part = <usize>(k * partLimbs) * 4;
    top = max(top, wnaf(NAF1 + <usize>k * NAF_STRIDE, U1 + part, partLimbs, W_G));
    top = max(top, wnaf(NAF2 + <usize>k * NAF_STRIDE, U2 + part, partLimbs, W_Q));
  }
  let infinity = true;
  for (let i = top - 1; i >= 0; i--) {
    if (!infinity) pointDouble(ACC);
    for (let k = 0; k < SPLIT; k++) {
      const d1 = <i32>load<i8>(NAF1 + <usize>k * NAF_STRIDE + <usize>i);
      if (d1 != 0) infinity = addTableEntry(infinity, gTable + <usize>k * gTableBytes, d1, eb);
      const d2 = <i32>load<i8>(NAF2 + <usize>k * NAF_STRIDE + <usize>i);
      if (d2 != 0) infinity = addTableEntry(infinity, qTable + <usize>k * qTableBytes, d2, eb);
    }
  }
  if (infinity) return false; // SEC 1 4.1.4 step 5: R = O is rejected
  // x(R) = X / Z^2; accept iff x(R) mod n == r, i.e. X == r Z^2 or (r < p - n and X == (r + n) Z^2)
  const z2 = CHK, rz = CHK + 48;
  fSqr(z2, pz(ACC));
  fMul(rz, R_, pR2()); // r < n < p, into Montgomery form
  fMul(rz, rz, z2);
  if (limbsEqual(rz, px(ACC), limbs)) return true;
  if (!limbsLessThan(R_, pMinusN(), limbs)) return false;
  limbsAdd(R_, R_, n, limbs); // r + n < p
  fMul(rz, R_, pR2());
  fMul(rz, rz, z2);
  return limbsEqual(rz, px(ACC), limbs);
}

/** ACC += sign(d) * table[|d| >> 1]; returns whether ACC is now the point at infinity. */
@inline
function addTableEntry(infinity: bool, table: usize, digit: i32, eb: usize): bool {
  const entry = table + <usize>((digit < 0 ? -digit : digit) >> 1) * 2 * eb;
  let y = entry + eb;
  if (digit < 0) {
    fSub(NEG_Y, ZERO, y);
    y = NEG_Y;
  }
  if (infinity) {
    pointFromAffine(ACC, entry, y);
    return false;
  }
  return !pointAddMixed(ACC, entry, y);
}

const zeroArray = new StaticArray<u32>(12);
const ZERO = changetype<usize>(zeroArray);

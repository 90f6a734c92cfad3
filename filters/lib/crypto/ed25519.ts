/**
 * Ed25519 signature verification (RFC 8032 section 5.1.7) for JWS "EdDSA" (RFC 8037).
 *
 * Checks, in order: signature is 64 bytes; S < L (section 5.1.7 step 1, rejects malleable
 * signatures); k = SHA-512(R || A || M) mod L; then computes R' = [S]B - [k]A and accepts iff
 * encode(R') equals the 32 bytes of R. Comparing encodings rejects a non-canonical R (y >= p, or
 * "-0"), since encode() only produces canonical strings, and is the cofactorless equation
 * [S]B = R + [k]A of step 3 otherwise. This matches what Wycheproof's ed25519_test.json expects.
 *
 * [S]B - [k]A is one interleaved double-and-add over width-w NAFs: a table of B's odd multiples
 * (built at first use) and a per-key table of -A's, both affine Niels points (7M additions).
 */
import { HashAlg } from "./hash";
import { Sha2 } from "./sha2";
import { sclMul, sclAdd, SCL_R2, SCL_R3, SCL_MODULUS } from "./field-25519";
import { FE_BX, FE_BY } from "./field-25519";
import { limbsLessThan, wnaf } from "./field";
import {
  POINT, NIELS, FE, cst, pointDecode, pointEncode, pointDouble, pointAddNiels,
  buildOddMultiplesNiels, pointSetIdentity, pointNegate, feIsZero, feEqual,
} from "./curve25519";
import { feMul } from "./field-25519";

/** NAF window for the per-key table: 2^(W_A-2) = 16 odd multiples of -A. */
const W_A: i32 = 6;
const A_COUNT: i32 = 1 << (W_A - 2);
/** NAF window for the fixed base: 64 odd multiples of B, built once. */
const W_B: i32 = 8;
const B_COUNT: i32 = 1 << (W_B - 2);

/** Why the last Ed25519PublicKey.fromBytes returned null. */
export let ed25519KeyError: string = "";

export class Ed25519PublicKey {
  private constructor(
    /** The 32-byte encoding, hashed into every signature's k. */
    readonly encoded: StaticArray<u8>,
    /** Niels forms of -A, -3A, ..., -(2*A_COUNT-1)A. */
    readonly table: StaticArray<u8>,
  ) {}

  /** Public key from its 32-byte encoding (RFC 8032 5.1.5; JWK "x" of RFC 8037 section 2). */
  static fromBytes(a: Uint8Array): Ed25519PublicKey | null {
    if (a.length != 32) {
      ed25519KeyError = "Ed25519 public key must be 32 bytes, got " + a.length.toString();
      return null;
    }
    if (!pointDecode(DECODED, a.dataStart)) {
      ed25519KeyError = "Ed25519 public key is not a canonical encoding of a curve point (RFC 8032 section 5.1.3)";
      return null;
    }
    if (hasSmallOrder(DECODED)) {
      // [8]A = O: such a key (the identity or a torsion point) lets anyone forge signatures with
      // R = -[k]A style tricks; no honest key is small-order, so refuse it like libsodium does.
      ed25519KeyError = "Ed25519 public key is a point of small order (8A is the identity)";
      return null;
    }
    pointNegate(DECODED);
    const table = new StaticArray<u8>(A_COUNT * <i32>NIELS);
    buildOddMultiplesNiels(changetype<usize>(table), DECODED, A_COUNT, WORK);
    // Fixed-base table for B: built once per module, at key load rather than on a request.
    baseNiels();
    const encoded = new StaticArray<u8>(32);
    memory.copy(changetype<usize>(encoded), a.dataStart, 32);
    ed25519KeyError = "";
    return new Ed25519PublicKey(encoded, table);
  }
}

// ---- scratch, allocated once per module
const workArray = new StaticArray<u8>((B_COUNT + 2) * <i32>POINT);
const WORK = changetype<usize>(workArray);
const pointArray = new StaticArray<u8>(2 * <i32>POINT);
const DECODED = changetype<usize>(pointArray);
const ACC = DECODED + POINT;
const scalarArray = new StaticArray<u8>(64 + 32 + 32 + 32 + 32);
const DIGEST = changetype<usize>(scalarArray); // 64 bytes
const K = DIGEST + 64; // k mod L, 8 limbs
const T1 = K + 32;
const T2 = T1 + 32;
const ENCODED = T2 + 32;
const nafArray = new StaticArray<i8>(2 * 272);
const NAF_S = changetype<usize>(nafArray);
const NAF_K = NAF_S + 272;
const ONE_PLAIN: StaticArray<u32> = [1, 0, 0, 0, 0, 0, 0, 0];
const hasher = new Sha2(HashAlg.SHA512);

let baseTable: StaticArray<u8> | null = null;

function baseNiels(): usize {
  let t = baseTable;
  if (t == null) {
    t = new StaticArray<u8>(B_COUNT * <i32>NIELS);
    memory.copy(DECODED, cst(FE_BX), FE);
    memory.copy(DECODED + FE, cst(FE_BY), FE);
    pointSetIdentity(ACC); // for its Z = 1
    memory.copy(DECODED + 2 * FE, ACC + 2 * FE, FE);
    feMul(DECODED + 3 * FE, cst(FE_BX), cst(FE_BY));
    buildOddMultiplesNiels(changetype<usize>(t), DECODED, B_COUNT, WORK);
    baseTable = t;
  }
  return changetype<usize>(t);
}

/** Verifies an Ed25519 signature (64 bytes: R || S) of `message` under `key`. */
export function ed25519Verify(key: Ed25519PublicKey, message: Uint8Array, signature: Uint8Array): bool {
  if (signature.length != 64) return false;
  const sig = signature.dataStart;
  const s = sig + 32;
  // S < L (RFC 8032 5.1.7 step 1); S as 8 little-endian u32 limbs is just the bytes on wasm.
  if (!limbsLessThan(s, changetype<usize>(SCL_MODULUS), 8)) return false;
  // k = SHA-512(dom2 = "" || R || A || M) mod L (step 2; pure Ed25519 has an empty dom2)
  hasher.reset(HashAlg.SHA512);
  hasher.updateRaw(sig, 32);
  hasher.updateRaw(changetype<usize>(key.encoded), 32);
  hasher.updateRaw(message.dataStart, message.length);
  hasher.finishInto(DIGEST);
  reduceDigestModL(K, DIGEST);

  const bTable = baseNiels();
  const aTable = changetype<usize>(key.table);
  const topS = wnaf(NAF_S, s, 8, W_B);
  const topK = wnaf(NAF_K, K, 8, W_A);
  const top = max(topS, topK);
  pointSetIdentity(ACC);
  let started = false;
  for (let i = top - 1; i >= 0; i--) {
    const dS = <i32>load<i8>(NAF_S + <usize>i);
    const dK = <i32>load<i8>(NAF_K + <usize>i);
    if (started) pointDouble(ACC, dS != 0 || dK != 0);
    if (dS != 0) {
      addEntry(bTable, dS, dK != 0);
      started = true;
    }
    if (dK != 0) {
      addEntry(aTable, dK, false);
      started = true;
    }
  }
  // With no non-zero digit (S = k = 0) ACC stays the identity: encode(O) is compared like any R'.
  pointEncode(ENCODED, ACC);
  let diff: u64 = 0;
  for (let i: usize = 0; i < 32; i += 8) diff |= load<u64>(ENCODED + i) ^ load<u64>(sig + i);
  return diff == 0;
}

/** True when [8]P is the identity (X = 0 and Y = Z), i.e. P is in the torsion subgroup. */
function hasSmallOrder(p: usize): bool {
  memory.copy(ACC, p, POINT);
  pointDouble(ACC, false);
  pointDouble(ACC, false);
  pointDouble(ACC, false);
  return feIsZero(ACC) && feEqual(ACC + FE, ACC + 2 * FE);
}

@inline
function addEntry(table: usize, digit: i32, withT: bool): void {
  const entry = table + <usize>((digit < 0 ? -digit : digit) >> 1) * NIELS;
  pointAddNiels(ACC, entry, digit < 0, withT);
}

/**
 * r = h mod L for the 512-bit little-endian h at `digest` (RFC 8032 5.1.7 step 2 interprets the
 * digest as a little-endian integer). Split h = lo + hi 2^256; with Montgomery multiplication
 * mod L (R = 2^256): mont(hi, R^3) = hi R^2 and mont(lo, R^2) = lo R are the Montgomery forms
 * of hi 2^256 and lo, so their sum times R^-1, i.e. mont(sum, 1), is h mod L.
 * The generated CIOS accepts a first operand up to 2^256 when the second is < L (result < 2L,
 * then one subtraction).
 */
function reduceDigestModL(r: usize, digest: usize): void {
  sclMul(T1, digest + 32, changetype<usize>(SCL_R3));
  sclMul(T2, digest, changetype<usize>(SCL_R2));
  sclAdd(T1, T1, T2);
  sclMul(r, T1, changetype<usize>(ONE_PLAIN));
}

/**
 * HMAC (RFC 2104; SHA-2 instances per RFC 4231 / FIPS 198-1) and a constant-time compare.
 * JWS HS256/384/512 (RFC 7518 section 3.2) compare the *full* tag: see hmacVerify.
 */
import { HashAlg, hashLength, hashBlockLength } from "./hash";
import { Sha2 } from "./sha2";

const IPAD: u8 = 0x36;
const OPAD: u8 = 0x5c;

// Scratch reused by every call: the padded key block (max block size 128) and the inner digest.
const hasher = new Sha2(HashAlg.SHA256);
const keyBlock = new StaticArray<u8>(128);
const innerDigest = new StaticArray<u8>(64);
const padBlock = new StaticArray<u8>(128);

/** Hashes key ⊕ pad (one whole block) with a single update instead of one call per byte. */
function updatePadded(block: usize, pad: u8, blockLength: i32): void {
  const padded = changetype<usize>(padBlock);
  for (let i = 0; i < blockLength; i++) store<u8>(padded + <usize>i, load<u8>(block + <usize>i) ^ pad);
  hasher.updateRaw(padded, blockLength);
}

/** Writes HMAC(alg, key, msg) (hashLength(alg) bytes) at `out`. */
export function hmacRawInto(alg: HashAlg, keyPtr: usize, keyLength: i32, msgPtr: usize, msgLength: i32, out: usize): void {
  const blockLength = hashBlockLength(alg);
  const block = changetype<usize>(keyBlock);
  memory.fill(block, 0, 128);
  // RFC 2104 section 2: keys longer than the block are hashed first; shorter ones are zero-padded.
  if (keyLength > blockLength) {
    hasher.reset(alg);
    hasher.updateRaw(keyPtr, keyLength);
    hasher.finishInto(block);
  } else {
    memory.copy(block, keyPtr, <usize>keyLength);
  }

  hasher.reset(alg);
  updatePadded(block, IPAD, blockLength);
  hasher.updateRaw(msgPtr, msgLength);
  hasher.finishInto(changetype<usize>(innerDigest));

  hasher.reset(alg);
  updatePadded(block, OPAD, blockLength);
  hasher.updateRaw(changetype<usize>(innerDigest), hashLength(alg));
  hasher.finishInto(out);

  // The padded key is secret material: do not leave it in linear memory.
  memory.fill(block, 0, 128);
  memory.fill(changetype<usize>(padBlock), 0, 128);
}

/** HMAC(alg, key, msg) as a new Uint8Array of hashLength(alg) bytes. */
export function hmac(alg: HashAlg, key: Uint8Array, msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(hashLength(alg));
  hmacRawInto(alg, key.dataStart, key.length, msg.dataStart, msg.length, out.dataStart);
  return out;
}

const expectedTag = new StaticArray<u8>(64);

/**
 * Verifies a JWS HMAC tag. The tag must be the full hashLength(alg) bytes: RFC 7518 section 3.2
 * defines HS256/384/512 without truncation, so a shorter (truncated) tag never verifies.
 * The compare does not exit early (see constantTimeEqualRaw).
 */
export function hmacVerify(alg: HashAlg, key: Uint8Array, msg: Uint8Array, tag: Uint8Array): bool {
  const length = hashLength(alg);
  hmacRawInto(alg, key.dataStart, key.length, msg.dataStart, msg.length, changetype<usize>(expectedTag));
  // The tag length is public (it is visible in the token), so rejecting on it leaks nothing secret.
  if (tag.length != length) return false;
  return constantTimeEqualRaw(changetype<usize>(expectedTag), tag.dataStart, length);
}

/**
 * Compares two byte arrays in time that depends only on their lengths, never on where they differ.
 * Lengths are treated as public.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  return constantTimeEqualRaw(a.dataStart, b.dataStart, a.length);
}

/** OR-accumulates the XOR of every byte pair: no data-dependent branch or early exit. */
export function constantTimeEqualRaw(a: usize, b: usize, length: i32): bool {
  let difference: u32 = 0;
  for (let i = 0; i < length; i++) {
    difference |= <u32>(load<u8>(a + <usize>i) ^ load<u8>(b + <usize>i));
  }
  // Branch-free zero test: (difference - 1) has bit 31 set only when difference == 0.
  return <bool>(((difference - 1) >>> 31) & 1);
}

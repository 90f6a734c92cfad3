/**
 * Signature encodings of RFC 8017: EMSA-PKCS1-v1_5 (section 9.2) and EMSA-PSS verification
 * (section 9.1.2) with MGF1 (appendix B.2.1).
 */
import { HashAlg, hashLength } from "./hash";
import { Sha2 } from "./sha2";
import { constantTimeEqualRaw } from "./hmac";

// DER of DigestInfo up to the hash value, RFC 8017 section 9.2 note 1: AlgorithmIdentifier with
// NULL parameters, the form every JOSE signer emits. The parameter-less variant ("MissingNull")
// is deliberately not accepted: verification is encode-and-compare against this one form.
const DIGEST_INFO_SHA256: StaticArray<u8> = [
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
];
const DIGEST_INFO_SHA384: StaticArray<u8> = [
  0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30,
];
const DIGEST_INFO_SHA512: StaticArray<u8> = [
  0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40,
];

function digestInfoPrefix(alg: HashAlg): StaticArray<u8> {
  if (alg == HashAlg.SHA256) return DIGEST_INFO_SHA256;
  if (alg == HashAlg.SHA384) return DIGEST_INFO_SHA384;
  return DIGEST_INFO_SHA512;
}

/**
 * EMSA-PKCS1-v1_5-ENCODE (RFC 8017 section 9.2) of an already computed hash into `out`
 * (emLength bytes): 0x00 0x01 0xff…0xff 0x00 DigestInfo. Returns false if emLength is too short.
 */
export function encodePkcs1v15(alg: HashAlg, messageHash: usize, out: usize, emLength: i32): bool {
  const prefix = digestInfoPrefix(alg);
  const hLen = hashLength(alg);
  const tLen = prefix.length + hLen;
  if (emLength < tLen + 11) return false; // step 3: "intended encoded message length too short"
  const paddingLength = emLength - tLen - 3;
  store<u8>(out, 0x00);
  store<u8>(out, 0x01, 1);
  memory.fill(out + 2, 0xff, <usize>paddingLength);
  store<u8>(out + 2 + <usize>paddingLength, 0x00);
  const t = out + 3 + <usize>paddingLength;
  memory.copy(t, changetype<usize>(prefix), <usize>prefix.length);
  memory.copy(t + <usize>prefix.length, messageHash, <usize>hLen);
  return true;
}

const pssHasher = new Sha2(HashAlg.SHA256);
const mgfBlock = new StaticArray<u8>(64);
const recomputedHash = new StaticArray<u8>(64);
const ZERO_BYTES_8 = new StaticArray<u8>(8);

/**
 * EMSA-PSS-VERIFY (RFC 8017 section 9.1.2) with MGF1 over the same hash. `em` holds the
 * emLength = ceil(emBits/8) bytes of the encoded message; it is unmasked in place.
 */
export function verifyPss(alg: HashAlg, messageHash: usize, em: usize, emLength: i32, emBits: i32, saltLength: i32): bool {
  const hLen = hashLength(alg);
  if (saltLength < 0) return false;
  // Step 3.
  if (emLength < hLen + saltLength + 2) return false;
  // Step 4: trailer field.
  if (load<u8>(em + <usize>(emLength - 1)) != 0xbc) return false;
  // Step 5: maskedDB || H.
  const dbLength = emLength - hLen - 1;
  const h = em + <usize>dbLength;
  // Step 6: the 8·emLength − emBits leftmost bits of maskedDB must be zero.
  const unusedBits = 8 * emLength - emBits;
  const topMask = <u8>((<u32>0xff) >> (<u32>unusedBits));
  if ((load<u8>(em) & ~topMask) != 0) return false;
  // Steps 7–8: DB = maskedDB xor MGF1(H, dbLength).
  applyMgf1(alg, h, hLen, em, dbLength);
  // Step 9.
  store<u8>(em, load<u8>(em) & topMask);
  // Step 10: emLength − hLen − sLen − 2 zero bytes, then 0x01.
  const zeroLength = emLength - hLen - saltLength - 2;
  for (let i = 0; i < zeroLength; i++) {
    if (load<u8>(em + <usize>i) != 0) return false;
  }
  if (load<u8>(em + <usize>zeroLength) != 0x01) return false;
  // Steps 11–13: H' = Hash(0x00×8 || mHash || salt).
  const salt = em + <usize>(dbLength - saltLength);
  pssHasher.reset(alg);
  pssHasher.updateRaw(changetype<usize>(ZERO_BYTES_8), 8);
  pssHasher.updateRaw(messageHash, hLen);
  pssHasher.updateRaw(salt, saltLength);
  pssHasher.finishInto(changetype<usize>(recomputedHash));
  // Step 14.
  return constantTimeEqualRaw(h, changetype<usize>(recomputedHash), hLen);
}

/** XORs MGF1(seed, length) (RFC 8017 appendix B.2.1) into `target`. */
function applyMgf1(alg: HashAlg, seed: usize, seedLength: i32, target: usize, length: i32): void {
  const hLen = hashLength(alg);
  const block = changetype<usize>(mgfBlock);
  let counter: u32 = 0;
  for (let done = 0; done < length; done += hLen) {
    pssHasher.reset(alg);
    pssHasher.updateRaw(seed, seedLength);
    pssHasher.updateByte(<u8>(counter >>> 24));
    pssHasher.updateByte(<u8>(counter >>> 16));
    pssHasher.updateByte(<u8>(counter >>> 8));
    pssHasher.updateByte(<u8>counter);
    pssHasher.finishInto(block);
    const take = min(hLen, length - done);
    for (let i = 0; i < take; i++) {
      const p = target + <usize>(done + i);
      store<u8>(p, load<u8>(p) ^ load<u8>(block + <usize>i));
    }
    counter++;
  }
}

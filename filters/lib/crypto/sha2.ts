/**
 * SHA-256, SHA-384 and SHA-512 (FIPS 180-4, https://doi.org/10.6028/NIST.FIPS.180-4).
 *
 * Hand-written rather than taken from npm: the AssemblyScript packages on npm
 * (e.g. as-crypto variants) are unmaintained, allocate per call or import `env.seed`,
 * which Envoy does not provide. This file allocates only when a one-shot helper
 * returns a fresh Uint8Array; `Sha2.finishInto` writes into caller memory.
 */
import { HashAlg, hashLength, hashBlockLength } from "./hash";

// FIPS 180-4 section 4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K256: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

// FIPS 180-4 section 4.2.3: first 64 bits of the fractional parts of the cube roots of the first 80 primes.
const K512: StaticArray<u64> = [
  0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
  0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
  0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
  0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
  0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
  0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
  0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
  0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
  0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
  0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
  0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
  0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
  0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
  0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
  0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
  0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
];

// FIPS 180-4 sections 5.3.3 (SHA-256), 5.3.4 (SHA-384), 5.3.5 (SHA-512).
const IV256: StaticArray<u32> = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const IV384: StaticArray<u64> = [
  0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
  0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4,
];
const IV512: StaticArray<u64> = [
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
];

/**
 * Incremental SHA-2 context. One instance is reused for any number of messages:
 * `reset(alg)`, any number of `update*` calls, then `finishInto`.
 */
export class Sha2 {
  alg: HashAlg = HashAlg.SHA256;
  private state32: StaticArray<u32> = new StaticArray<u32>(8);
  private state64: StaticArray<u64> = new StaticArray<u64>(8);
  private schedule32: StaticArray<u32> = new StaticArray<u32>(64);
  private schedule64: StaticArray<u64> = new StaticArray<u64>(80);
  private pending: StaticArray<u8> = new StaticArray<u8>(128);
  private pendingLength: i32 = 0;
  private totalLength: u64 = 0;

  constructor(alg: HashAlg = HashAlg.SHA256) {
    this.reset(alg);
  }

  reset(alg: HashAlg): void {
    this.alg = alg;
    this.pendingLength = 0;
    this.totalLength = 0;
    if (alg == HashAlg.SHA256) {
      memory.copy(changetype<usize>(this.state32), changetype<usize>(IV256), 32);
    } else {
      const iv = alg == HashAlg.SHA384 ? IV384 : IV512;
      memory.copy(changetype<usize>(this.state64), changetype<usize>(iv), 64);
    }
  }

  update(data: Uint8Array): void {
    this.updateRaw(data.dataStart, data.length);
  }

  /** Hashes `length` bytes starting at linear-memory address `ptr`. */
  updateRaw(ptr: usize, length: i32): void {
    const blockLength = hashBlockLength(this.alg);
    const pendingPtr = changetype<usize>(this.pending);
    this.totalLength += <u64>length;
    if (this.pendingLength > 0) {
      const take = min(blockLength - this.pendingLength, length);
      memory.copy(pendingPtr + <usize>this.pendingLength, ptr, <usize>take);
      this.pendingLength += take;
      ptr += <usize>take;
      length -= take;
      if (this.pendingLength < blockLength) return;
      this.compress(pendingPtr);
      this.pendingLength = 0;
    }
    // Whole blocks are compressed straight from the caller's memory, without a copy.
    while (length >= blockLength) {
      this.compress(ptr);
      ptr += <usize>blockLength;
      length -= blockLength;
    }
    if (length > 0) {
      memory.copy(pendingPtr, ptr, <usize>length);
      this.pendingLength = length;
    }
  }

  /** Hashes a single byte (used for MGF1 counters and HMAC pads). */
  updateByte(value: u8): void {
    const blockLength = hashBlockLength(this.alg);
    store<u8>(changetype<usize>(this.pending) + <usize>this.pendingLength, value);
    this.pendingLength++;
    this.totalLength++;
    if (this.pendingLength == blockLength) {
      this.compress(changetype<usize>(this.pending));
      this.pendingLength = 0;
    }
  }

  /** Pads (FIPS 180-4 section 5.1) and writes hashLength(alg) bytes to `out`. The context must be reset before reuse. */
  finishInto(out: usize): void {
    const blockLength = hashBlockLength(this.alg);
    const lengthFieldSize = blockLength == 64 ? 8 : 16;
    const bitLength = this.totalLength << 3;
    const pendingPtr = changetype<usize>(this.pending);
    let used = this.pendingLength;
    store<u8>(pendingPtr + <usize>used, 0x80);
    used++;
    if (used > blockLength - lengthFieldSize) {
      memory.fill(pendingPtr + <usize>used, 0, <usize>(blockLength - used));
      this.compress(pendingPtr);
      used = 0;
    }
    memory.fill(pendingPtr + <usize>used, 0, <usize>(blockLength - used));
    // Message length in bits, big-endian; the high 64 bits of SHA-512's 128-bit field stay zero
    // because totalLength is a byte count below 2^61.
    store<u64>(pendingPtr + <usize>(blockLength - 8), bswap<u64>(bitLength));
    this.compress(pendingPtr);
    this.pendingLength = 0;

    if (this.alg == HashAlg.SHA256) {
      const state = changetype<usize>(this.state32);
      for (let i = 0; i < 8; i++) {
        store<u32>(out + (<usize>i << 2), bswap<u32>(load<u32>(state + (<usize>i << 2))));
      }
    } else {
      const words = hashLength(this.alg) >> 3;
      const state = changetype<usize>(this.state64);
      for (let i = 0; i < words; i++) {
        store<u64>(out + (<usize>i << 3), bswap<u64>(load<u64>(state + (<usize>i << 3))));
      }
    }
  }

  private compress(block: usize): void {
    if (this.alg == HashAlg.SHA256) this.compress256(block);
    else this.compress512(block);
  }

  // FIPS 180-4 section 6.2.2.
  private compress256(block: usize): void {
    const w = changetype<usize>(this.schedule32);
    const k = changetype<usize>(K256);
    for (let t: usize = 0; t < 16; t++) {
      store<u32>(w + (t << 2), bswap<u32>(load<u32>(block + (t << 2))));
    }
    for (let t: usize = 16; t < 64; t++) {
      const w15 = load<u32>(w + ((t - 15) << 2));
      const w2 = load<u32>(w + ((t - 2) << 2));
      const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
      store<u32>(w + (t << 2), load<u32>(w + ((t - 16) << 2)) + s0 + load<u32>(w + ((t - 7) << 2)) + s1);
    }
    const state = changetype<usize>(this.state32);
    let a = load<u32>(state, 0), b = load<u32>(state, 4), c = load<u32>(state, 8), d = load<u32>(state, 12);
    let e = load<u32>(state, 16), f = load<u32>(state, 20), g = load<u32>(state, 24), h = load<u32>(state, 28);
    for (let t: usize = 0; t < 64; t++) {
      const s1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = h + s1 + ch + load<u32>(k + (t << 2)) + load<u32>(w + (t << 2));
      const s0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = s0 + maj;
      h = g; g = f; f = e; e = d + t1;
      d = c; c = b; b = a; a = t1 + t2;
    }
    store<u32>(state, load<u32>(state, 0) + a, 0);
    store<u32>(state, load<u32>(state, 4) + b, 4);
    store<u32>(state, load<u32>(state, 8) + c, 8);
    store<u32>(state, load<u32>(state, 12) + d, 12);
    store<u32>(state, load<u32>(state, 16) + e, 16);
    store<u32>(state, load<u32>(state, 20) + f, 20);
    store<u32>(state, load<u32>(state, 24) + g, 24);
    store<u32>(state, load<u32>(state, 28) + h, 28);
  }

  // FIPS 180-4 section 6.4.2 (SHA-384 is SHA-512 with another IV, truncated).
  private compress512(block: usize): void {
    const w = changetype<usize>(this.schedule64);
    const k = changetype<usize>(K512);
    for (let t: usize = 0; t < 16; t++) {
      store<u64>(w + (t << 3), bswap<u64>(load<u64>(block + (t << 3))));
    }
    for (let t: usize = 16; t < 80; t++) {
      const w15 = load<u64>(w + ((t - 15) << 3));
      const w2 = load<u64>(w + ((t - 2) << 3));
      const s0 = rotr<u64>(w15, 1) ^ rotr<u64>(w15, 8) ^ (w15 >>> 7);
      const s1 = rotr<u64>(w2, 19) ^ rotr<u64>(w2, 61) ^ (w2 >>> 6);
      store<u64>(w + (t << 3), load<u64>(w + ((t - 16) << 3)) + s0 + load<u64>(w + ((t - 7) << 3)) + s1);
    }
    const state = changetype<usize>(this.state64);
    let a = load<u64>(state, 0), b = load<u64>(state, 8), c = load<u64>(state, 16), d = load<u64>(state, 24);
    let e = load<u64>(state, 32), f = load<u64>(state, 40), g = load<u64>(state, 48), h = load<u64>(state, 56);
    for (let t: usize = 0; t < 80; t++) {
      const s1 = rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41);
      const ch = (e & f) ^ (~e & g);
      const t1 = h + s1 + ch + load<u64>(k + (t << 3)) + load<u64>(w + (t << 3));
      const s0 = rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = s0 + maj;
      h = g; g = f; f = e; e = d + t1;
      d = c; c = b; b = a; a = t1 + t2;
    }
    store<u64>(state, load<u64>(state, 0) + a, 0);
    store<u64>(state, load<u64>(state, 8) + b, 8);
    store<u64>(state, load<u64>(state, 16) + c, 16);
    store<u64>(state, load<u64>(state, 24) + d, 24);
    store<u64>(state, load<u64>(state, 32) + e, 32);
    store<u64>(state, load<u64>(state, 40) + f, 40);
    store<u64>(state, load<u64>(state, 48) + g, 48);
    store<u64>(state, load<u64>(state, 56) + h, 56);
  }
}

// Context behind the one-shot helpers below; never used re-entrantly (no callbacks run while hashing).
const oneShot = new Sha2(HashAlg.SHA256);

/** Hash of `data` as a new Uint8Array of hashLength(alg) bytes. */
export function digest(alg: HashAlg, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(hashLength(alg));
  digestRawInto(alg, data.dataStart, data.length, out.dataStart);
  return out;
}

/** Hashes `length` bytes at `ptr` and writes hashLength(alg) bytes at `out` (no allocation). */
export function digestRawInto(alg: HashAlg, ptr: usize, length: i32, out: usize): void {
  oneShot.reset(alg);
  oneShot.updateRaw(ptr, length);
  oneShot.finishInto(out);
}

export function sha256(data: Uint8Array): Uint8Array {
  return digest(HashAlg.SHA256, data);
}

export function sha384(data: Uint8Array): Uint8Array {
  return digest(HashAlg.SHA384, data);
}

export function sha512(data: Uint8Array): Uint8Array {
  return digest(HashAlg.SHA512, data);
}

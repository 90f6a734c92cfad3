/**
 * Ed25519 (JWS EdDSA, RFC 8037) through the compiled AssemblyScript harness.
 *
 * Wycheproof ed25519_test.json: every "valid" vector must verify, every "invalid" one must be
 * rejected (this includes S >= L malleability, non-canonical R, truncated/extended signatures).
 * "acceptable" policy: the file (v0.9rc5) has no "acceptable" vector; any that a later version
 * adds is REJECTED (expected = result === "valid"), the fail-closed rule also used for ECDSA and
 * stated in filters/lib/crypto/README.md. Verification is cofactorless (RFC 8032 5.1.7 allows
 * either equation; cofactorless is what OpenSSL/Envoy's BoringSSL do).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { EC_HARNESS_BUILDS, EcHarness } from "../fixtures/crypto/ec-harness-loader.js";
import { readWycheproof, type WycheproofSignatureTest } from "../setup/wycheproof.js";

const here = path.dirname(fileURLToPath(import.meta.url));

interface WycheproofGroup {
  readonly publicKey: { readonly pk: string };
  readonly tests: readonly WycheproofSignatureTest[];
}

const wycheproof = readWycheproof<WycheproofGroup>("ed25519_test.json");
const cases = wycheproof.testGroups.flatMap((group) =>
  group.tests.map((test) => ({
    pk: group.publicKey.pk,
    tcId: test.tcId,
    flagList: test.flags.join(",") || "none",
    comment: test.comment || "-",
    result: test.result,
    msg: Buffer.from(test.msg, "hex"),
    sig: Buffer.from(test.sig, "hex"),
    expected: test.result === "valid", // "acceptable" rejected, see above
  })),
);

interface Rfc8032Vector {
  readonly name: string;
  readonly publicKey: string;
  readonly message: string;
  readonly signature: string;
}
const rfc8032 = (
  JSON.parse(readFileSync(path.join(here, "../fixtures/crypto/ed25519-rfc8032.json"), "utf8")) as { vectors: Rfc8032Vector[] }
).vectors;

// L = 2^252 + 27742317777372353535851937790883648493, the order of B (RFC 8032 5.1)
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const P = (1n << 255n) - 19n;
function littleEndian(value: bigint, length = 32): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}
function fromLittleEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

let harness: EcHarness;
const keyHandles = new Map<string, number | string>();
function keyFor(pkHex: string): number | string {
  let handle = keyHandles.get(pkHex);
  if (handle === undefined) {
    handle = harness.edKey(Buffer.from(pkHex, "hex"));
    keyHandles.set(pkHex, handle);
  }
  return handle;
}

describe.each(EC_HARNESS_BUILDS)("ec harness build: $name", (build) => {
  beforeAll(async () => {
    harness = await EcHarness.load({ extraFlags: build.flags });
    keyHandles.clear();
  });

  describe("crypto: ed25519Verify wycheproof", () => {
    it.each(cases)("crypto: ed25519Verify wycheproof tcId $tcId ($flagList: $comment) $result", (c) => {
      const key = keyFor(c.pk);
      if (typeof key === "string") {
        expect(c.expected, `key rejected: ${key}`).toBe(false);
        return;
      }
      expect(harness.edVerify(key, c.msg, c.sig)).toBe(c.expected);
    });
  });

  describe("crypto: ed25519Verify RFC 8032 section 7.1", () => {
    it.each(rfc8032)("crypto: ed25519Verify RFC 8032 $name accepted", (v) => {
      const key = keyFor(v.publicKey);
      expect(typeof key).toBe("number");
      expect(harness.edVerify(key as number, Buffer.from(v.message, "hex"), Buffer.from(v.signature, "hex"))).toBe(true);
    });

    const mutations = rfc8032.flatMap((v) => {
      const sig = Buffer.from(v.signature, "hex");
      const s = fromLittleEndian(sig.subarray(32));
      const rY = fromLittleEndian(sig.subarray(0, 32)) & ((1n << 255n) - 1n);
      const rSign = sig[31]! & 0x80;
      const out = [
        { name: v.name, change: "message extended by one byte", publicKey: v.publicKey, message: v.message + "00", signature: sig },
        { name: v.name, change: "S + L (malleable, S >= L)", publicKey: v.publicKey, message: v.message, signature: Buffer.concat([sig.subarray(0, 32), littleEndian(s + L)]) },
        { name: v.name, change: "R sign bit flipped", publicKey: v.publicKey, message: v.message, signature: Buffer.concat([Buffer.from(sig.subarray(0, 31)), Buffer.from([sig[31]! ^ 0x80]), sig.subarray(32)]) },
        { name: v.name, change: "signature truncated to 63 bytes", publicKey: v.publicKey, message: v.message, signature: sig.subarray(0, 63) },
        { name: v.name, change: "signature with a trailing zero byte", publicKey: v.publicKey, message: v.message, signature: Buffer.concat([sig, Buffer.from([0])]) },
      ];
      // Non-canonical R: y + p still fits in 255 bits only for y < 19; emulate with y = p + (y mod p) when possible.
      if (rY + P < 1n << 255n) {
        const nonCanonical = littleEndian(rY + P);
        nonCanonical[31]! |= rSign;
        out.push({ name: v.name, change: "R encoded with y + p (non-canonical)", publicKey: v.publicKey, message: v.message, signature: Buffer.concat([nonCanonical, sig.subarray(32)]) });
      }
      return out;
    });
    it.each(mutations)("crypto: ed25519Verify RFC 8032 $name with $change rejected", (v) => {
      const key = keyFor(v.publicKey) as number;
      expect(harness.edVerify(key, Buffer.from(v.message, "hex"), v.signature)).toBe(false);
    });
  });

  describe("crypto: Ed25519PublicKey.fromBytes validation", () => {
    const good = Buffer.from(rfc8032[0]!.publicKey, "hex");
    // y = 2 has no x on the curve: (y^2 - 1)/(d y^2 + 1) is a non-square mod p (checked by the test itself below)
    const table = [
      { what: "31 bytes", bytes: good.subarray(1), error: "Ed25519 public key must be 32 bytes, got 31" },
      { what: "33 bytes", bytes: Buffer.concat([good, Buffer.from([0])]), error: "Ed25519 public key must be 32 bytes, got 33" },
      { what: "y = p (non-canonical encoding of 0)", bytes: littleEndian(P), error: "Ed25519 public key is not a canonical encoding of a curve point (RFC 8032 section 5.1.3)" },
      { what: "y = 2^255 - 1 (>= p)", bytes: littleEndian((1n << 255n) - 1n), error: "Ed25519 public key is not a canonical encoding of a curve point (RFC 8032 section 5.1.3)" },
      { what: "y = 1 with the sign bit set (x = 0 encoded as -0)", bytes: (() => { const b = littleEndian(1n); b[31]! |= 0x80; return b; })(), error: "Ed25519 public key is not a canonical encoding of a curve point (RFC 8032 section 5.1.3)" },
      { what: "y = 2 (no square root for x^2)", bytes: littleEndian(2n), error: "Ed25519 public key is not a canonical encoding of a curve point (RFC 8032 section 5.1.3)" },
    ];
    it.each(table)("crypto: Ed25519PublicKey.fromBytes rejects $what", (c) => {
      expect(harness.edKey(c.bytes)).toBe(c.error);
    });

    it("crypto: Ed25519PublicKey.fromBytes y = 2 really has no x (test premise)", () => {
      const d = (((-121665n * modInverse(121666n)) % P) + P) % P;
      const x2 = ((3n * modInverse((4n * d + 1n) % P)) % P + P) % P;
      expect(modPow(x2, (P - 1n) / 2n)).toBe(P - 1n); // Euler's criterion: non-residue
    });

    // Small-order keys are valid encodings that RFC 8032 does not forbid, but with A = O the
    // signature (R = encode(O), S = 0) verifies for every message. No honest key has small order, so
    // fromBytes refuses them (as libsodium does): fail closed.
    const smallOrder = [
      { what: "the identity (y = 1)", bytes: littleEndian(1n) },
      { what: "the point of order 2 (y = -1)", bytes: littleEndian(P - 1n) },
      { what: "a point of order 4 (y = 0, x = sqrt(-1))", bytes: littleEndian(0n) },
    ];
    it.each(smallOrder)("crypto: Ed25519PublicKey.fromBytes rejects $what as small order", (c) => {
      expect(harness.edKey(c.bytes)).toBe("Ed25519 public key is a point of small order (8A is the identity)");
    });
  });

  describe("crypto: ed25519Verify random input", () => {
    const bytes = (seed: string, length: number) => {
      const out: Buffer[] = [];
      for (let i = 0; out.length * 32 < length; i++) out.push(createHash("sha256").update(`${seed}/${i}`).digest());
      return Buffer.concat(out).subarray(0, length);
    };
    it("crypto: ed25519Verify random signatures and keys rejected without trapping", () => {
      const key = keyFor(rfc8032[0]!.publicKey) as number;
      let keysAccepted = 0;
      for (let i = 0; i < 200; i++) {
        const sigLength = i % 10 === 0 ? i % 67 : 64;
        expect(harness.edVerify(key, bytes(`m${i}`, i), bytes(`s${i}`, sigLength))).toBe(false);
        // About half of random y have a square root: those decode to valid keys, the rest are refused.
        const randomKey = harness.edKey(bytes(`k${i}`, 32));
        if (typeof randomKey === "number") {
          keysAccepted++;
          expect(harness.edVerify(randomKey, bytes(`m${i}`, 10), bytes(`t${i}`, 64))).toBe(false);
        }
      }
      expect(keysAccepted).toBeGreaterThan(50);
      expect(keysAccepted).toBeLessThan(150);
    });
  });

  describe("crypto: ed25519Verify agrees with node:crypto", () => {
    const rounds = Array.from({ length: 4 }, (_, i) => ({ round: i }));
    it.each(rounds)("crypto: ed25519Verify fresh key $round: signature by node:crypto accepted, tampered rejected", () => {
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const key = harness.edKey(Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url"));
      expect(typeof key).toBe("number");
      for (const length of [0, 1, 63, 64, 111, 112, 127, 128, 1000]) {
        const message = Buffer.alloc(length, 7 + length);
        const sig = sign(null, message, privateKey);
        expect(harness.edVerify(key as number, message, sig)).toBe(true);
        const tampered = Buffer.from(sig);
        tampered[length % 64]! ^= 0x01;
        expect(harness.edVerify(key as number, message, tampered)).toBe(false);
      }
    });
  });
});

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = ((base % P) + P) % P;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}
function modInverse(a: bigint): bigint {
  return modPow(a, P - 2n);
}

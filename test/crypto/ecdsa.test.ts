/**
 * ECDSA P-256 / P-384 (JWS ES256 / ES384) through the compiled AssemblyScript harness.
 *
 * Wycheproof (ecdsa_secp256r1_sha256_p1363_test.json, ecdsa_secp384r1_sha384_p1363_test.json):
 * every "valid" vector must verify and every "invalid" one must be rejected.
 * "acceptable" policy: these two files (v0.9rc5) contain no "acceptable" vector. Should a later
 * version add some, they are REJECTED (expected = result === "valid"): a JWT verifier fails
 * closed, and nothing legitimate in JWS needs a borderline ECDSA signature (RFC 7518 3.4 fixes
 * the r||s encoding, so encoding leniency never applies). The same rule is in the README.
 * Public keys that fail EcPublicKey.fromCoordinates must only carry "invalid" vectors.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { EC_HARNESS_BUILDS, EcHarness } from "../fixtures/crypto/ec-harness-loader.js";
import { readWycheproof, type WycheproofSignatureTest } from "../setup/wycheproof.js";

const here = path.dirname(fileURLToPath(import.meta.url));

type CurveName = "P-256" | "P-384";
const CURVE_ID: Readonly<Record<CurveName, 0 | 1>> = { "P-256": 0, "P-384": 1 };
const FIELD_BYTES: Readonly<Record<CurveName, number>> = { "P-256": 32, "P-384": 48 };
const HASH: Readonly<Record<CurveName, string>> = { "P-256": "sha256", "P-384": "sha384" };
const PRIME: Readonly<Record<CurveName, bigint>> = {
  "P-256": (1n << 256n) - (1n << 224n) + (1n << 192n) + (1n << 96n) - 1n,
  "P-384": (1n << 384n) - (1n << 128n) - (1n << 96n) + (1n << 32n) - 1n,
};
const ORDER: Readonly<Record<CurveName, bigint>> = {
  "P-256": 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  "P-384": 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

interface WycheproofGroup {
  readonly publicKey: { readonly wx: string; readonly wy: string };
  readonly tests: readonly WycheproofSignatureTest[];
}

/** Big-endian bytes of exactly `length` bytes (Wycheproof's wx/wy carry an ASN.1 sign byte). */
function fixedLength(hex: string, length: number): Uint8Array {
  const value = BigInt("0x" + (hex || "0"));
  return Buffer.from(value.toString(16).padStart(length * 2, "0"), "hex");
}
function bigToBytes(value: bigint, length: number): Uint8Array {
  return Buffer.from(value.toString(16).padStart(length * 2, "0"), "hex");
}

function wycheproofCases(curve: CurveName, file: string) {
  const data = readWycheproof<WycheproofGroup>(file);
  return data.testGroups.flatMap((group, groupIndex) =>
    group.tests.map((test) => ({
      curve,
      groupIndex,
      x: fixedLength(group.publicKey.wx, FIELD_BYTES[curve]),
      y: fixedLength(group.publicKey.wy, FIELD_BYTES[curve]),
      tcId: test.tcId,
      flagList: test.flags.join(",") || "none",
      result: test.result,
      msg: Buffer.from(test.msg, "hex"),
      sig: Buffer.from(test.sig, "hex"),
      // Decision documented above: "acceptable" is rejected.
      expected: test.result === "valid",
    })),
  );
}

const cases = [
  ...wycheproofCases("P-256", "ecdsa_secp256r1_sha256_p1363_test.json"),
  ...wycheproofCases("P-384", "ecdsa_secp384r1_sha384_p1363_test.json"),
];

interface Rfc6979Vector {
  readonly name: string;
  readonly curve: CurveName;
  readonly ux: string;
  readonly uy: string;
  readonly message: string;
  readonly r: string;
  readonly s: string;
}
const rfc6979 = (
  JSON.parse(readFileSync(path.join(here, "../fixtures/crypto/ecdsa-rfc6979.json"), "utf8")) as { vectors: Rfc6979Vector[] }
).vectors;

let harness: EcHarness;
const keyHandles = new Map<string, number | string>();

function keyFor(curve: CurveName, x: Uint8Array, y: Uint8Array): number | string {
  const id = `${curve}:${Buffer.from(x).toString("hex")}:${Buffer.from(y).toString("hex")}`;
  let handle = keyHandles.get(id);
  if (handle === undefined) {
    handle = harness.ecKey(CURVE_ID[curve], x, y);
    keyHandles.set(id, handle);
  }
  return handle;
}

describe.each(EC_HARNESS_BUILDS)("ec harness build: $name", (build) => {
  beforeAll(async () => {
    harness = await EcHarness.load({ extraFlags: build.flags });
    keyHandles.clear();
  });

  describe("crypto: ecdsaVerify wycheproof", () => {
    it.each(cases)("crypto: ecdsaVerify $curve wycheproof tcId $tcId ($flagList) $result", (c) => {
      const key = keyFor(c.curve, c.x, c.y);
      if (typeof key === "string") {
        // A rejected key can never verify anything: fine only if the vector was not valid.
        expect(c.expected, `key rejected: ${key}`).toBe(false);
        return;
      }
      expect(harness.ecVerify(key, c.msg, c.sig)).toBe(c.expected);
    });
  });

  describe("crypto: ecdsaVerify RFC 6979", () => {
    it.each(rfc6979)("crypto: ecdsaVerify $curve RFC 6979 $name accepted", (v) => {
      const key = keyFor(v.curve, Buffer.from(v.ux, "hex"), Buffer.from(v.uy, "hex"));
      expect(typeof key).toBe("number");
      expect(harness.ecVerify(key as number, Buffer.from(v.message), Buffer.from(v.r + v.s, "hex"))).toBe(true);
    });

    const mutations = rfc6979.flatMap((v) => [
      { ...v, change: "message with one more byte", message: v.message + "!", sig: v.r + v.s },
      { ...v, change: "r and s swapped", message: v.message, sig: v.s + v.r },
      { ...v, change: "last bit of s flipped", message: v.message, sig: v.r + v.s.slice(0, -1) + (parseInt(v.s.slice(-1), 16) ^ 1).toString(16) },
    ]);
    it.each(mutations)("crypto: ecdsaVerify $curve RFC 6979 $name with $change rejected", (v) => {
      const key = keyFor(v.curve, Buffer.from(v.ux, "hex"), Buffer.from(v.uy, "hex")) as number;
      expect(harness.ecVerify(key, Buffer.from(v.message), Buffer.from(v.sig, "hex"))).toBe(false);
    });

    it.each(rfc6979)("crypto: ecdsaVerify $curve RFC 6979 $name with s replaced by n - s accepted (ECDSA has no low-s rule)", (v) => {
      const key = keyFor(v.curve, Buffer.from(v.ux, "hex"), Buffer.from(v.uy, "hex")) as number;
      const negS = (ORDER[v.curve] - BigInt("0x" + v.s)).toString(16).padStart(v.s.length, "0");
      expect(harness.ecVerify(key, Buffer.from(v.message), Buffer.from(v.r + negS, "hex"))).toBe(true);
    });
  });

  describe("crypto: ecdsaVerify signature encoding", () => {
    const sample = rfc6979[0]!;
    const sampleSig = Buffer.from(sample.r + sample.s, "hex");
    const n = ORDER["P-256"];
    const table = [
      { what: "empty signature", sig: Buffer.alloc(0) },
      { what: "63-byte signature", sig: sampleSig.subarray(0, 63) },
      { what: "65-byte signature (trailing zero)", sig: Buffer.concat([sampleSig, Buffer.from([0])]) },
      { what: "65-byte signature (leading zero)", sig: Buffer.concat([Buffer.from([0]), sampleSig]) },
      { what: "DER-encoded signature", sig: Buffer.concat([Buffer.from("3046022100", "hex"), sampleSig.subarray(0, 32), Buffer.from("022100", "hex"), sampleSig.subarray(32)]) },
      { what: "r = 0", sig: Buffer.concat([Buffer.alloc(32), sampleSig.subarray(32)]) },
      { what: "s = 0", sig: Buffer.concat([sampleSig.subarray(0, 32), Buffer.alloc(32)]) },
      { what: "r = n", sig: Buffer.concat([bigToBytes(n, 32), sampleSig.subarray(32)]) },
      { what: "s = n", sig: Buffer.concat([sampleSig.subarray(0, 32), bigToBytes(n, 32)]) },
      { what: "s = s - n mod 2^256 (same residue mod n, out of range)", sig: Buffer.concat([sampleSig.subarray(0, 32), bigToBytes((BigInt("0x" + sample.s) - n) & ((1n << 256n) - 1n), 32)]) },
      { what: "all-ones r and s", sig: Buffer.alloc(64, 0xff) },
    ];
    it.each(table)("crypto: ecdsaVerify P-256 rejects $what", ({ sig }) => {
      const key = keyFor("P-256", Buffer.from(sample.ux, "hex"), Buffer.from(sample.uy, "hex")) as number;
      expect(harness.ecVerify(key, Buffer.from(sample.message), sig)).toBe(false);
    });
  });

  describe("crypto: EcPublicKey.fromCoordinates validation", () => {
    const p256 = rfc6979[0]!;
    const x = Buffer.from(p256.ux, "hex");
    const y = Buffer.from(p256.uy, "hex");
    const p = PRIME["P-256"];
    const table = [
      { what: "x of 31 bytes", curve: 0 as const, x: x.subarray(1), y, error: "P-256 public key coordinates must be 32 bytes each, got x 31 and y 32" },
      { what: "y of 33 bytes", curve: 0 as const, x, y: Buffer.concat([Buffer.from([0]), y]), error: "P-256 public key coordinates must be 32 bytes each, got x 32 and y 33" },
      { what: "P-256 coordinates given for P-384", curve: 1 as const, x, y, error: "P-384 public key coordinates must be 48 bytes each, got x 32 and y 32" },
      { what: "x = p", curve: 0 as const, x: bigToBytes(p, 32), y, error: "P-256 public key x is not below the field prime p (non-canonical or invalid coordinate)" },
      { what: "y = p + 1 (not reduced)", curve: 0 as const, x, y: bigToBytes(p + 1n, 32), error: "P-256 public key y is not below the field prime p (non-canonical or invalid coordinate)" },
      { what: "an unknown curve id", curve: 2 as const, x, y, error: "unsupported curve 2, expected P-256 (0) or P-384 (1)" },
      { what: "point off the curve (y + 1)", curve: 0 as const, x, y: bigToBytes(BigInt("0x" + p256.uy) + 1n, 32), error: "P-256 public key point is not on the curve" },
      { what: "(0, 0)", curve: 0 as const, x: Buffer.alloc(32), y: Buffer.alloc(32), error: "P-256 public key point is not on the curve" },
    ];
    it.each(table)("crypto: EcPublicKey.fromCoordinates rejects $what", (c) => {
      expect(harness.ecKey(c.curve, c.x, c.y)).toBe(c.error);
    });

    it("crypto: EcPublicKey.fromCoordinates accepts a key with y = p - y (the negated point)", () => {
      const negY = bigToBytes(p - BigInt("0x" + p256.uy), 32);
      expect(typeof harness.ecKey(0, x, negY)).toBe("number");
    });
  });

  describe("crypto: ecdsaVerify random input", () => {
    // Deterministic pseudo-random bytes (SHA-256 in counter mode), so a failure is reproducible.
    const bytes = (seed: string, length: number) => {
      const out: Buffer[] = [];
      for (let i = 0; out.length * 32 < length; i++) out.push(createHash("sha256").update(`${seed}/${i}`).digest());
      return Buffer.concat(out).subarray(0, length);
    };
    it.each(["P-256", "P-384"] as const)("crypto: ecdsaVerify %s random signatures and keys rejected without trapping", (curve) => {
      const len = FIELD_BYTES[curve];
      const sample = rfc6979.find((v) => v.curve === curve)!;
      const key = keyFor(curve, Buffer.from(sample.ux, "hex"), Buffer.from(sample.uy, "hex")) as number;
      for (let i = 0; i < 100; i++) {
        const sigLength = i % 10 === 0 ? i % (2 * len + 3) : 2 * len;
        expect(harness.ecVerify(key, bytes(`m${i}`, i), bytes(`s${curve}${i}`, sigLength))).toBe(false);
        expect(typeof harness.ecKey(CURVE_ID[curve], bytes(`x${i}`, len), bytes(`y${i}`, len))).toBe("string");
      }
    });
  });

  describe("crypto: ecdsaVerifyDigest", () => {
    // SEC 1 4.1.4 step 5: e is the leftmost bitlen(n) bits of the digest. node:crypto signing
    // P-256 with SHA-512 / P-384 with SHA-512 applies the same truncation.
    const table = [
      { curve: "P-256" as CurveName, hash: "sha256", expected: true, what: "its own SHA-256 digest accepted" },
      { curve: "P-256" as CurveName, hash: "sha512", expected: true, what: "a SHA-512 digest accepted (leftmost 256 bits)" },
      { curve: "P-384" as CurveName, hash: "sha512", expected: true, what: "a SHA-512 digest accepted (leftmost 384 bits)" },
      { curve: "P-384" as CurveName, hash: "sha256", expected: false, what: "a SHA-256 digest (shorter than n) refused" },
    ];
    it.each(table)("crypto: ecdsaVerifyDigest $curve with $what", ({ curve, hash, expected }) => {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
      const jwk = publicKey.export({ format: "jwk" });
      const key = harness.ecKey(CURVE_ID[curve], Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")) as number;
      const message = Buffer.from("digest path");
      const sig = sign(hash, message, { key: privateKey, dsaEncoding: "ieee-p1363" });
      const digest = createHash(hash).update(message).digest();
      expect(harness.ecVerifyDigest(key, digest, sig)).toBe(expected);
      if (expected) {
        digest[digest.length > FIELD_BYTES[curve] ? 0 : digest.length - 1]! ^= 1;
        expect(harness.ecVerifyDigest(key, digest, sig)).toBe(false);
      }
    });
  });

  describe("crypto: ecdsaVerify agrees with node:crypto", () => {
    const rounds = Array.from({ length: 6 }, (_, i) => ({ curve: (i % 2 === 0 ? "P-256" : "P-384") as CurveName, round: i }));
    it.each(rounds)("crypto: ecdsaVerify $curve fresh key $round: signature by node:crypto accepted, tampered rejected", ({ curve }) => {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
      const jwk = publicKey.export({ format: "jwk" });
      const key = harness.ecKey(CURVE_ID[curve], Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url"));
      expect(typeof key).toBe("number");
      for (const length of [0, 1, 55, 56, 64, 111, 112, 128, 1000]) {
        const message = Buffer.alloc(length, length & 0xff);
        const sig = sign(HASH[curve], message, { key: privateKey, dsaEncoding: "ieee-p1363" });
        expect(harness.ecVerify(key as number, message, sig)).toBe(true);
        const tampered = Buffer.from(sig);
        tampered[length % tampered.length]! ^= 0x40;
        expect(harness.ecVerify(key as number, message, tampered)).toBe(false);
      }
    });
  });
});

/**
 * RSA key validation, the modular exponentiation against BigInt, and round trips with node:crypto
 * signatures (every JWS RSA algorithm, several key sizes, e = 3 and 65537), on both builds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { constants, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HashAlg, loadCryptoHarness, type CryptoHarness } from "../fixtures/crypto/rsa-harness-loader.js";
import { modPow, toBigInt, toBytes } from "./bigint-reference.js";

const here = path.dirname(fileURLToPath(import.meta.url));

interface KeyCase {
  readonly name: string;
  readonly modulus: { readonly bits: number; readonly odd: boolean; readonly leadingZeroBytes?: number };
  readonly exponent: string;
  readonly bits?: number;
  readonly error?: string;
}
const keyCases = (JSON.parse(readFileSync(path.join(here, "../fixtures/crypto/rsa-key-cases.json"), "utf8")) as { cases: KeyCase[] }).cases;

function syntheticModulus(spec: KeyCase["modulus"]): Buffer {
  const length = Math.ceil(spec.bits / 8);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 37 + 11) & 0xff;
  if (length > 0) {
    const topBits = spec.bits - 8 * (length - 1);
    bytes[0] = (bytes[0] & ((1 << topBits) - 1)) | (1 << (topBits - 1));
    bytes[length - 1] = spec.odd ? bytes[length - 1] | 1 : bytes[length - 1] & 0xfe;
  }
  return Buffer.concat([Buffer.alloc(spec.leadingZeroBytes ?? 0), bytes]);
}


/** Moduli with extreme limb patterns (all ones, sparse) besides real keys: carries and lazy-reduction bounds. */
const MODULI: readonly { readonly name: string; readonly value: bigint }[] = [
  { name: "2^2048 - 1", value: (1n << 2048n) - 1n },
  { name: "2^2047 + 1", value: (1n << 2047n) + 1n },
  { name: "2^4096 - 1", value: (1n << 4096n) - 1n },
  { name: "2^4095 + 2^2000 + 1", value: (1n << 4095n) + (1n << 2000n) + 1n },
  { name: "2^3071 + 2^28·k pattern", value: (1n << 3071n) + ((1n << 3000n) / 3n) * 2n + 1n },
];
const EXPONENTS: readonly bigint[] = [3n, 5n, 17n, 65537n, 0x7fffffffn, 0xffffffffn];

function signatureValues(n: bigint): readonly { readonly name: string; readonly value: bigint }[] {
  return [
    { name: "0", value: 0n },
    { name: "1", value: 1n },
    { name: "2", value: 2n },
    { name: "n - 1", value: n - 1n },
    { name: "n - 2", value: n - 2n },
    { name: "n / 3", value: n / 3n },
    { name: "all 28-bit limbs set below n", value: ((1n << BigInt(n.toString(2).length - 1)) - 1n) },
  ];
}

const modexpCases = MODULI.flatMap((m) =>
  EXPONENTS.flatMap((e) => signatureValues(m.value).map((s) => ({ modulus: m.name, n: m.value, e, s: s.name, value: s.value })))
);

interface SignedCase {
  readonly name: string;
  readonly bits: number;
  readonly exponent: number;
  readonly hash: "sha256" | "sha384" | "sha512";
  readonly alg: HashAlg;
  readonly pss: boolean;
}
const SIGNED: readonly SignedCase[] = [
  { name: "RS256", bits: 2048, exponent: 65537, hash: "sha256", alg: HashAlg.SHA256, pss: false },
  { name: "RS384", bits: 3072, exponent: 65537, hash: "sha384", alg: HashAlg.SHA384, pss: false },
  { name: "RS512", bits: 4096, exponent: 65537, hash: "sha512", alg: HashAlg.SHA512, pss: false },
  { name: "RS256 e=3", bits: 2048, exponent: 3, hash: "sha256", alg: HashAlg.SHA256, pss: false },
  { name: "RS256 2049-bit", bits: 2049, exponent: 65537, hash: "sha256", alg: HashAlg.SHA256, pss: false },
  { name: "PS256", bits: 2048, exponent: 65537, hash: "sha256", alg: HashAlg.SHA256, pss: true },
  { name: "PS384", bits: 3072, exponent: 65537, hash: "sha384", alg: HashAlg.SHA384, pss: true },
  { name: "PS512", bits: 4096, exponent: 65537, hash: "sha512", alg: HashAlg.SHA512, pss: true },
  // modBits ≡ 1 (mod 8): EM is one byte shorter than the modulus (RFC 8017 9.1.2 step 2c/3).
  { name: "PS256 2049-bit", bits: 2049, exponent: 65537, hash: "sha256", alg: HashAlg.SHA256, pss: true },
  { name: "PS512 e=3", bits: 2048, exponent: 3, hash: "sha512", alg: HashAlg.SHA512, pss: true },
];
const HASH_LENGTH = { sha256: 32, sha384: 48, sha512: 64 } as const;

interface SignedFixture {
  readonly c: SignedCase;
  readonly modulus: Buffer;
  readonly exponent: Buffer;
  readonly message: Buffer;
  readonly signature: Buffer;
}
const TAMPERINGS = ["valid", "message changed", "signature bit flipped", "signature truncated", "signature + 1 byte", "other hash", "other padding scheme"] as const;

describe.each([{ simd: false }, { simd: true }])("crypto: rsa arithmetic (simd build: $simd)", ({ simd }) => {
  let harness: CryptoHarness;
  const signed = new Map<string, SignedFixture>();
  beforeAll(async () => {
    harness = await loadCryptoHarness({ simd });
    const keys = new Map<string, { publicKey: KeyObject; privateKey: KeyObject }>();
    for (const c of SIGNED) {
      const keyId = `${c.bits}/${c.exponent}`;
      let pair = keys.get(keyId);
      if (!pair) {
        pair = generateKeyPairSync("rsa", { modulusLength: c.bits, publicExponent: c.exponent });
        keys.set(keyId, pair);
      }
      const jwk = pair.publicKey.export({ format: "jwk" });
      const message = Buffer.from(`eyJhbGciOiJ${c.name}IiwidHlwIjoiSldUIn0.eyJzdWIiOiJ0ZXN0In0`);
      const signature = sign(c.hash, message, c.pss
        ? { key: pair.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[c.hash] }
        : pair.privateKey);
      signed.set(c.name, {
        c, message, signature,
        modulus: Buffer.from(jwk.n ?? "", "base64url"),
        exponent: Buffer.from(jwk.e ?? "", "base64url"),
      });
    }
  }, 120_000);

  it.each(keyCases)("crypto: RsaPublicKey.fromComponents $name", ({ modulus, exponent, bits, error }) => {
    const result = harness.rsaKey(syntheticModulus(modulus), Buffer.from(exponent, "hex"));
    if (error !== undefined) {
      expect(result).toEqual({ ok: false, error });
    } else {
      expect(result).toMatchObject({ ok: true, bits });
    }
  });

  it.each(modexpCases)("crypto: rsa publicOperation s = $s, e = $e, n = $modulus matches BigInt", ({ n, e, value }) => {
    const k = Math.ceil(n.toString(2).length / 8);
    const key = harness.rsaKey(toBytes(n, k), toBytes(e, 4));
    if (!key.ok) throw new Error(key.error);
    const result = harness.rsaPublic(key.handle, toBytes(value, k));
    expect(result && Buffer.from(result).toString("hex")).toBe(toBytes(modPow(value, e, n), k).toString("hex"));
  });

  const rejectionModulus = (1n << 2047n) + (1n << 1000n) + 1n;
  it.each([
    { name: "s = n", signature: toBytes(rejectionModulus, 256) },
    { name: "s = n + 1", signature: toBytes(rejectionModulus + 1n, 256) },
    { name: "s = 2^2048 - 1", signature: toBytes((1n << 2048n) - 1n, 256) },
    { name: "signature one byte short", signature: toBytes(5n, 255) },
    { name: "signature one byte long (leading zero)", signature: toBytes(5n, 257) },
    { name: "empty signature", signature: Buffer.alloc(0) },
  ])("crypto: rsa publicOperation rejects $name", ({ signature }) => {
    const key = harness.rsaKey(toBytes(rejectionModulus, 256), Buffer.from("010001", "hex"));
    if (!key.ok) throw new Error(key.error);
    expect(harness.rsaPublic(key.handle, signature)).toBeNull();
  });

  const signedCases = SIGNED.flatMap((c) => TAMPERINGS.map((tampering) => ({ name: c.name, tampering })));
  it.each(signedCases)("crypto: rsa verify node:crypto-signed $name, $tampering", ({ name, tampering }) => {
    const fixture = signed.get(name);
    if (!fixture) throw new Error(`no fixture ${name}`);
    const { c } = fixture;
    const key = harness.rsaKey(fixture.modulus, fixture.exponent);
    if (!key.ok) throw new Error(key.error);
    let message = fixture.message;
    let signature = fixture.signature;
    let alg = c.alg;
    let pss = c.pss;
    if (tampering === "message changed") message = Buffer.concat([message, Buffer.from("x")]);
    if (tampering === "signature bit flipped") {
      signature = Buffer.from(signature);
      signature[signature.length - 1] ^= 1;
    }
    if (tampering === "signature truncated") signature = signature.subarray(0, signature.length - 1);
    if (tampering === "signature + 1 byte") signature = Buffer.concat([signature, Buffer.alloc(1)]);
    if (tampering === "other hash") alg = c.alg === HashAlg.SHA256 ? HashAlg.SHA512 : HashAlg.SHA256;
    if (tampering === "other padding scheme") pss = !pss;
    const accepted = pss
      ? harness.rsaPssVerify(key.handle, alg, message, signature, alg === c.alg ? HASH_LENGTH[c.hash] : 32)
      : harness.rsaPkcs1v15Verify(key.handle, alg, message, signature);
    expect(accepted).toBe(tampering === "valid");
  });

  it.each([
    { saltLength: 0 }, { saltLength: 31 }, { saltLength: 33 }, { saltLength: -1 }, { saltLength: 1_000_000 },
  ])("crypto: rsaPssVerify rejects a PS256 signature checked with salt length $saltLength", ({ saltLength }) => {
    const fixture = signed.get("PS256");
    if (!fixture) throw new Error("no PS256 fixture");
    const key = harness.rsaKey(fixture.modulus, fixture.exponent);
    if (!key.ok) throw new Error(key.error);
    expect(harness.rsaPssVerify(key.handle, HashAlg.SHA256, fixture.message, fixture.signature, saltLength)).toBe(false);
  });

  it("crypto: harness module imports nothing (no env.abort, env.seed, env.trace)", () => {
    expect(harness.imports).toEqual([]);
  });
});

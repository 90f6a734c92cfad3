/**
 * RSASSA-PKCS1-v1_5 verification through RsaPublicKey.pkcs1v15Matches (filters/lib/crypto/
 * rsa-pkcs1-expectation.ts): the comparison y = s^e·c ≡ EM·c (mod N) with per-key, per-hash
 * constants built on first use. One key verifies several hashes in turn (constants reused, never
 * mixed up), and the verdict must equal the plain definition: s < n and s^e mod n == EM, checked
 * with BigInt. Both builds (scalar and --enable simd).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HashAlg, loadCryptoHarness, type CryptoHarness } from "../fixtures/crypto/rsa-harness-loader.js";
import { modPow, toBigInt, toBytes } from "./bigint-reference.js";

type HashName = "sha256" | "sha384" | "sha512";
interface ReuseCase { readonly name: string; readonly bits: number; readonly exponent: number; readonly hashes: readonly HashName[] }
const here = path.dirname(fileURLToPath(import.meta.url));
const cases = (JSON.parse(readFileSync(path.join(here, "fixtures/rsa-pkcs1-key-reuse.json"), "utf8")) as { cases: ReuseCase[] }).cases;

const ALG: Record<HashName, HashAlg> = { sha256: HashAlg.SHA256, sha384: HashAlg.SHA384, sha512: HashAlg.SHA512 };
// RFC 8017 section 9.2 note 1: DER DigestInfo prefixes.
const DIGEST_INFO: Record<HashName, string> = {
  sha256: "3031300d060960864801650304020105000420",
  sha384: "3041300d060960864801650304020205000430",
  sha512: "3051300d060960864801650304020305000440",
};

/** EMSA-PKCS1-v1_5-ENCODE (RFC 8017 section 9.2) as an integer. */
function encode(hash: HashName, message: Buffer, k: number): bigint {
  const t = Buffer.concat([Buffer.from(DIGEST_INFO[hash], "hex"), createHash(hash).update(message).digest()]);
  return toBigInt(Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t]));
}

interface KeyFixture { readonly c: ReuseCase; readonly privateKey: KeyObject; readonly n: bigint; readonly e: bigint; readonly k: number; readonly modulus: Buffer; readonly exponent: Buffer }

describe.each([{ simd: false }, { simd: true }])("crypto: rsa pkcs1 v1.5 constants per key and hash (simd build: $simd)", ({ simd }) => {
  let harness: CryptoHarness;
  const keys = new Map<string, KeyFixture>();
  beforeAll(async () => {
    harness = await loadCryptoHarness({ simd });
    for (const c of cases) {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: c.bits, publicExponent: c.exponent });
      const jwk = publicKey.export({ format: "jwk" });
      const modulus = Buffer.from(jwk.n ?? "", "base64url");
      const exponent = Buffer.from(jwk.e ?? "", "base64url");
      keys.set(c.name, { c, privateKey, n: toBigInt(modulus), e: toBigInt(exponent), k: modulus.length, modulus, exponent });
    }
  }, 120_000);

  it.each(cases)("crypto: rsaPkcs1v15Verify with one $name key over hashes in turn", ({ name }) => {
    const fixture = keys.get(name);
    if (!fixture) throw new Error(`no key ${name}`);
    const key = harness.rsaKey(fixture.modulus, fixture.exponent);
    if (!key.ok) throw new Error(key.error);
    fixture.c.hashes.forEach((hash, step) => {
      const message = Buffer.from(`step ${step} ${hash}`);
      const signature = sign(hash, message, fixture.privateKey);
      const other: HashName = hash === "sha256" ? "sha384" : "sha256";
      expect({ step, hash, valid: harness.rsaPkcs1v15Verify(key.handle, ALG[hash], message, signature) }).toEqual({ step, hash, valid: true });
      expect(harness.rsaPkcs1v15Verify(key.handle, ALG[other], message, signature)).toBe(false);
      expect(harness.rsaPkcs1v15Verify(key.handle, ALG[hash], Buffer.concat([message, Buffer.from("!")]), signature)).toBe(false);
    });
  });

  // Signatures that are not node-made: the verdict must still be "s < n and s^e mod n == EM".
  it.each(cases)("crypto: rsaPkcs1v15Verify on edge values of s agrees with BigInt ($name)", ({ name }) => {
    const fixture = keys.get(name);
    if (!fixture) throw new Error(`no key ${name}`);
    const key = harness.rsaKey(fixture.modulus, fixture.exponent);
    if (!key.ok) throw new Error(key.error);
    const { n, e, k } = fixture;
    const message = Buffer.from("edge values");
    const hash = fixture.c.hashes[0]!;
    const expected = encode(hash, message, k);
    for (const s of [0n, 1n, 2n, n - 1n, n, n + 1n, (1n << BigInt(8 * k)) - 1n, expected]) {
      const verdict = harness.rsaPkcs1v15Verify(key.handle, ALG[hash], message, toBytes(s, k));
      const definition = s < n && modPow(s, e, n) === expected;
      expect({ s: s.toString(16).slice(0, 12), verdict }).toEqual({ s: s.toString(16).slice(0, 12), verdict: definition });
    }
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HashAlg, loadCryptoHarness, type CryptoHarness } from "../fixtures/crypto/rsa-harness-loader.js";

const here = path.dirname(fileURLToPath(import.meta.url));

interface Sha2Vector {
  readonly name: string;
  readonly ascii?: string;
  readonly repeat?: string;
  readonly count?: number;
  readonly sha256: string;
  readonly sha384: string;
  readonly sha512: string;
}

const fixture = JSON.parse(readFileSync(path.join(here, "../fixtures/crypto/sha2-vectors.json"), "utf8")) as { vectors: Sha2Vector[] };
const ALGORITHMS = [
  { name: "sha256", alg: HashAlg.SHA256 },
  { name: "sha384", alg: HashAlg.SHA384 },
  { name: "sha512", alg: HashAlg.SHA512 },
] as const;

function vectorInput(v: Sha2Vector): Buffer {
  if (v.ascii !== undefined) return Buffer.from(v.ascii, "ascii");
  if (v.repeat !== undefined && v.count !== undefined) return Buffer.alloc(v.count, v.repeat);
  throw new Error(`vector "${v.name}" has neither ascii nor repeat/count`);
}

const nistCases = fixture.vectors.flatMap((v) => ALGORITHMS.map((a) => ({ ...a, vector: v })));
// Lengths around the padding boundaries: 55/56 (SHA-256 length field fits / spills), 111/112 (SHA-512), block multiples.
const boundaryLengths = [1, 55, 56, 57, 63, 64, 65, 111, 112, 113, 127, 128, 129, 1000];
const boundaryCases = boundaryLengths.flatMap((length) => ALGORITHMS.map((a) => ({ ...a, length })));

describe.each([{ simd: false }, { simd: true }])("crypto: sha2 (simd build: $simd)", ({ simd }) => {
  let harness: CryptoHarness;
  beforeAll(async () => {
    harness = await loadCryptoHarness({ simd });
  }, 60_000);

  it.each(nistCases)("crypto: digest $name NIST vector $vector.name", ({ name, alg, vector }) => {
    const expected = vector[name];
    expect(Buffer.from(harness.digest(alg, vectorInput(vector))).toString("hex")).toBe(expected);
  });

  it.each(boundaryCases)("crypto: digest $name of $length bytes matches node:crypto", ({ name, alg, length }) => {
    const data = Buffer.alloc(length);
    for (let i = 0; i < length; i++) data[i] = (i * 131 + 7) & 0xff;
    expect(Buffer.from(harness.digest(alg, data)).toString("hex")).toBe(createHash(name).update(data).digest("hex"));
  });

  it.each(ALGORITHMS)("crypto: digest $name of 1 MB random input matches node:crypto", ({ name, alg }) => {
    const data = randomBytes(1 << 20);
    expect(Buffer.from(harness.digest(alg, data)).toString("hex")).toBe(createHash(name).update(data).digest("hex"));
  });
});

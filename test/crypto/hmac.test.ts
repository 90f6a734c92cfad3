/**
 * HMAC-SHA-2 and the constant-time compare.
 *
 * Wycheproof hmac_sha256_test.json: groups with tagSize 256 are checked as given (valid accepted,
 * invalid rejected). Groups with tagSize 128 carry *truncated* tags. JWS HS256 (RFC 7518 section
 * 3.2) always uses the full 32-byte tag, so hmacVerify treats a truncated tag as "must equal the
 * full HMAC": every such tag is rejected, including the ones Wycheproof marks valid. For those
 * valid truncated vectors we additionally check that the tag is the prefix of hmac(), so the MAC
 * computation itself is still verified.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HashAlg, loadCryptoHarness, type CryptoHarness } from "../fixtures/crypto/rsa-harness-loader.js";
import { readWycheproof } from "../setup/wycheproof.js";

const here = path.dirname(fileURLToPath(import.meta.url));

interface MacTest {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly key: string;
  readonly msg: string;
  readonly tag: string;
  readonly result: "valid" | "invalid" | "acceptable";
}
interface MacGroup {
  readonly keySize: number;
  readonly tagSize: number;
  readonly tests: readonly MacTest[];
}

const wycheproof = readWycheproof<MacGroup>("hmac_sha256_test.json");
const wycheproofCases = wycheproof.testGroups.flatMap((group) =>
  group.tests.map((test) => ({
    ...test,
    tagSize: group.tagSize,
    flagList: test.flags.join(",") || "none",
    // Decision documented above: only full-length valid tags verify.
    expected: test.result === "valid" && group.tagSize === 256,
  })),
);

interface Rfc4231Vector {
  readonly name: string;
  readonly key: string;
  readonly data: string;
  readonly truncateBytes?: number;
  readonly sha256: string;
  readonly sha384: string;
  readonly sha512: string;
}
const rfc4231 = JSON.parse(readFileSync(path.join(here, "../fixtures/crypto/hmac-rfc4231.json"), "utf8")) as { vectors: Rfc4231Vector[] };
const rfcCases = rfc4231.vectors.flatMap((vector) =>
  ([
    { name: "sha256", alg: HashAlg.SHA256 },
    { name: "sha384", alg: HashAlg.SHA384 },
    { name: "sha512", alg: HashAlg.SHA512 },
  ] as const).map((a) => ({ ...a, vector })),
);

const hex = (s: string): Buffer => Buffer.from(s, "hex");

const constantTimeCases = [
  { name: "equal", a: "00112233", b: "00112233", equal: true },
  { name: "both empty", a: "", b: "", equal: true },
  { name: "first byte differs", a: "00112233", b: "01112233", equal: false },
  { name: "last byte differs", a: "00112233", b: "00112232", equal: false },
  { name: "single bit differs", a: "ff", b: "7f", equal: false },
  { name: "shorter prefix", a: "001122", b: "00112233", equal: false },
  { name: "longer", a: "0011223344", b: "00112233", equal: false },
];

describe.each([{ simd: false }, { simd: true }])("crypto: hmac (simd build: $simd)", ({ simd }) => {
  let harness: CryptoHarness;
  beforeAll(async () => {
    harness = await loadCryptoHarness({ simd });
  }, 60_000);

  it.each(rfcCases)("crypto: hmac $name RFC 4231 $vector.name", ({ name, alg, vector }) => {
    const tag = Buffer.from(harness.hmac(alg, hex(vector.key), hex(vector.data)));
    const expected = vector[name];
    expect(tag.subarray(0, vector.truncateBytes ?? tag.length).toString("hex")).toBe(expected);
    // A truncated tag (test case 5) never verifies: JWS compares the full tag.
    expect(harness.hmacVerify(alg, hex(vector.key), hex(vector.data), hex(expected))).toBe(vector.truncateBytes === undefined);
  });

  it.each(wycheproofCases)(
    "crypto: hmacVerify wycheproof tcId $tcId (tag $tagSize bits, $flagList) $result",
    ({ key, msg, tag, tagSize, result, expected }) => {
      expect(harness.hmacVerify(HashAlg.SHA256, hex(key), hex(msg), hex(tag))).toBe(expected);
      if (result === "valid" && tagSize !== 256) {
        const full = Buffer.from(harness.hmac(HashAlg.SHA256, hex(key), hex(msg)));
        expect(full.subarray(0, tag.length / 2).toString("hex")).toBe(tag);
      }
    },
  );

  it.each(constantTimeCases)("crypto: constantTimeEqual $name", ({ a, b, equal }) => {
    expect(harness.constantTimeEqual(hex(a), hex(b))).toBe(equal);
  });
});

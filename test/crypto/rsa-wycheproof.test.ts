/**
 * Wycheproof RSA vectors through the compiled AssemblyScript library (scalar and SIMD builds).
 *
 * Decisions for "acceptable" vectors:
 * - MissingNull (PKCS#1 v1.5 DigestInfo whose AlgorithmIdentifier omits the NULL parameters):
 *   REJECTED. RFC 8017 section 9.2 verifies by re-encoding and comparing, and note 1 there gives
 *   the NULL form; every JOSE signer emits it. Accepting the legacy form would need a second
 *   encoding for no interoperability gain in JWS (Go's crypto/rsa and BoringSSL reject it too).
 * These files contain no other "acceptable" flag; any new one fails the test until decided.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { HashAlg, loadCryptoHarness, type CryptoHarness } from "../fixtures/crypto/rsa-harness-loader.js";
import { readWycheproof, type WycheproofSignatureTest } from "../setup/wycheproof.js";


const ACCEPTABLE_DECISIONS: Readonly<Record<string, boolean>> = { MissingNull: false };

interface SignatureGroup {
  readonly publicKey: { readonly modulus: string; readonly publicExponent: string };
  readonly sha: string;
  readonly sLen?: number;
  readonly mgfSha?: string;
  readonly tests: readonly WycheproofSignatureTest[];
}

interface Suite {
  readonly file: string;
  readonly scheme: "rsaPkcs1v15Verify" | "rsaPssVerify";
  readonly alg: HashAlg;
}
const SUITES: readonly Suite[] = [
  { file: "rsa_signature_2048_sha256_test.json", scheme: "rsaPkcs1v15Verify", alg: HashAlg.SHA256 },
  { file: "rsa_signature_2048_sha384_test.json", scheme: "rsaPkcs1v15Verify", alg: HashAlg.SHA384 },
  { file: "rsa_signature_4096_sha512_test.json", scheme: "rsaPkcs1v15Verify", alg: HashAlg.SHA512 },
  { file: "rsa_pss_2048_sha256_mgf1_32_test.json", scheme: "rsaPssVerify", alg: HashAlg.SHA256 },
];

function expectedOutcome(test: WycheproofSignatureTest): boolean {
  if (test.result === "valid") return true;
  if (test.result === "invalid") return false;
  const decided = test.flags.filter((flag) => flag in ACCEPTABLE_DECISIONS);
  if (decided.length === 0) throw new Error(`tcId ${test.tcId}: no decision for acceptable flags ${test.flags.join(",")}`);
  return decided.every((flag) => ACCEPTABLE_DECISIONS[flag]);
}

const cases = SUITES.flatMap((suite) => {
  const data = readWycheproof<SignatureGroup>(suite.file);
  return data.testGroups.flatMap((group, groupIndex) =>
    group.tests.map((test) => ({
      ...suite,
      group: groupIndex,
      modulus: group.publicKey.modulus,
      exponent: group.publicKey.publicExponent,
      saltLength: group.sLen ?? 0,
      tcId: test.tcId,
      flagList: test.flags.join(",") || "no flags",
      result: test.result,
      msg: test.msg,
      sig: test.sig,
      expected: expectedOutcome(test),
    })),
  );
});

describe.each([{ simd: false }, { simd: true }])("crypto: rsa wycheproof (simd build: $simd)", ({ simd }) => {
  let harness: CryptoHarness;
  const keys = new Map<string, number>();
  const keyHandle = (modulus: string, exponent: string): number => {
    const id = `${modulus}/${exponent}`;
    const cached = keys.get(id);
    if (cached !== undefined) return cached;
    const created = harness.rsaKey(Buffer.from(modulus, "hex"), Buffer.from(exponent, "hex"));
    if (!created.ok) throw new Error(created.error);
    keys.set(id, created.handle);
    return created.handle;
  };
  beforeAll(async () => {
    harness = await loadCryptoHarness({ simd });
  }, 60_000);

  it.each(cases)(
    "crypto: $scheme wycheproof $file tcId $tcId ($flagList) $result",
    ({ scheme, alg, modulus, exponent, saltLength, msg, sig, expected }) => {
      const handle = keyHandle(modulus, exponent);
      const message = Buffer.from(msg, "hex");
      const signature = Buffer.from(sig, "hex");
      const accepted = scheme === "rsaPssVerify"
        ? harness.rsaPssVerify(handle, alg, message, signature, saltLength)
        : harness.rsaPkcs1v15Verify(handle, alg, message, signature);
      expect(accepted).toBe(expected);
    },
  );
});

/**
 * RSA verify speed: the AssemblyScript library (filters/lib/crypto, compiled with the filter flags,
 * with and without `--enable simd`) against node:crypto (OpenSSL) on the same key, message and
 * signature. Run: npx tsx bench/crypto-rsa.ts [--quick]. Prints a table, writes bench/crypto-rsa.json.
 */
import { constants, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HashAlg, loadCryptoHarness, type CryptoHarness } from "../test/fixtures/crypto/rsa-harness-loader.js";

interface BenchCase {
  readonly name: string;
  readonly bits: number;
  readonly exponent: number;
  readonly hash: "sha256" | "sha384" | "sha512";
  readonly alg: HashAlg;
  readonly pss: boolean;
}

const CASES: readonly BenchCase[] = [
  { name: "RS256", bits: 2048, exponent: 65537, hash: "sha256", alg: HashAlg.SHA256, pss: false },
  { name: "RS384", bits: 2048, exponent: 65537, hash: "sha384", alg: HashAlg.SHA384, pss: false },
  { name: "RS512", bits: 4096, exponent: 65537, hash: "sha512", alg: HashAlg.SHA512, pss: false },
  { name: "PS256", bits: 2048, exponent: 65537, hash: "sha256", alg: HashAlg.SHA256, pss: true },
  { name: "RS256 (e=3)", bits: 2048, exponent: 3, hash: "sha256", alg: HashAlg.SHA256, pss: false },
];

const quick = process.argv.includes("--quick");
const TARGET_MS = quick ? 150 : 600;
const ROUNDS = quick ? 3 : 7;

/** Median over ROUNDS of the µs per call, each round sized to run about TARGET_MS. */
function measure(run: (iterations: number) => void): number {
  let iterations = 8;
  for (;;) {
    const start = process.hrtime.bigint();
    run(iterations);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (ms > 40) {
      iterations = Math.max(1, Math.round((iterations * TARGET_MS) / ms));
      break;
    }
    iterations *= 2;
  }
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    run(iterations);
    samples.push(Number(process.hrtime.bigint() - start) / 1e3 / iterations);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

interface Row {
  readonly case: string;
  readonly keyBits: number;
  readonly nodeMicros: number;
  readonly wasmMicros: number;
  readonly wasmSimdMicros: number;
  readonly ratio: number;
  readonly ratioSimd: number;
}

function benchCase(c: BenchCase, scalar: CryptoHarness, simd: CryptoHarness): Row {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: c.bits, publicExponent: c.exponent });
  // A realistic JWS signing input (base64url header "." base64url payload).
  const header = Buffer.from(JSON.stringify({ alg: c.name.slice(0, 5), kid: "k1", typ: "JWT" })).toString("base64url");
  const payload = Buffer.from(JSON.stringify({ iss: "https://issuer.example", sub: "user-1234", aud: "api", exp: 2000000000, iat: 1700000000 })).toString("base64url");
  const message = Buffer.from(`${header}.${payload}`);
  const padding = c.pss ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
  const saltLength = { sha256: 32, sha384: 48, sha512: 64 }[c.hash];
  const signature = sign(c.hash, message, { key: privateKey, padding, saltLength });
  const key: KeyObject = createPublicKey(publicKey.export({ format: "pem", type: "spki" }));
  const jwk = key.export({ format: "jwk" });
  const modulus = Buffer.from(jwk.n ?? "", "base64url");
  const exponent = Buffer.from(jwk.e ?? "", "base64url");

  const nodeMicros = measure((iterations) => {
    for (let i = 0; i < iterations; i++) {
      if (!verify(c.hash, message, { key, padding, saltLength }, signature)) throw new Error(`node rejected ${c.name}`);
    }
  });
  const wasm = (harness: CryptoHarness): number => {
    const created = harness.rsaKey(modulus, exponent);
    if (!created.ok) throw new Error(created.error);
    return measure((iterations) => {
      const accepted = c.pss
        ? harness.rsaPssRepeat(created.handle, c.alg, message, signature, saltLength, iterations)
        : harness.rsaPkcs1v15Repeat(created.handle, c.alg, message, signature, iterations);
      if (accepted !== iterations) throw new Error(`wasm rejected ${c.name}`);
    });
  };
  const wasmMicros = wasm(scalar);
  const wasmSimdMicros = wasm(simd);
  return {
    case: c.name, keyBits: c.bits, nodeMicros, wasmMicros, wasmSimdMicros,
    ratio: wasmMicros / nodeMicros, ratioSimd: wasmSimdMicros / nodeMicros,
  };
}

async function main(): Promise<void> {
  const scalar = await loadCryptoHarness({ simd: false });
  const simd = await loadCryptoHarness({ simd: true });
  const rows = CASES.map((c) => benchCase(c, scalar, simd));
  const format = (value: number): string => value.toFixed(1);
  console.log("| case | key bits | node:crypto µs | wasm µs | ratio | wasm+simd µs | ratio |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(`| ${r.case} | ${r.keyBits} | ${format(r.nodeMicros)} | ${format(r.wasmMicros)} | ${r.ratio.toFixed(2)}× | ${format(r.wasmSimdMicros)} | ${r.ratioSimd.toFixed(2)}× |`);
  }
  const output = path.join(path.dirname(fileURLToPath(import.meta.url)), "crypto-rsa.json");
  writeFileSync(output, JSON.stringify({
    node: process.version,
    date: new Date().toISOString(),
    harnessBytes: { scalar: scalar.binarySize, simd: simd.binarySize },
    rows,
  }, null, 2) + "\n");
  console.log(`wrote ${output}`);
}

await main();

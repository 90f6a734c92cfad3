/**
 * RSA verify speed: the AssemblyScript library (filters/lib/crypto, compiled with the filter flags,
 * with and without `--enable simd`) against node:crypto (OpenSSL) on the same key, message and
 * signature. Time is process CPU time, with the contenders interleaved round by round, so that a
 * loaded machine skews all of them alike. Run: npx tsx bench/crypto-rsa.ts [--quick]. Prints a table, writes bench/crypto-rsa.json.
 */
import { constants, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import os from "node:os";
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
const ROUNDS = quick ? 5 : 15;
const ROUND_MS = quick ? 60 : 150;

/** CPU time (user + system) of one call of `run`, in µs: steadier than wall time on a shared machine. */
function cpuMicros(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/** Iterations that make one round last about ROUND_MS of CPU time. */
function calibrate(run: (iterations: number) => void): number {
  let iterations = 4;
  for (;;) {
    const micros = cpuMicros(() => run(iterations));
    if (micros > 20_000) return Math.max(1, Math.round((iterations * ROUND_MS * 1000) / micros));
    iterations *= 2;
  }
}

interface Stats {
  readonly median: number;
  readonly min: number;
}

/**
 * Runs the contenders in interleaved rounds (so load changes hit all of them alike) and returns,
 * per contender, the median and minimum µs per call over the rounds.
 */
function measureInterleaved(contenders: readonly ((iterations: number) => void)[]): Stats[] {
  const iterations = contenders.map(calibrate);
  const samples: number[][] = contenders.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    contenders.forEach((run, index) => {
      samples[index].push(cpuMicros(() => run(iterations[index])) / iterations[index]);
    });
  }
  return samples.map((values) => {
    const sorted = [...values].sort((x, y) => x - y);
    return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0] };
  });
}

interface Row {
  readonly case: string;
  readonly keyBits: number;
  readonly node: Stats;
  readonly wasm: Stats;
  readonly wasmSimd: Stats;
  /** wasm median / node median. */
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

  const nodeRun = (iterations: number): void => {
    for (let i = 0; i < iterations; i++) {
      if (!verify(c.hash, message, { key, padding, saltLength }, signature)) throw new Error(`node rejected ${c.name}`);
    }
  };
  const wasmRun = (harness: CryptoHarness): ((iterations: number) => void) => {
    const created = harness.rsaKey(modulus, exponent);
    if (!created.ok) throw new Error(created.error);
    return (iterations: number): void => {
      const accepted = c.pss
        ? harness.rsaPssRepeat(created.handle, c.alg, message, signature, saltLength, iterations)
        : harness.rsaPkcs1v15Repeat(created.handle, c.alg, message, signature, iterations);
      if (accepted !== iterations) throw new Error(`wasm rejected ${c.name}`);
    };
  };
  const [node, wasm, wasmSimd] = measureInterleaved([nodeRun, wasmRun(scalar), wasmRun(simd)]);
  return {
    case: c.name, keyBits: c.bits, node, wasm, wasmSimd,
    ratio: wasm.median / node.median, ratioSimd: wasmSimd.median / node.median,
  };
}

async function main(): Promise<void> {
  const scalar = await loadCryptoHarness({ simd: false });
  const simd = await loadCryptoHarness({ simd: true });
  const rows = CASES.map((c) => benchCase(c, scalar, simd));
  const format = (stats: Stats): string => `${stats.median.toFixed(1)} (${stats.min.toFixed(1)})`;
  console.log(`µs of CPU per verify, median (min) over ${ROUNDS} interleaved rounds; ratio = wasm median / node median`);
  console.log("| case | key bits | node:crypto | wasm (scalar) | ratio | wasm --enable simd | ratio |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(`| ${r.case} | ${r.keyBits} | ${format(r.node)} | ${format(r.wasm)} | ${r.ratio.toFixed(2)}× | ${format(r.wasmSimd)} | ${r.ratioSimd.toFixed(2)}× |`);
  }
  const output = path.join(path.dirname(fileURLToPath(import.meta.url)), "crypto-rsa.json");
  writeFileSync(output, JSON.stringify({
    node: process.version,
    v8: process.versions.v8,
    date: new Date().toISOString(),
    unit: "µs of process CPU time per verify (median and min over interleaved rounds)",
    loadAverage: os.loadavg(),
    harnessBytes: { scalar: scalar.binarySize, simd: simd.binarySize },
    rows,
  }, null, 2) + "\n");
  console.log(`wrote ${output}`);
}

await main();

/**
 * µs per signature verification: the AssemblyScript ECDSA / Ed25519 code (compiled harness,
 * same asc options as the filters) against node:crypto (OpenSSL) verifying the same signature.
 * Keys are prepared once on both sides (a KeyObject for node, a key handle for wasm), as the
 * jwt-auth filter does with its JWKS. Rounds alternate wasm and node so that load from other
 * processes on the machine hits both alike; the median round (of process CPU time) is reported.
 *
 *   npx tsx bench/crypto-ec.ts            # prints a table, writes bench/crypto-ec.json
 */
import { generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EcHarness, compileEcHarness } from "../test/fixtures/crypto/ec-harness-loader.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = 9;
const TARGET_ROUND_MS = 150;

interface Case {
  readonly name: string;
  readonly targetRatio: number | null;
  readonly node: (iterations: number) => void;
  readonly wasm: (iterations: number) => void;
}

interface Row {
  readonly case: string;
  readonly nodeMicros: number;
  readonly wasmMicros: number;
  readonly ratio: number;
  readonly targetRatio: number | null;
  readonly meetsTarget: boolean | null;
}

/**
 * µs of process CPU time (user + system) per iteration. CPU time rather than wall time: the
 * machine is shared, and time spent descheduled says nothing about either implementation.
 */
function microsPer(fn: (iterations: number) => void, iterations: number): number {
  const start = process.cpuUsage();
  fn(iterations);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Iterations that take about TARGET_ROUND_MS, from a short calibration run. */
function calibrate(fn: (iterations: number) => void): number {
  fn(3); // warm-up: tier-up, lazy tables
  const once = microsPer(fn, 5);
  return Math.max(5, Math.round((TARGET_ROUND_MS * 1000) / once));
}

function measure(c: Case): Row {
  const nodeIterations = calibrate(c.node);
  const wasmIterations = calibrate(c.wasm);
  const nodeRounds: number[] = [];
  const wasmRounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    nodeRounds.push(microsPer(c.node, nodeIterations));
    wasmRounds.push(microsPer(c.wasm, wasmIterations));
  }
  const nodeMicros = median(nodeRounds);
  const wasmMicros = median(wasmRounds);
  const ratio = wasmMicros / nodeMicros;
  return {
    case: c.name,
    nodeMicros,
    wasmMicros,
    ratio,
    targetRatio: c.targetRatio,
    meetsTarget: c.targetRatio === null ? null : ratio <= c.targetRatio,
  };
}

function ecCase(harness: EcHarness, name: string, curve: "P-256" | "P-384", hash: string, targetRatio: number | null): Case {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
  const jwk = publicKey.export({ format: "jwk" });
  const key = harness.ecKey(curve === "P-256" ? 0 : 1, Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url"));
  if (typeof key === "string") throw new Error(key);
  // A JWS signing input of typical size (header.payload, ~300 bytes).
  const message = Buffer.from("eyJhbGciOiJFUzI1NiJ9." + "x".repeat(280));
  const signature = sign(hash, message, { key: privateKey, dsaEncoding: "ieee-p1363" });
  harness.put(2, message);
  harness.put(3, signature);
  return {
    name,
    targetRatio,
    node: (iterations) => nodeLoop(iterations, () => verify(hash, message, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)),
    wasm: (iterations) => {
      harness.put(2, message);
      harness.put(3, signature);
      if (harness.exports.ecVerify(key, iterations) !== 1) throw new Error(`${name}: wasm rejected a valid signature`);
    },
  };
}

function edCase(harness: EcHarness, targetRatio: number): Case {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const key = harness.edKey(Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url"));
  if (typeof key === "string") throw new Error(key);
  const message = Buffer.from("eyJhbGciOiJFZERTQSJ9." + "x".repeat(280));
  const signature = sign(null, message, privateKey);
  return {
    name: "EdDSA (Ed25519)",
    targetRatio,
    node: (iterations) => nodeLoop(iterations, () => verify(null, message, publicKey as KeyObject, signature)),
    wasm: (iterations) => {
      harness.put(2, message);
      harness.put(3, signature);
      if (harness.exports.edVerify(key, iterations) !== 1) throw new Error("EdDSA: wasm rejected a valid signature");
    },
  };
}

function nodeLoop(iterations: number, verifyOnce: () => boolean): void {
  for (let i = 0; i < iterations; i++) if (!verifyOnce()) throw new Error("node:crypto rejected a valid signature");
}

interface SetupRow {
  readonly what: string;
  readonly micros: number;
}

/**
 * One-off costs on a fresh instance: the first key of a curve (validation, per-key tables and the
 * curve's fixed-base tables, all in cold code), the first verify after it, and further key loads.
 */
async function setupCosts(binary: Uint8Array): Promise<SetupRow[]> {
  const rows: SetupRow[] = [];
  const message = Buffer.from("setup");
  const timeOnce = (fn: () => void) => {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1000;
  };
  for (const [what, curve, hash] of [["P-256", 0, "sha256"], ["P-384", 1, "sha384"]] as const) {
    const pair = generateKeyPairSync("ec", { namedCurve: what });
    const jwk = pair.publicKey.export({ format: "jwk" });
    const x = Buffer.from(jwk.x!, "base64url");
    const y = Buffer.from(jwk.y!, "base64url");
    const fresh = await EcHarness.fromBinary(binary);
    let key = -1;
    rows.push({ what: `${what}: first EcPublicKey.fromCoordinates (+ fixed-base G tables)`, micros: timeOnce(() => (key = fresh.ecKey(curve, x, y) as number)) });
    const sig = sign(hash, message, { key: pair.privateKey, dsaEncoding: "ieee-p1363" });
    rows.push({ what: `${what}: first verify after it (cold code)`, micros: timeOnce(() => fresh.ecVerify(key, message, sig)) });
    const loads: number[] = [];
    for (let i = 0; i < 30; i++) loads.push(timeOnce(() => fresh.ecKey(curve, x, y)));
    rows.push({ what: `${what}: further EcPublicKey.fromCoordinates (validation + Q tables), median`, micros: median(loads) });
  }
  const ed = generateKeyPairSync("ed25519");
  const edX = Buffer.from(ed.publicKey.export({ format: "jwk" }).x!, "base64url");
  const fresh = await EcHarness.fromBinary(binary);
  let edKey = -1;
  rows.push({ what: "Ed25519: first Ed25519PublicKey.fromBytes (+ fixed-base B table)", micros: timeOnce(() => (edKey = fresh.edKey(edX) as number)) });
  const edSig = sign(null, message, ed.privateKey);
  rows.push({ what: "Ed25519: first verify after it (cold code)", micros: timeOnce(() => fresh.edVerify(edKey, message, edSig)) });
  const loads: number[] = [];
  for (let i = 0; i < 30; i++) loads.push(timeOnce(() => fresh.edKey(edX)));
  rows.push({ what: "Ed25519: further Ed25519PublicKey.fromBytes (decode + A table), median", micros: median(loads) });
  return rows;
}

async function main(): Promise<void> {
  const binary = await compileEcHarness();
  const setup = await setupCosts(binary);
  const harness = await EcHarness.fromBinary(binary);
  const cases = [
    ecCase(harness, "ES256 (P-256)", "P-256", "sha256", 3),
    ecCase(harness, "ES384 (P-384)", "P-384", "sha384", null),
    edCase(harness, 3),
  ];
  const rows = cases.map(measure);
  console.log(`harness module: ${binary.length} bytes (asconfig.json portable target: wasmesh runtime, no SIMD)`);
  console.log("| case | node:crypto µs | wasm µs | ratio | target |");
  console.log("| --- | ---: | ---: | ---: | --- |");
  for (const r of rows) {
    const target = r.targetRatio === null ? "reported" : `≤ ${r.targetRatio}× ${r.meetsTarget ? "met" : "MISSED"}`;
    console.log(`| ${r.case} | ${r.nodeMicros.toFixed(1)} | ${r.wasmMicros.toFixed(1)} | ${r.ratio.toFixed(2)}× | ${target} |`);
  }
  console.log("");
  console.log("| one-off cost (wasm) | µs |");
  console.log("| --- | ---: |");
  for (const r of setup) console.log(`| ${r.what} | ${r.micros.toFixed(0)} |`);
  const out = {
    node: process.version,
    date: new Date().toISOString(),
    rounds: ROUNDS,
    harnessBytes: binary.length,
    rows,
    setup,
  };
  writeFileSync(path.join(here, "crypto-ec.json"), JSON.stringify(out, null, 2) + "\n");
}

await main();

/**
 * Benchmark: pushWasmImage of every built filter (build/filters/*.wasm) to a local CNCF distribution
 * registry (/usr/bin/docker-registry on loopback, started here), both image formats.
 * Each measured push goes to a fresh repository so every blob is really uploaded (distribution links
 * blobs per repository); a separate row measures a re-push where the registry already has the blobs.
 * Prints a table and writes bench/push.json. Usage: node --import tsx bench/push.ts [runs]
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PushResult, pushWasmImage } from '../deployer/src/oci/push.js';
import { startRegistry } from '../test/support/registry.js';

const STEPS = ['inspect', 'pack', 'blobs', 'manifest'] as const;
const FORMATS = ['compat', 'oci'] as const;
const runs = Number(process.argv[2] ?? process.env.BENCH_PUSH_RUNS ?? 15);
if (!Number.isInteger(runs) || runs < 3) throw new Error(`runs "${process.argv[2]}" is invalid: expected an integer >= 3`);

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const filterDir = path.join(root, 'build', 'filters');
const filters = readdirSync(filterDir)
  .filter((file) => file.endsWith('.wasm') && !file.endsWith('.debug.wasm'))
  .sort()
  .map((file) => ({ name: path.basename(file, '.wasm'), wasm: new Uint8Array(readFileSync(path.join(filterDir, file))) }));
if (filters.length === 0) throw new Error(`no built filters in ${filterDir}: run npm run build first`);

interface Row {
  readonly filter: string;
  readonly format: string;
  readonly mode: 'fresh' | 'repush';
  readonly sizeBytes: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  /** Median share of total push time per step (0-1). */
  readonly share: Readonly<Record<string, number>>;
  readonly bytesUploaded: number;
}

const median = (values: readonly number[]): number => quantile(values, 0.5);
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

function summarize(filter: string, format: string, mode: Row['mode'], sizeBytes: number, results: readonly PushResult[]): Row {
  const totals = results.map((result) => result.timings.total!);
  const share: Record<string, number> = {};
  for (const step of STEPS) share[step] = median(results.map((result) => result.timings[step]! / result.timings.total!));
  share.other = median(results.map((result) => 1 - STEPS.reduce((sum, step) => sum + result.timings[step]!, 0) / result.timings.total!));
  return { filter, format, mode, sizeBytes, runs: results.length, medianMs: median(totals), p90Ms: quantile(totals, 0.9), share, bytesUploaded: results[0]!.bytesUploaded };
}

const registry = await startRegistry();
const rows: Row[] = [];
try {
  for (const { name, wasm } of filters) {
    for (const format of FORMATS) {
      const repository = (i: number): string => `${registry.host}/bench/${name}-${format}-${i}:v1`;
      await pushWasmImage({ wasm, reference: repository(-1), format }); // warm-up (JIT, connection pool)
      const fresh: PushResult[] = [];
      for (let i = 0; i < runs; i += 1) fresh.push(await pushWasmImage({ wasm, reference: repository(i), format }));
      rows.push(summarize(name, format, 'fresh', wasm.byteLength, fresh));
      const repush: PushResult[] = [];
      for (let i = 0; i < runs; i += 1) repush.push(await pushWasmImage({ wasm, reference: repository(0), format }));
      rows.push(summarize(name, format, 'repush', wasm.byteLength, repush));
    }
  }
} finally {
  await registry.stop();
}

const pct = (value: number | undefined): string => `${((value ?? 0) * 100).toFixed(1)}%`;
const header = ['filter', 'format', 'mode', 'size', 'median ms', 'p90 ms', 'inspect', 'pack', 'blobs', 'manifest', 'other', 'uploaded'];
const table = rows.map((row) => [
  row.filter, row.format, row.mode, `${row.sizeBytes}`, row.medianMs.toFixed(2), row.p90Ms.toFixed(2),
  pct(row.share.inspect), pct(row.share.pack), pct(row.share.blobs), pct(row.share.manifest), pct(row.share.other), `${row.bytesUploaded}`,
]);
const widths = header.map((title, index) => Math.max(title.length, ...table.map((cells) => cells[index]!.length)));
const line = (cells: readonly string[]): string => cells.map((cell, index) => cell.padStart(widths[index]!)).join('  ');
console.log(`pushWasmImage to docker-registry on loopback, ${runs} runs per row (median, p90; share of total per step)`);
console.log(line(header));
for (const cells of table) console.log(line(cells));

const output = {
  benchmark: 'push',
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAverage1m: os.loadavg()[0], node: process.version },
  registry: 'docker-registry (CNCF distribution) on 127.0.0.1, filesystem storage',
  runsPerRow: runs,
  rows,
};
writeFileSync(path.join(root, 'bench', 'push.json'), `${JSON.stringify(output, null, 2)}\n`);
console.log('wrote bench/push.json');

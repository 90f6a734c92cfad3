/**
 * `npm run bench`: runs every benchmark in this folder one after another (each in its own
 * process, so one's heap and JIT state don't skew the next), lets each print its table, and
 * merges the JSON files they write into bench/results.json.
 *
 * Usage: npm run bench [-- <name> ...]   e.g. npm run bench -- host rbac
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(benchDir);

/** Each benchmark: its script and the JSON file it writes. Ordered cheapest first. */
const BENCHMARKS = [
  { name: 'host', script: 'host.ts', output: 'host.json', issue: 'foundation' },
  { name: 'sidecar', script: 'sidecar.ts', output: 'sidecar.json', issue: 'foundation' },
  { name: 'crypto-rsa', script: 'crypto-rsa.ts', output: 'crypto-rsa.json', issue: 'jwt-auth' },
  { name: 'crypto-ec', script: 'crypto-ec.ts', output: 'crypto-ec.json', issue: 'jwt-auth' },
  { name: 'jwt-auth', script: 'jwt-auth.ts', output: 'jwt-auth.json', issue: 'jwt-auth' },
  { name: 'rbac', script: 'rbac.ts', output: 'rbac.json', issue: 'rbac' },
  { name: 'metrics', script: 'metrics.ts', output: 'metrics.json', issue: 'metrics' },
  { name: 'header-router', script: 'header-router.ts', output: 'header-router.json', issue: 'header-router' },
  { name: 'push', script: 'push.ts', output: 'push.json', issue: 'deployer' },
  { name: 'control-plane', script: 'control-plane.ts', output: 'control-plane.json', issue: 'control plane' },
] as const;

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!BENCHMARKS.some((b) => b.name === name)) {
    console.error(`unknown benchmark "${name}": expected one of ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
}

const results: Record<string, unknown> = {};
const failures: string[] = [];
for (const bench of BENCHMARKS) {
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
  const script = path.join(benchDir, bench.script);
  if (!existsSync(script)) {
    failures.push(`${bench.name}: ${bench.script} missing`);
    continue;
  }
  console.log(`\n=== ${bench.name} (${bench.issue}) ===`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', script], { cwd: root, stdio: 'inherit' });
  const outFile = path.join(benchDir, bench.output);
  if (run.status !== 0 || !existsSync(outFile)) {
    failures.push(`${bench.name}: exited ${run.status ?? run.signal}`);
    continue;
  }
  results[bench.name] = JSON.parse(readFileSync(outFile, 'utf8'));
}

const summary = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  results,
  failures,
};
writeFileSync(path.join(benchDir, 'results.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`\nwrote bench/results.json (${Object.keys(results).length} benchmarks${failures.length ? `; failed: ${failures.join('; ')}` : ''})`);
if (failures.length > 0) process.exitCode = 1;

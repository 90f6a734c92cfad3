/**
 * `deployer run` throughput on loopback: requests/s through the local sidecar with no filters and
 * with the example chain (workers: 2, one wasm VM per worker), against the upstream alone as a
 * reference. The sidecar and the upstream share this process's event loop (the sidecar is
 * single-threaded, as `deployer run` is); autocannon generates load from a worker thread.
 *
 *   npx tsx bench/sidecar.ts [--duration 5] [--connections 32]   # prints a table, writes bench/sidecar.json
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { validateSidecarConfig } from '../deployer/src/sidecar/config/validate.js';
import { startSidecar, type RunningSidecar } from '../deployer/src/sidecar/sidecar.js';
import { numberOption } from './options.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);

const DURATION_S = numberOption('duration', 4, false);
const CONNECTIONS = numberOption('connections', 32);
/** Measured rounds per case, interleaved (no filters, example, no filters, ...): median reported. */
const ROUNDS = numberOption('rounds', 3);
const WARMUP_S = numberOption('warmup', 2, false);

interface Row {
  readonly case: string;
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

async function load(url: string, name: string, duration = DURATION_S): Promise<Row> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration, workers: 1 });
  return {
    case: name,
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function startUpstream(): Promise<{ url: string; close: () => Promise<void> }> {
  const body = JSON.stringify({ ok: true, service: 'bench-upstream' });
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

async function sidecarWith(upstreamUrl: string, filters: readonly Record<string, unknown>[]): Promise<RunningSidecar> {
  const config = validateSidecarConfig({
    listen: '127.0.0.1:0', admin: '127.0.0.1:0', workers: 2, filters,
    clusters: { app: upstreamUrl }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
  }, { source: 'bench/sidecar.ts', baseDir: root });
  return startSidecar(config, { accessLog: () => undefined, onLog: () => undefined });
}

/** The round with the median throughput: robust to one round disturbed by the machine. */
function median(rounds: readonly Row[]): Row {
  const sorted = [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const upstream = await startUpstream();
const rows: Row[] = [];
try {
  rows.push(await load(`${upstream.url}/`, 'upstream alone (reference)'));
  // Both sidecars run side by side and are warmed up first; the measured rounds then alternate,
  // so JIT warm-up and machine drift don't favour whichever case runs later.
  const bare = await sidecarWith(upstream.url, []);
  const chained = await sidecarWith(upstream.url, [{
    name: 'example', root_id: 'example',
    vm_config: { code: { local: { filename: 'build/filters/example.wasm' } } },
    configuration: { response_headers: { 'x-wasmesh-example': 'hello' } },
  }]);
  try {
    await load(`${bare.url}/`, 'warm-up', WARMUP_S);
    await load(`${chained.url}/`, 'warm-up', WARMUP_S);
    const bareRounds: Row[] = [];
    const chainedRounds: Row[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bareRounds.push(await load(`${bare.url}/`, 'deployer run, no filters'));
      chainedRounds.push(await load(`${chained.url}/`, 'deployer run, example chain'));
    }
    rows.push(median(bareRounds), median(chainedRounds));
  } finally {
    await bare.close();
    await chained.close();
  }
} finally {
  await upstream.close();
}

const noFilters = rows[1]!.requestsPerSecond;
const example = rows[2]!.requestsPerSecond;
const ratio = noFilters > 0 ? example / noFilters : 0;
const pad = (s: string, n: number) => s.padEnd(n);
process.stdout.write(`deployer run throughput on loopback (${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${DURATION_S}s rounds after ${WARMUP_S}s warm-up, ${os.cpus().length} cores)\n`);
process.stdout.write(`${pad('case', 32)}${pad('req/s', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('non-2xx', 9)}errors\n`);
for (const r of rows) {
  process.stdout.write(`${pad(r.case, 32)}${pad(String(r.requestsPerSecond), 10)}${pad(String(r.latencyP50Ms), 9)}${pad(String(r.latencyP99Ms), 9)}${pad(String(r.non2xx), 9)}${r.errors}\n`);
}
process.stdout.write(`example chain / no filters: ${ratio.toFixed(3)}\n`);
writeFileSync(path.join(here, 'sidecar.json'), JSON.stringify({
  benchmark: 'sidecar-throughput',
  date: new Date().toISOString(),
  node: process.version,
  cores: os.cpus().length,
  connections: CONNECTIONS,
  durationSeconds: DURATION_S,
  rows,
  exampleOverNoFiltersRatio: Number(ratio.toFixed(3)),
}, null, 2) + '\n');

/**
 * metrics filter benchmark (`npm run bench -- metrics`): CPU µs per request added by the BUILT
 * build/filters/metrics.wasm (Istio's standard metrics, default configuration, inbound, a
 * metadata-exchanging peer), measured
 *  - through the wasmesh host (request headers, response headers, proxy_on_log) minus a no-op
 *    filter chain, as bench/rbac.ts does — the filter's work including the host calls it makes;
 *  - filter only, with a minimal in-bench host answering from pre-built values;
 * plus the VM's memory after 100,000 distinct label values (the cardinality guard at its default
 * 10,000 series) and the module size. Targets: ≤ 3 µs per request, module ≤ 100 KB.
 * Options: --requests <n> (default 100000), --rounds <n> (default 5), --wasm <file>, --filter-only,
 * --baseline <file> (another build of the filter measured in the same interleaved rounds: a
 * before/after pair whose ratio machine load does not skew),
 * --host-only [--case none|noop|metrics] (one through-host case alone: a profiling loop, or an
 * instruction count under `valgrind --tool=callgrind` — two request counts, subtracted).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FilterChain, HeaderList, NodeInfo, StreamCompletion, StreamInfo } from '../deployer/src/host/api.js';
import { StructType, encode, toStruct } from '../deployer/src/host/abi/proto.js';
import { createProxyWasmHost } from '../deployer/src/host/host.js';
import { numberOption, stringOption } from './options.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** --wasm <file>: measure another build (e.g. one with a names section, for profiling). */
const wasmFile = path.resolve(stringOption('wasm') ?? path.join(root, 'build', 'filters', 'metrics.wasm'));
/** --filter-only: only the stub-host figure (a quick A/B or profiling loop). */
const FILTER_ONLY = process.argv.includes('--filter-only');
/** --host-only: only the through-host metrics case (a profiling loop, e.g. under node --cpu-prof). */
const HOST_ONLY = process.argv.includes('--host-only');
const noopWasmFile = path.join(root, 'build', 'filters', 'example.wasm');
const baselineOption = stringOption('baseline');
const baselineFile = baselineOption === null ? null : path.resolve(baselineOption);
const REQUESTS = numberOption('requests', 100_000);
const ROUNDS = numberOption('rounds', 5);
const DISTINCT = 100_000;
const TARGET_MICROS = 3;

const nodes = JSON.parse(readFileSync(path.join(root, 'test', 'fixtures', 'metrics', 'nodes.json'), 'utf8')) as Record<string, NodeInfo>;
const local = nodes.reviews!;
const peer = nodes.productpage!;
const peerHeaders: HeaderList = [
  ['x-envoy-peer-metadata-id', peer.id],
  ['x-envoy-peer-metadata', Buffer.from(encode(StructType, toStruct(peer.metadata))).toString('base64')],
];
const info: StreamInfo = {
  connection: {
    id: 1, sourceAddress: '10.0.0.7', sourcePort: 40000, destinationAddress: '10.0.0.9', destinationPort: 9080,
    tls: { peerCertificate: { uriSans: ['spiffe://cluster.local/ns/default/sa/bookinfo-productpage'], dnsSans: [], subject: '' } },
  },
  protocol: 'HTTP/1.1',
  startTime: new Date(),
};
const requestHeaders = (extra: HeaderList = []): HeaderList => [
  [':method', 'GET'], [':path', '/reviews/1'], [':authority', 'reviews.bookinfo.svc.cluster.local:9080'], [':scheme', 'http'],
  ['user-agent', 'bench'], ['accept', '*/*'], ...peerHeaders, ...extra,
];
const RESPONSE: HeaderList = [[':status', '200'], ['content-type', 'application/json'], ['content-length', '120']];
const DONE: StreamCompletion = { responseCode: 200, responseCodeDetails: 'via_upstream', responseFlags: '-', bytesReceived: 0, bytesSent: 120, clusterName: 'inbound|9080||' };

function best(values: readonly number[]): number {
  return Math.min(...values);
}

async function chain(wasm: string | null, rootId = 'metrics'): Promise<{ chain: FilterChain; pages: () => number }> {
  const host = createProxyWasmHost({ logLevel: 'warn', onLog: () => undefined, node: local, listenerDirection: 'INBOUND' });
  if (wasm === null) return { chain: host.newFilterChain([]), pages: () => 0 };
  const name = rootId;
  const configuration = '{}';
  const plugin = await host.loadPlugin({ name, rootId: name, wasm: new Uint8Array(readFileSync(wasm)), failOpen: false, configuration });
  return { chain: host.newFilterChain([plugin]), pages: () => plugin.instances[0]?.vm.pages ?? 0 };
}

async function stream(c: FilterChain, headers: HeaderList): Promise<void> {
  const s = c.newStream(info);
  await s.requestHeaders(headers, true);
  await s.responseHeaders(RESPONSE, true);
  s.complete(DONE);
}

/** CPU µs per request (user + system of this process: the machine is shared, wall time is not ours). */
async function cpuMicros(c: FilterChain, n: number): Promise<number> {
  const headers = requestHeaders();
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) await stream(c, headers);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

async function throughHost(): Promise<{ none: number; noop: number; metrics: number; baseline: number | null }> {
  const cases: Record<string, FilterChain> = { none: (await chain(null)).chain, noop: (await chain(noopWasmFile, 'example')).chain, metrics: (await chain(wasmFile)).chain };
  if (baselineFile !== null) cases.baseline = (await chain(baselineFile)).chain;
  const keys = Object.keys(cases);
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]]));
  for (const k of keys) await cpuMicros(cases[k]!, Math.min(20_000, REQUESTS));
  // Interleaved rounds: machine load hits every case alike.
  for (let round = 0; round < ROUNDS; round++) for (const k of keys) samples[k]!.push(await cpuMicros(cases[k]!, REQUESTS));
  return { none: best(samples.none!), noop: best(samples.noop!), metrics: best(samples.metrics!), baseline: samples.baseline ? best(samples.baseline) : null };
}

/**
 * The filter alone: a minimal host whose imports answer from prepared bytes (no header map
 * serialization, no property resolution), so what remains is the module's work and the JS↔wasm
 * calls it makes.
 */
class StubHost {
  private readonly exports: Record<string, (...a: number[]) => number>;
  private readonly memory: WebAssembly.Memory;
  private readonly properties = new Map<string, Uint8Array>();
  private readonly requestHeaders = new Map<string, Uint8Array>();
  private nextContext = 2;
  private nextMetric = 4;
  private readonly pathNames = new Map<number, string>();

  constructor(module: WebAssembly.Module, configuration: string) {
    const enc = new TextEncoder();
    const config = enc.encode(configuration);
    const int64 = (n: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, BigInt(n), true); return b; };
    const props: Array<[string, Uint8Array]> = [
      ['plugin_root_id', enc.encode('metrics')], ['listener_direction', int64(1)], ['node\0id', enc.encode(local.id)],
      ['node\0metadata', encode(StructType, toStruct(local.metadata))], ['response\0code', int64(200)], ['response\0flags', int64(0)],
      ['request\0headers\0content-type', new Uint8Array(0)], ['request\0host', enc.encode('reviews.bookinfo.svc.cluster.local:9080')],
      ['cluster_name', enc.encode('inbound|9080||')], ['connection_id', int64(info.connection.id)], ['connection\0uri_san_peer_certificate', enc.encode(info.connection.tls!.peerCertificate!.uriSans[0]!)],
      ['connection\0mtls', Uint8Array.of(1)], ['request\0duration', int64(3_000_000)], ['request\0total_size', int64(380)], ['response\0total_size', int64(180)],
    ];
    for (const [k, v] of props) this.properties.set(k, v);
    for (const [k, v] of peerHeaders) this.requestHeaders.set(k, enc.encode(v));
    // Views of the module's memory, renewed only when it grew (growth detaches the old buffer,
    // whose views then read 0 bytes long): `memory.buffer` is not free to read on every call.
    let u8 = new Uint8Array(0);
    let view = new DataView(new ArrayBuffer(0));
    const mem = (): Uint8Array => {
      if (u8.byteLength === 0) {
        u8 = new Uint8Array(this.memory.buffer);
        view = new DataView(this.memory.buffer);
      }
      return u8;
    };
    const dv = (): DataView => (mem(), view);
    const copyOut = (bytes: Uint8Array, ptrPtr: number, sizePtr: number): number => {
      const ptr = bytes.length === 0 ? 0 : this.exports.proxy_on_memory_allocate!(bytes.length);
      if (bytes.length > 0) mem().set(bytes, ptr);
      dv().setUint32(ptrPtr, ptr, true);
      dv().setUint32(sizePtr, bytes.length, true);
      return 0;
    };
    const text = (ptr: number, len: number): string => {
      const key = ptr * 4096 + len;
      let name = this.pathNames.get(key);
      if (name === undefined) {
        name = new TextDecoder().decode(mem().subarray(ptr, ptr + len));
        if (this.pathNames.size < 256) this.pathNames.set(key, name);
      }
      return name;
    };
    const env: Record<string, (...a: number[]) => number> = {
      proxy_log: () => 0,
      proxy_get_log_level: (ptr) => { dv().setUint32(ptr, 2, true); return 0; },
      proxy_get_buffer_bytes: (_t, _s, _l, ptrPtr, sizePtr) => copyOut(config, ptrPtr, sizePtr),
      proxy_define_metric: (_t, _p, _l, idPtr) => { dv().setUint32(idPtr, this.nextMetric += 4, true); return 0; },
      proxy_increment_metric: () => 0,
      proxy_record_metric: () => 0,
      proxy_set_effective_context: () => 0,
      proxy_get_header_map_value: (type, kp, kl, ptrPtr, sizePtr) => {
        const value = type === 0 ? this.requestHeaders.get(text(kp, kl)) : undefined;
        return value === undefined ? 1 : copyOut(value, ptrPtr, sizePtr);
      },
      proxy_replace_header_map_value: () => 0,
      proxy_remove_header_map_value: () => 0,
      proxy_add_header_map_value: () => 0,
      proxy_get_property: (pp, pl, ptrPtr, sizePtr) => {
        const value = this.properties.get(text(pp, pl));
        return value === undefined ? 1 : copyOut(value, ptrPtr, sizePtr);
      },
    };
    const imports = WebAssembly.Module.imports(module).filter((i) => i.kind === 'function');
    const full = Object.fromEntries(imports.map((i) => [i.name, env[i.name] ?? (() => 0)]));
    const instance = new WebAssembly.Instance(module, { env: full, wasi_snapshot_preview1: full });
    this.exports = instance.exports as unknown as Record<string, (...a: number[]) => number>;
    this.memory = instance.exports['memory'] as WebAssembly.Memory;
    this.exports._initialize!();
    this.exports.proxy_on_context_create!(1, 0);
    this.exports.proxy_on_vm_start!(1, 0);
    if (this.exports.proxy_on_configure!(1, config.length) !== 1) throw new Error('stub host: configuration refused');
  }

  run(): void {
    const id = this.nextContext++;
    const e = this.exports;
    e.proxy_on_context_create!(id, 1);
    e.proxy_on_request_headers!(id, 8, 1);
    e.proxy_on_response_headers!(id, 3, 1);
    e.proxy_on_log!(id);
    e.proxy_on_done!(id);
    e.proxy_on_delete!(id);
  }
}

/** Best CPU µs per request of each module on the stub host, their rounds interleaved. */
function filterOnly(files: readonly string[]): number[] {
  const stubs = files.map((file) => new StubHost(new WebAssembly.Module(readFileSync(file)), '{}'));
  const round = (stub: StubHost, n: number) => {
    const cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) stub.run();
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / n;
  };
  for (const stub of stubs) round(stub, Math.min(20_000, REQUESTS));
  const samples = stubs.map(() => [] as number[]);
  for (let i = 0; i < ROUNDS * 2; i++) stubs.forEach((stub, k) => samples[k]!.push(round(stub, REQUESTS)));
  return samples.map(best);
}

/** 100,000 distinct values of a custom label: series stay at the guard, VM memory bounded. */
async function cardinality(): Promise<{ pages: number[]; series: number; overflow: number; memoryMiB: number }> {
  const config = JSON.stringify({ metrics: [{ tagOverrides: { user: { value: "request.headers['x-user']" } } }] });
  const host = createProxyWasmHost({ logLevel: 'warn', onLog: () => undefined, node: local, listenerDirection: 'INBOUND' });
  const plugin = await host.loadPlugin({ name: 'metrics', rootId: 'metrics', wasm: new Uint8Array(readFileSync(wasmFile)), failOpen: false, configuration: config });
  const c = host.newFilterChain([plugin]);
  const pages: number[] = [];
  for (let i = 0; i < DISTINCT; i++) {
    await stream(c, requestHeaders([['x-user', `user-${i}`]]));
    if ((i + 1) % 25_000 === 0) pages.push(plugin.instances[0]!.vm.pages);
  }
  const metrics = host.metrics();
  const series = metrics.filter((m) => m.name.endsWith(';.;istio_requests_total')).length;
  const overflow = metrics.find((m) => m.name === 'metric=.=istio_requests_total;.;wasmesh_metrics_overflow_total')?.value ?? 0;
  return { pages, series, overflow, memoryMiB: (pages[pages.length - 1]! * 65536) / 2 ** 20 };
}

async function main(): Promise<void> {
  if (HOST_ONLY) {
    const which = stringOption('case') ?? 'metrics';
    const wasm = which === 'none' ? null : which === 'noop' ? noopWasmFile : wasmFile;
    const c = (await chain(wasm, which === 'noop' ? 'example' : 'metrics')).chain;
    await cpuMicros(c, Math.min(20_000, REQUESTS));
    console.log(`${which}, through the host: ${(await cpuMicros(c, REQUESTS)).toFixed(2)} CPU µs/request`);
    return;
  }
  if (FILTER_ONLY) {
    const [only, baseline] = filterOnly(baselineFile === null ? [wasmFile] : [wasmFile, baselineFile]);
    console.log(`metrics, filter only (stub host): ${only!.toFixed(2)} CPU µs/request`);
    if (baseline !== undefined) console.log(`baseline ${baselineFile}, filter only (stub host): ${baseline.toFixed(2)} CPU µs/request (ratio ${(only! / baseline).toFixed(2)})`);
    return;
  }
  const host = await throughHost();
  const [only, baselineOnly] = filterOnly(baselineFile === null ? [wasmFile] : [wasmFile, baselineFile]) as [number, number | undefined];
  const guard = await cardinality();
  const size = statSync(wasmFile).size;
  const throughFilter = host.metrics - host.noop;
  console.log(`${path.relative(root, wasmFile)}: load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores; CPU µs per request, best of ${ROUNDS} interleaved rounds of ${REQUESTS}`);
  console.log('case                                   µs/request  filter µs  target  ok');
  const line = (name: string, value: number, filter: number | null, target: number | null) =>
    console.log(`${name.padEnd(38)} ${value.toFixed(2).padStart(10)} ${(filter === null ? '-' : filter.toFixed(2)).padStart(10)} ${(target === null ? '-' : `≤ ${target}`).padStart(7)}  ${target === null || filter === null ? '-' : filter <= target ? 'yes' : 'NO'}`);
  line('no filter (host only)', host.none, null, null);
  line('no-op filter (baseline)', host.noop, null, null);
  line('metrics, through the host', host.metrics, throughFilter, TARGET_MICROS);
  line('metrics, filter only (stub host)', only, only, TARGET_MICROS);
  if (host.baseline !== null && baselineOnly !== undefined) {
    line('baseline build, through the host', host.baseline, host.baseline - host.noop, null);
    line('baseline build, filter only', baselineOnly, baselineOnly, null);
    console.log(`baseline ${baselineFile}: this build / baseline = ${((host.metrics - host.noop) / (host.baseline - host.noop)).toFixed(2)} through the host (filter µs), ${(only / baselineOnly).toFixed(2)} filter only`);
  }
  console.log(`cardinality: ${DISTINCT} distinct values of a custom label → ${guard.series} istio_requests_total series (guard 10000 + overflow), overflow counter ${guard.overflow}`);
  console.log(`VM memory (pages of 64 KiB) after 25k/50k/75k/100k distinct values: ${guard.pages.join(' / ')} (${guard.memoryMiB.toFixed(1)} MiB)`);
  console.log(`module size: ${size} bytes (${(size / 1024).toFixed(1)} KiB; target ≤ 100 KB = 102400 bytes: ${size <= 102_400 ? 'yes' : 'NO'})`);
  writeFileSync(path.join(root, 'bench', 'metrics.json'), `${JSON.stringify({
    generatedAt: new Date().toISOString(), wasm: path.relative(root, wasmFile), requestsPerRound: REQUESTS, rounds: ROUNDS,
    unit: 'CPU µs per request (user+system), best round', loadAverage1m: os.loadavg()[0], cpus: os.cpus().length,
    throughHost: { ...host, filterMicros: throughFilter, target: TARGET_MICROS, meetsTarget: throughFilter <= TARGET_MICROS },
    filterOnly: { micros: only, target: TARGET_MICROS, meetsTarget: only <= TARGET_MICROS },
    ...(baselineFile !== null ? { baseline: { wasm: baselineFile, throughHostMicros: host.baseline, filterMicros: host.baseline! - host.noop, filterOnlyMicros: baselineOnly } } : {}),
    cardinality: { distinctValues: DISTINCT, ...guard },
    moduleBytes: size, moduleTargetBytes: 102_400, moduleMeetsTarget: size <= 102_400,
  }, null, 2)}\n`);
}

await main();
